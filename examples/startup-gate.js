'use strict';
/**
 * A service's startup gate: ask detect() what this kernel and process can do, log it, and decide
 * whether to start. By default the service starts either way (where the kernel cannot grant,
 * sections run on the simulator and cost a few ns); with REQUIRE_SLICE=1 it refuses to start
 * unless the kernel grants extensions, e.g. on a fleet where a host without them is a
 * misconfiguration to catch at deploy time.
 *
 *   node startup-gate.js
 *   REQUIRE_SLICE=1 node startup-gate.js
 *
 * Exit codes (from sysexits.h, so a service manager can tell them apart from a crash):
 *   0   started (here: ran its warm-up sections and stopped)
 *   69  EX_UNAVAILABLE: REQUIRE_SLICE=1 and the kernel cannot grant (the reason and remedy are printed)
 *   78  EX_CONFIG: REQUIRE_SLICE is not 0 or 1, or RSEQ_SLICE_BACKEND is invalid or forces `native`
 *       where the kernel cannot grant (open() would throw)
 */
const { detect, open } = require('rseq-slice');

const EX_UNAVAILABLE = 69;
const EX_CONFIG = 78;

function gate() {
  const required = process.env.REQUIRE_SLICE ?? '0';
  if (required !== '0' && required !== '1') {
    console.error(`startup-gate: REQUIRE_SLICE must be 0 or 1; got ${JSON.stringify(required)}`);
    return EX_CONFIG;
  }
  const d = detect(); // never throws: every failure is a reason
  const ext = d.sliceExtension;
  console.log(
    `platform: ${d.platform.os} ${d.platform.arch}, kernel ${d.platform.kernel}, ${d.platform.libc ?? 'libc unknown'}`,
  );
  console.log(`rseq area: ${d.rseq.registered ? `registered by ${d.rseq.owner}, ${d.rseq.mode}` : 'none'}`);
  console.log(`slice extension: ${ext.available ? 'available' : `not available${ext.errno ? ` (${ext.errno})` : ''}`}`);
  if (!ext.available) {
    console.log(`  reason: ${ext.reason}`);
    if (ext.remedy) console.log(`  remedy: ${ext.remedy}`);
  }
  if (d.backend === null) {
    // open() would throw with these settings: a deployment error, whatever REQUIRE_SLICE says.
    console.error(`startup-gate: ${d.backendError}`);
    return EX_CONFIG;
  }
  console.log(`backend: ${d.backend}`);
  if (!ext.available && required === '1') {
    console.error(`startup-gate: refusing to start (REQUIRE_SLICE=1): ${ext.reason}`);
    return EX_UNAVAILABLE;
  }
  if (!ext.available) console.log('starting anyway: sections run on the simulator, never extended');

  // The service proper would start here; this one runs a few sections and stops.
  const slice = open();
  let sum = 0;
  for (let i = 0; i < 1000; i++) sum += slice.run(() => i);
  const s = slice.stats;
  console.log(
    `started on the ${slice.backend} backend: ${s.sections} warm-up sections (sum ${sum}); ` +
      `clean ${s.clean}, yielded ${s.yielded}, raced ${s.raced}, revoked ${s.revoked}`,
  );
  return 0;
}

process.exitCode = gate();
