/**
 * Guest suite, glibc's registration off (GLIBC_TUNABLES=glibc.pthread.rseq=0): the addon's own
 * optimized registration, enable/disable, default-on, fork and workers, then the selftest
 * scenario with real grants on every path, checked against debugfs rseq/stats.
 */
import { expect } from 'chai';
import { addonState } from '../../lib/addon/addon';
import { detect, open } from '../../lib';
import {
  OFFSET_FLAGS,
  PR_RSEQ_SLICE_EXT_ENABLE,
  RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE,
  RSEQ_CS_FLAG_SLICE_EXT_ENABLED,
} from '../../lib/kernel/abi';
import type { DefaultOnWorker } from '../fixtures/default_on_worker';
import { DIST } from '../support/paths';
import { fixtureJson, inWorker } from '../support/child_node';
import { expectDetectLeftNoTrace, type DetectEffects } from '../fixtures/detect_effects';
import { bootDescription, withLongExtension } from './guest';
import { runScenario, runScenarioUntilYielded, type SectionPath } from './scenario';

const SECONDS = Number(process.env.RSEQ_SLICE_VM_SECONDS ?? 2);

function addon() {
  const a = addonState().addon;
  if (!a) throw new Error(`the addon did not load: ${addonState().error}`);
  return a;
}

describe(`guest, glibc registration off: ${bootDescription()}`, function () {
  this.timeout(600_000);
  const figures: string[] = [];

  // Deterministic ABI facts, each from the kernel source (Debian linux-source 7.2.13 / 7.3-rc7).
  it('the addon registers an optimized area: length >= 33, 64-aligned, AVAILABLE set by the kernel', () => {
    // kernel/rseq.c rseq_register: rseq_len > 32 selects the v2 ABI, and v2 with the extension
    // enabled at boot gets RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE written to flags.
    const d = detect();
    expect(d.rseq.owner).to.equal('addon');
    expect(d.rseq.mode).to.equal('optimized');
    expect(d.rseq.length).to.be.at.least(33);
    const info = addon().areaInfo(false);
    expect(info.alignment % 64).to.equal(0);
    expect(addon().readField(OFFSET_FLAGS)! & RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE).to.not.equal(0);
    expect(d.sliceExtension.available).to.equal(true);
    expect(d.backend).to.equal('native');
    expect(d.fastPath).to.equal('javascript');
  });

  it('detect() leaves no trace: no registration, GET and the flags word as before, no own area left', () => {
    // A fresh process (test/fixtures/detect_effects.ts): kernel/rseq.c rseq_unregister ->
    // rseq_reset() (include/linux/rseq.h) zeroes current->rseq, extension state included, so after
    // detect() released the area it registered, a new registration succeeds and GET answers 0
    // (rseq_slice_extension_prctl reads slice.state.enabled). With the extension disabled detect()
    // probes SET enable then disable: rseq_slice_extension_prctl clears ENABLED, keeps AVAILABLE and
    // sets ENABLED only when enabling, so the flags word and GET come back exactly.
    const r = fixtureJson<DetectEffects>('detect_effects.ts', []);
    expect(r.fresh).to.deep.equal({ ownAreas: 0, kernelRegistered: false, get: 0, flags: null });
    expectDetectLeftNoTrace(r);
    expect(r.openBackend).to.equal('native');
    // rseq_register with RSEQ_FLAG_SLICE_EXT_DEFAULT_ON: AVAILABLE and ENABLED, state enabled.
    expect(r.opened).to.deep.equal({
      ownAreas: 1,
      kernelRegistered: true,
      get: PR_RSEQ_SLICE_EXT_ENABLE,
      flags: RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE | RSEQ_CS_FLAG_SLICE_EXT_ENABLED,
    });
    expect(r.disabled).to.deep.equal({
      ownAreas: 1,
      kernelRegistered: true,
      get: 0,
      flags: RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE,
    });
    expect(r.detectAvailable, 'the SET probe succeeded').to.equal(true);
  });

  it('enable and disable toggle the ENABLED bit and prctl GET', () => {
    // kernel/rseq.c rseq_slice_extension_prctl: SET writes ENABLED into flags and slice.state.enabled,
    // GET answers from slice.state.enabled.
    const h = open({ backend: 'native', enable: false });
    h.disable();
    expect(h.enabled).to.equal(false);
    expect(addon().readField(OFFSET_FLAGS)! & RSEQ_CS_FLAG_SLICE_EXT_ENABLED).to.equal(0);
    h.enable();
    expect(h.enabled).to.equal(true);
    expect(h.flagsEnabled()).to.equal(true);
    h.disable();
    expect(h.enabled).to.equal(false);
    expect(h.flagsEnabled()).to.equal(false);
    h.enable();
  });

  it("open() with 'auto' picks native here and still refuses a bad simulator option, which it would not use", () => {
    // lib/options.ts reads every option before a backend is tried: the same error as on a kernel
    // that cannot grant. No kernel call happens before it, so nothing here depends on timing.
    expect(open().backend).to.equal('native');
    expect(() => open({ simulator: { seed: -1 } })).to.throw(RangeError, /^simulator\.seed must be/);
    expect(() => open({ simulator: { rate: 1 } as never })).to.throw(TypeError, /unknown option "rate"/);
  });

  it('a fork child keeps the enabled state', () => {
    // include/linux/rseq.h rseq_fork: without CLONE_VM the child copies the parent's rseq state.
    open({ backend: 'native' });
    expect(addon().diagnostics.forkProbe()).to.equal(3); // GET = 1 and ENABLED bit set in the child
  });

  it('a new worker starts disabled until it opens, and open() registers it with RSEQ_FLAG_SLICE_EXT_DEFAULT_ON', async () => {
    const r = await inWorker<DefaultOnWorker>('default_on_worker.ts', DIST);
    // include/linux/rseq.h rseq_fork: a CLONE_VM thread starts with its rseq state zeroed (GET 0);
    // kernel/rseq.c rseq_register: RSEQ_FLAG_SLICE_EXT_DEFAULT_ON sets ENABLED and enabled state.
    expect(r.before).to.equal(0);
    expect(r.defaultOn).to.equal(true);
    expect(r.flags).to.equal(RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE | RSEQ_CS_FLAG_SLICE_EXT_ENABLED);
    expect(r.enabled).to.equal(true);
  });

  describe('the selftest scenario: pinned to one CPU, a noise thread, real grants', () => {
    withLongExtension(figures, SECONDS);

    const cases: Array<[SectionPath, number, number]> = [
      ['native-loop', 2000, 0],
      ['native-loop', 50000, 0],
      ['javascript', 2000, 0],
      ['javascript', 50000, 0],
      ['native-call', 20000, 0],
      ['native-loop', 20000, 2],
      ['javascript', 20000, 2],
    ];
    for (const [p, spinNs, workers] of cases) {
      const label = `${p} path, ${spinNs / 1000} µs sections, ${workers ? `${workers} workers` : 'main thread'}`;
      it(label, async () => {
        await runScenarioUntilYielded(label, () => runScenario(p, spinNs, SECONDS, workers), workers || 1, figures);
      });
    }
  });
});
