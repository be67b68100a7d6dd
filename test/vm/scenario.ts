/**
 * The kernel selftest's scenario (slice_test.c) on the real kernel: the process pinned to one
 * CPU, a noise thread on that CPU (spin 2 µs, sleep 50 µs), sections that request, spin and take
 * the exit path, with the debugfs rseq/stats deltas measured around them.
 */
import { expect } from 'chai';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SliceStats } from '../../lib';
import { ROOT } from '../support/paths';
import { readStats, statsDelta, type KernelStats } from './guest';

const DIST = path.join(ROOT, 'dist');
const WORKER = path.join(__dirname, 'scenario-worker.js');
const SECTIONS = path.join(__dirname, 'scenario-sections.js');

export type SectionPath = 'native-loop' | 'javascript' | 'native-call';

export interface ScenarioResult {
  threads: SliceStats[];
  total: SliceStats;
  kernel: KernelStats;
}

function startWorker(data: Record<string, unknown>): {
  worker: Worker;
  first: Promise<unknown>;
  last: Promise<unknown>;
} {
  const worker = new Worker(WORKER, { workerData: { dist: DIST, scenario: SECTIONS, ...data } });
  // One deferred per expected message, resolved in arrival order.
  const deferred = [0, 1].map(() => {
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => undefined); // a never-awaited second message must not be unhandled
    return { promise, resolve, reject };
  });
  let received = 0;
  worker.on('message', (m) => deferred[received++]?.resolve(m));
  worker.on('error', (e) => deferred.forEach((d) => d.reject(e)));
  return { worker, first: deferred[0]!.promise, last: deferred[1]!.promise };
}

function sum(stats: SliceStats[]): SliceStats {
  const t: SliceStats = { sections: 0, clean: 0, yielded: 0, raced: 0, revoked: 0 };
  for (const s of stats) for (const k of Object.keys(t) as Array<keyof SliceStats>) t[k] += s[k];
  return t;
}

/** Runs sections in the main thread (workers = 0) or in that many workers at once. */
export async function runScenario(
  p: SectionPath,
  spinNs: number,
  seconds: number,
  workers: number,
): Promise<ScenarioResult> {
  const stop = new SharedArrayBuffer(4);
  const noise = startWorker({ role: 'noise', stop });
  await noise.first;
  const before = readStats();
  let threads: SliceStats[];
  try {
    if (workers === 0) {
      const { runSections } = require(SECTIONS) as {
        runSections: (rs: unknown, p: string, s: number, t: number) => SliceStats;
      };
      threads = [runSections(require(DIST), p, spinNs, seconds)];
    } else {
      const ws = Array.from({ length: workers }, () =>
        startWorker({ role: 'sections', stop, path: p, spinNs, seconds }),
      );
      threads = (await Promise.all(ws.map((w) => w.first))) as SliceStats[];
      await Promise.all(ws.map((w) => w.worker.terminate()));
    }
  } finally {
    Atomics.store(new Int32Array(stop), 0, 1);
    await noise.last;
    await noise.worker.terminate();
  }
  const after = readStats();
  return { threads, total: sum(threads), kernel: statsDelta(before, after) };
}

/** Adds the run's figures line (our outcomes beside the debugfs deltas) to `figures`. */
export function recordScenario(label: string, r: ScenarioResult, figures: string[]): void {
  const t = r.total;
  const k = r.kernel;
  figures.push(
    `      ${label.padEnd(34)} (yielded per thread: ${r.threads.map((x) => x.yielded).join(', ')}) sections ${t.sections}, clean ${t.clean}, yielded ${t.yielded}, raced ${t.raced}, revoked ${t.revoked}; ` +
      `debugfs sgrant ${k.sgrant}, syield ${k.syield}, srevok ${k.srevok}, sexpir ${k.sexpir}, sabort ${k.sabort}`,
  );
}

/**
 * Only invariants of the kernel (sources: Debian linux-source 7.2.13 and 7.3-rc7). Only this
 * process's section threads request or yield, and no grant is live when the counters are read.
 */
export function checkScenarioInvariants(r: ScenarioResult, expectedThreads: number): void {
  const t = r.total;
  const k = r.kernel;
  expect(r.threads).to.have.lengthOf(expectedThreads);
  for (const s of r.threads) {
    // Our exit path classifies every section once (lib/extension.ts exit, native sectionLoop).
    expect(s.clean + s.yielded + s.raced + s.revoked, 'outcomes add up').to.equal(s.sections);
    expect(s.sections).to.be.greaterThan(0);
  }
  // kernel/rseq.c rseq_syscall_enter_work counts s_yielded exactly when it sets slice.yielded,
  // and sys_rseq_slice_yield returns that flag: a yield answering 1 is one syield.
  expect(k.syield, "our yields are the kernel's").to.equal(t.yielded);
  // A grant (include/linux/rseq_entry.h __rseq_grant_slice_extension, s_granted) ends at most
  // once with a counter: rseq_slice_clear_grant (s_revoked) or rseq_syscall_enter_work
  // (s_yielded / s_aborted). It can end with none: rseq_syscall_enter_work skips both counters
  // when the thread was scheduled inside the syscall's entry (rseq.event.sched_switch, e.g. the
  // grant timer fired there on a PREEMPT_LAZY kernel). So >=, not =.
  expect(k.sgrant, 'sgrant >= syield + srevok + sabort').to.be.at.least(k.syield + k.srevok + k.sabort);
  // User space sees granted=1 only from a grant, and each section yields at most once.
  expect(t.yielded + t.raced, 'yielded + raced <= sgrant').to.be.at.most(k.sgrant);
  // kernel/rseq.c rseq_slice_expired counts only while current's grant is live, and the resched
  // it sets ends that grant before the next return to user space (rseq_entry.h
  // __rseq_grant_slice_extension revokes a live grant), so the timer is not re-armed for it.
  // Expiries are NOT bounded by revocations: a timer firing while the thread is already in the
  // yield syscall's entry counts an expiry and no revocation.
  expect(k.sexpir, 'at most one expiry per grant').to.be.at.most(k.sgrant);
}

/** How many runs a scenario gets to show a yielded grant in every thread. */
export const YIELD_ATTEMPTS = 3;

/**
 * Runs the scenario until every thread yielded a real grant, at most YIELD_ATTEMPTS times, checking
 * the invariants on each run. Yields in every thread are not an invariant but the scenario's
 * purpose: whether a preemption lands inside a section is up to timing, so a run without one is
 * repeated (bounded), and only YIELD_ATTEMPTS runs without fail the test.
 */
export async function runScenarioUntilYielded(
  label: string,
  run: () => Promise<ScenarioResult>,
  expectedThreads: number,
  figures: string[],
): Promise<ScenarioResult> {
  for (let i = 1; i <= YIELD_ATTEMPTS; i++) {
    const r = await run();
    recordScenario(i === 1 ? label : `${label} (attempt ${i})`, r, figures);
    checkScenarioInvariants(r, expectedThreads);
    if (r.threads.every((x) => x.yielded > 0)) return r;
  }
  return expect.fail(
    `no run of ${YIELD_ATTEMPTS} had a yielded grant in every thread: the scenario did not exercise grants`,
  );
}
