/**
 * The kernel selftest's scenario (slice_test.c) on the real kernel: the process pinned to one
 * CPU, a noise thread on that CPU (spin 2 µs, sleep 50 µs), sections that request, spin and take
 * the exit path, with the debugfs rseq/stats deltas measured around them.
 */
import { expect } from 'chai';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SliceStats } from '../../lib';
import { readStats, statsDelta, type KernelStats } from './guest';

const ROOT = path.join(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist');
const WORKER = path.join(__dirname, 'scenario-worker.js');
const SECTIONS = path.join(__dirname, 'scenario-sections.js');

export type SectionPath = 'native-loop' | 'javascript' | 'native-call';

export interface ScenarioResult {
  threads: SliceStats[];
  total: SliceStats;
  kernel: KernelStats;
}

function startWorker(data: Record<string, unknown>): { worker: Worker; first: Promise<unknown>; last: Promise<unknown> } {
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
export async function runScenario(p: SectionPath, spinNs: number, seconds: number, workers: number): Promise<ScenarioResult> {
  const stop = new SharedArrayBuffer(4);
  const noise = startWorker({ role: 'noise', stop });
  await noise.first;
  const before = readStats();
  let threads: SliceStats[];
  try {
    if (workers === 0) {
      const { runSections } = require(SECTIONS) as { runSections: (rs: unknown, p: string, s: number, t: number) => SliceStats };
      threads = [runSections(require(DIST), p, spinNs, seconds)];
    } else {
      const ws = Array.from({ length: workers }, () => startWorker({ role: 'sections', stop, path: p, spinNs, seconds }));
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

/**
 * Checks a scenario run against the kernel's counters and adds its figures line to `figures`.
 * Kernel invariants (the slice extension in kernel/rseq.c, 7.2): every rseq_slice_yield() that
 * ends a grant counts one `syield` and returns 1, so our `yielded` equals the kernel's; every grant
 * ends in exactly one of yield, revocation or abort; the expiry timer is armed once per grant, so
 * `sexpir` <= `sgrant`. An expiry need not end in a revocation (the thread may reach its yield
 * first): a loaded host gave sexpir 117 > srevok 112 in one run.
 */
export function checkScenario(label: string, r: ScenarioResult, expectedThreads: number, figures: string[]): void {
  const t = r.total;
  const k = r.kernel;
  figures.push(
    `      ${label.padEnd(34)} (yielded per thread: ${r.threads.map((x) => x.yielded).join(', ')}) sections ${t.sections}, clean ${t.clean}, yielded ${t.yielded}, raced ${t.raced}, revoked ${t.revoked}; ` +
      `debugfs sgrant ${k.sgrant}, syield ${k.syield}, srevok ${k.srevok}, sexpir ${k.sexpir}, sabort ${k.sabort}`,
  );
  expect(r.threads).to.have.lengthOf(expectedThreads);
  for (const s of r.threads) {
    expect(s.clean + s.yielded + s.raced + s.revoked, 'outcomes add up').to.equal(s.sections);
    expect(s.sections).to.be.greaterThan(0);
    expect(s.yielded, 'real grants yielded in every thread').to.be.greaterThan(0);
  }
  expect(t.yielded, 'real grants yielded').to.be.greaterThan(0);
  // Our yields are the kernel's; every grant ended as a yield, a revocation or an abort.
  expect(k.syield).to.equal(t.yielded);
  expect(k.sgrant).to.equal(k.syield + k.srevok + k.sabort);
  expect(t.yielded + t.raced).to.be.at.most(k.sgrant);
  expect(t.raced).to.be.at.most(k.srevok + k.sabort);
  expect(k.sexpir).to.be.at.most(k.sgrant);
}
