/**
 * One measurement: the scenario's workers contend for one lock for a fixed time with slice
 * requests on or off, optionally beside a CPU hog and under the sched_switch trace; the result
 * holds the raw hold windows for the counts and charts.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SliceStats } from '../extension';
import type { KernelSliceStats } from './debugfs';
import { readKernelSliceStats, kernelStatsDelta } from './debugfs';
import { countHeldSwitches, parseSchedSwitch, type HoldWindows, type TraceCount } from './preemptions';
import type { ResolvedScenario } from './scenarios';
import type { SchedSwitchTrace } from './tracefs';
import type { WorkerInput, WorkerOutput } from './worker';

export interface Measurement {
  request: boolean;
  seconds: number;
  sections: number;
  /** Per worker: thread id and hold windows (ns since baseNs), waits (ns). */
  threads: WorkerOutput[];
  baseNs: bigint;
  outcomes: SliceStats | null;
  kernel: KernelSliceStats | null;
  trace: (TraceCount & { overruns: number }) | null;
}

const WORKER = path.join(__dirname, 'worker.js');
const MAX_SAMPLES = 1_000_000;

function start(input: WorkerInput): { ready: Promise<void>; done: Promise<WorkerOutput>; worker: Worker } {
  const worker = new Worker(WORKER, { workerData: input });
  let readyResolve!: () => void;
  const ready = new Promise<void>((r) => (readyResolve = r));
  const done = new Promise<WorkerOutput>((resolve, reject) => {
    worker.on('message', (m: unknown) => (m === 'ready' ? readyResolve() : resolve(m as WorkerOutput)));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`a benchmark worker exited (code ${code}) before reporting`)));
  });
  const failed = done.then(() => undefined);
  return { ready: Promise.race([ready, failed]), done, worker };
}

function sumOutcomes(threads: WorkerOutput[]): SliceStats | null {
  let t: SliceStats | null = null;
  for (const w of threads) {
    if (w.outcomes === null) continue;
    t ??= { sections: 0, clean: 0, yielded: 0, raced: 0, revoked: 0 };
    for (const k of Object.keys(t) as Array<keyof SliceStats>) t[k] += w.outcomes[k];
  }
  return t;
}

/** Runs one measurement of `seconds` with requests on or off. */
export async function measure(s: ResolvedScenario, request: boolean, seconds: number, seed: number, trace: SchedSwitchTrace | null): Promise<Measurement> {
  const lockBuffer = new SharedArrayBuffer(16);
  const control = new SharedArrayBuffer(8);
  const flags = new Int32Array(control);
  const baseNs = process.hrtime.bigint();
  const hog = s.hog
    ? new Worker('const f = new Int32Array(require("node:worker_threads").workerData); let x = 0; while (Atomics.load(f, 0) === 0) x++;', { eval: true, workerData: control })
    : null;
  const workers = Array.from({ length: s.workers }, (_, i) =>
    start({
      lockBuffer,
      control,
      lock: s.lock,
      section: s.section,
      request,
      minNs: s.minSectionNs,
      maxNs: s.maxSectionNs,
      seed: seed * 1000 + i + 1,
      maxSamples: MAX_SAMPLES,
      baseNs: String(baseNs),
    }),
  );
  try {
    // Start-up takes seconds under emulation: the clock starts when every worker is ready.
    await Promise.all(workers.map((w) => w.ready));
    const before = readKernelSliceStats();
    trace?.start();
    Atomics.store(flags, 1, 1);
    Atomics.notify(flags, 1);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    Atomics.store(flags, 0, 1);
    const threads = await Promise.all(workers.map((w) => w.done));
    const traced = trace?.stop() ?? null;
    const after = readKernelSliceStats();
    const sections = threads.reduce((n, t) => n + t.sections, 0);
    if (sections === 0) throw new Error('no worker completed a critical section: the measurement is empty');
    const windows: HoldWindows[] = threads.map((t) => ({ tid: t.tid, acquired: t.acquired, released: t.released }));
    return {
      request,
      seconds,
      sections,
      threads,
      baseNs,
      outcomes: sumOutcomes(threads),
      kernel: before && after ? kernelStatsDelta(before, after) : null,
      trace: traced ? { ...countHeldSwitches(parseSchedSwitch(traced.text), windows, baseNs), overruns: traced.overruns } : null,
    };
  } finally {
    Atomics.store(flags, 0, 1);
    Atomics.store(flags, 1, 1);
    Atomics.notify(flags, 1);
    await Promise.all(workers.map((w) => w.worker.terminate()));
    if (hog) await hog.terminate();
  }
}
