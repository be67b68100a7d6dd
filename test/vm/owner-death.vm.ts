/**
 * Guest suite (debug variant, rseq_debug=1, unpinned so that workers spread over the guest's 2
 * CPUs): the owner-death stress run (test/fixtures/owner_death_stress.ts) on the real kernel, with
 * the workers' mutexes on the default handle (here the native backend, with real grants) and on an
 * explicit open({ backend: 'native' }) handle. Workers are terminated at random moments, in and
 * out of their sections, with requests set and extensions granted: rseq_debug=1 sends SIGSEGV on
 * any ABI misuse (a request left set in a dead thread's area is the kernel's business, not a rule
 * broken), so no child may die by a signal, and every invariant of the host run holds exactly.
 */
import { expect } from 'chai';
import * as os from 'node:os';
import { DIST } from '../support/paths';
import { runFixture } from '../support/child_node';
import type { StressOptions } from '../fixtures/owner_death_layout';
import { checkStress, type StressResult } from '../support/owner_death_stress_invariants';
import { bootDescription, readStats, statsDelta } from './guest';
import type * as Package from '../../lib';

// A worker takes seconds to start under TCG, and a death waits for its replacement to start (see
// the driver): workers sleep up to 2 ms between sections (pauseMs) to leave CPU to the starting
// ones, most victims (holderBias 0.9) are picked among the lock's holders, and sections last
// 2-8 ms so that terminate(), slow under TCG, still lands inside the section it was aimed at.
const DURATION_MS = Number(process.env.RSEQ_SLICE_VM_OWNER_DEATH_MS ?? 60_000);
// Under QEMU TCG code runs many times slower than the wall clock that drives the timers, so times
// are no property of the kernel here: the guest asserts the exact invariants only (mutual
// exclusion, counts, one report per death, every holder's death reported) and prints the measured
// recovery latency and longest wait; the host run asserts the 50 ms bound.

describe(`guest, owner death under strict checks: ${bootDescription()}`, function () {
  this.timeout(900_000);

  it('the default handle is the native backend here (real grants)', () => {
    const rs = require(DIST) as typeof Package;
    expect(rs.open().backend).to.equal('native');
  });

  for (const slice of ['default', 'native'] as const) {
    it(`stress, ${slice === 'default' ? 'default handle' : "open({ backend: 'native' })"}: workers killed at random, no signal, every invariant exact`, () => {
      const options: StressOptions = {
        workers: 2 * os.availableParallelism(),
        durationMs: DURATION_MS,
        slice,
        holderBias: 0.9,
        pauseMs: 2,
        sectionUs: [2000, 8000],
      };
      const before = readStats();
      const r = runFixture('owner_death_stress.ts', [DIST, JSON.stringify(options)], { timeoutMs: 0 });
      const delta = statsDelta(before, readStats());
      expect(r.signal, `rseq_debug=1 killed it: ${r.stderr}`).to.equal(null);
      expect(r.status, r.stderr).to.equal(0);
      const result = JSON.parse(r.stdout.trim().split('\n').pop() as string) as StressResult;
      console.log(`      ${result.summary}`);
      console.log(`      kernel slice counters: ${JSON.stringify(delta)}`);
      checkStress(result, { minReports: 3 });
    });
  }
});
