/**
 * Guest suite (glibc-off variant, pinned to CPU 1): examples/worker-pool-counters.js run as a user
 * runs it (`node examples/worker-pool-counters.js`, `require('rseq-slice')` resolving to this
 * package by its own name), on a kernel that grants. The example's workers and this process's
 * noise thread share the one CPU, so a wakeup lands inside a worker's locked section now and
 * then and the kernel grants it. Asserted: invariants only (exit 0, totals exact, the native
 * backend, outcomes adding up, the kernel's counters bounding ours), and that the kernel granted
 * the example's sections in one of a bounded number of runs: whether a preemption lands inside
 * a section is up to timing, so a run without a grant is repeated, as in test/vm/consumer.vm.ts.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type { SliceStats } from '../../lib';
import { outcomesAddUp, parseWorkerPool, type WorkerPoolOutput } from '../support/examples_output';
import { ROOT } from '../support/paths';
import { bootDescription, readStats, writeExtensionNsec, statsDelta, withNoise, type KernelStats } from './guest';

const EXAMPLE = path.join(ROOT, 'examples', 'worker-pool-counters.js');
const WORKERS = 4;
const INCREMENTS = Number(process.env.RSEQ_SLICE_VM_EXAMPLE_INCREMENTS ?? 50_000);
const ATTEMPTS = 5;

interface ExampleRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The example in a child process (its workers inherit this process's CPU mask: CPU 1). */
function runExample(): Promise<ExampleRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [EXAMPLE, String(WORKERS), String(INCREMENTS)], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.once('error', reject);
    child.once('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

function total(out: WorkerPoolOutput): SliceStats {
  const t: SliceStats = { sections: 0, clean: 0, yielded: 0, raced: 0, revoked: 0 };
  for (const w of out.workers) for (const k of Object.keys(t) as Array<keyof SliceStats>) t[k] += w.stats[k];
  return t;
}

describe(`guest, examples/worker-pool-counters.js: ${bootDescription()}`, function () {
  this.timeout(900_000);
  // slice_ext_nsec 50000 while the suite runs, as withLongExtension (test/vm/guest.ts): under TCG
  // the default 5 µs extension usually runs out before a section ends.
  let previousNsec = 5000;
  before(() => {
    previousNsec = writeExtensionNsec(50000);
  });
  after(() => {
    writeExtensionNsec(previousNsec);
  });

  it(`${WORKERS} workers × ${INCREMENTS} increments: exit 0, exact totals, the native backend, and grants to the example's sections`, async () => {
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const { r, k } = await withNoise(async (): Promise<{ r: ExampleRun; k: KernelStats }> => {
        const before = readStats();
        const run = await runExample();
        return { r: run, k: statsDelta(before, readStats()) };
      });
      expect(r.signal, r.stderr).to.equal(null);
      expect(r.status, `${r.stdout}\n${r.stderr}`).to.equal(0);
      const out = parseWorkerPool(r.stdout);
      const t = total(out);
      console.log(
        `      attempt ${attempt}: backend ${out.backend}, total ${out.total} of ${WORKERS * INCREMENTS}; sections ${t.sections}, ` +
          `clean ${t.clean}, yielded ${t.yielded}, raced ${t.raced}, revoked ${t.revoked}; debugfs sgrant ${k.sgrant}, ` +
          `syield ${k.syield}, srevok ${k.srevok}, sexpir ${k.sexpir}, sabort ${k.sabort}`,
      );

      // The example's own invariants: glibc's registration is off here, so open() in every worker
      // is the native backend, and every increment is counted under the lock.
      expect(out.backend).to.equal('native');
      expect(out).to.deep.include({ total: WORKERS * INCREMENTS, sumOfKeys: WORKERS * INCREMENTS, exact: true });
      expect(out.workers).to.have.lengthOf(WORKERS);
      for (const w of out.workers) {
        expect(w.stats.sections, `worker ${w.index}: one section per withLock()`).to.equal(INCREMENTS);
        expect(outcomesAddUp(w.stats), `worker ${w.index}: ${JSON.stringify(w.stats)}`).to.equal(true);
      }
      // The kernel's invariants (sources in test/vm/scenario.ts checkScenarioInvariants). Only the
      // example's workers open sections in the guest. Our yields answering 1 are syields, but not
      // necessarily all of them: a contended unlock wakes a waiter between clearing `request` and
      // reading `granted`, and a live grant then ends in that futex call (lib/extension.ts exitAround).
      expect(t.yielded, 'each yield that answered 1 is an syield').to.be.at.most(k.syield);
      expect(t.yielded + t.raced, 'yielded + raced <= sgrant').to.be.at.most(k.sgrant);
      expect(k.sgrant, 'sgrant >= syield + srevok + sabort').to.be.at.least(k.syield + k.srevok + k.sabort);
      expect(k.sexpir, 'at most one expiry per grant').to.be.at.most(k.sgrant);

      // A grant seen by the example's sections (granted is set only by a grant) is the point of
      // the run, not an invariant: repeated, bounded, when a run had none.
      if (t.yielded + t.raced > 0) return;
    }
    expect.fail(`no run of ${ATTEMPTS} had a grant in the example's sections (yielded + raced = 0 each time)`);
  });
});
