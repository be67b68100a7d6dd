/**
 * The invariants of the owner-death stress run (test/fixtures/owner_death_stress.ts; layout and
 * result in test/fixtures/owner_death_layout.ts), checked by test/lib/owner_death.test.ts here and by
 * test/vm/owner-death.vm.ts in the guest.
 */
import { expect } from 'chai';
import { recoveryLatencies, type StressResult } from '../fixtures/owner_death_layout';

export type { StressResult } from '../fixtures/owner_death_layout';

export interface StressBounds {
  /**
   * Timing, asserted on the host only: a recovery is at most `boundMs` after the dead holder's
   * 'exit' event, and a worker's longest lock() wait at most `boundMs + waitMarginMs`. Absent in
   * the guest, where TCG makes times no property of the kernel (the summary prints them).
   */
  timing?: { boundMs: number; waitMarginMs: number };
  /** Deaths inside sections the run must have seen, so that it cannot pass without exercising them. */
  minReports: number;
}

/** Asserts every invariant of a stress run. */
export function checkStress(r: StressResult, bounds: StressBounds): void {
  expect(r.reportOverflow, 'report log overflow').to.equal(false);
  expect(r.violations, 'mutual exclusion violations (owner cell)').to.equal(0);
  for (const w of r.workers) {
    if (w.killed) continue;
    expect(w.error, `worker ${w.id} failed`).to.equal(undefined);
    expect(w.exitCode, `worker ${w.id} (not killed) exit code`).to.equal(0);
  }
  const sections = r.workers.reduce((s, w) => s + w.completed, 0);
  expect(r.a, 'A == sum(completed)').to.equal(sections);
  expect(r.b, 'B == sum(completed)').to.equal(sections);
  const byThread = new Map(r.workers.map((w) => [w.threadId, w]));
  const seen = new Set<number>();
  for (const p of r.reports) {
    const dead = byThread.get(p.previousOwner);
    expect(dead?.killed, `report of thread ${p.previousOwner}: a terminated worker`).to.equal(true);
    expect(seen.has(p.previousOwner), `thread ${p.previousOwner} reported twice`).to.equal(false);
    seen.add(p.previousOwner);
  }
  // A worker that died holding is reported: as the previous owner, or (when its recoverer was
  // killed before it could write its report, itself then reported) as the owner cell that the
  // next recoverer found still set by its unfinished section.
  const ownerSeen = new Set(r.reports.map((p) => p.ownerSeen));
  for (const w of r.workers) {
    if (!w.killed || w.holding !== 1) continue;
    expect(seen.has(w.threadId) || ownerSeen.has(w.id), `worker ${w.id} died holding and was not reported`).to.equal(
      true,
    );
  }
  expect(r.reports.length, 'recoveries (deaths inside sections)').to.be.at.least(bounds.minReports);
  const timing = bounds.timing;
  if (timing === undefined) return;
  for (const [i, lat] of recoveryLatencies(r).entries()) {
    expect(lat, `recovery ${i}: ms after the dead holder's 'exit' event`).to.be.at.most(timing.boundMs);
  }
  for (const w of r.workers) {
    expect(w.maxWaitMs, `worker ${w.id}'s longest lock() wait`).to.be.at.most(timing.boundMs + timing.waitMarginMs);
  }
}
