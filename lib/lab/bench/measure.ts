/**
 * One measurement: the scenario's workers contend for one lock for a fixed time with slice
 * requests on or off, optionally beside a CPU hog and under the sched_switch trace; the result
 * holds the raw hold windows for the counts and charts.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SliceStats } from '../../extension';
import { countersDelta, type SliceCounters } from '../../kernel/rseq_stats';
import { readRseqStatsOrNull } from '../../kernel/knobs';
import { countHeldSwitches, parseSchedSwitch, type HoldWindows, type TraceCount } from './preemptions';
import type { ResolvedScenario } from './scenarios';
import type { SchedSwitchTrace } from './tracefs';
import { startCpuHog, type CpuHog } from './cpu_hog';
import { COUNTER_OFFSET, type MeasureCommand, type WorkerInput, type WorkerOutput } from './worker';

export interface Measurement {
  request: boolean;
  seconds: number;
  sections: number;
  /** Per worker: thread id and hold windows (ns since baseNs), waits (ns). */
  threads: WorkerOutput[];
  baseNs: bigint;
  outcomes: SliceStats | null;
  kernel: SliceCounters | null;
  trace: (TraceCount & { overruns: number }) | null;
  /** The shared counter's increase: one per section of a JavaScript loop (0 for the native loop). */
  counter: number;
  /** CPU time of the workers' threads while measuring, summed; null where schedstat is unreadable. */
  cpuNs: number | null;
}

/** The workers of one set-up: how many, which lock and section, how long the sections are. */
export type WorkerSetup = Pick<
  ResolvedScenario,
  'workers' | 'hog' | 'lock' | 'section' | 'minSectionNs' | 'maxSectionNs'
>;

/** What the workers are started with beyond the set-up (worker.ts WorkerInput). */
export type WorkerOptions = Partial<Pick<WorkerInput, 'maxSamples' | 'warmup' | 'mutexSpin' | 'package'>> & {
  backend?: WorkerInput['backend'];
};

const WORKER = path.join(__dirname, 'worker.js');
/** Hold windows kept per worker and measurement, by default. */
const MAX_SAMPLES = 1_000_000;

interface PoolWorker {
  worker: Worker;
  /** Resolves with the next message, rejects when the worker fails. */
  next(): Promise<unknown>;
}

function startWorker(input: WorkerInput): PoolWorker {
  const worker = new Worker(WORKER, { workerData: input });
  const queue: unknown[] = [];
  let waiting: { resolve: (m: unknown) => void; reject: (e: unknown) => void } | null = null;
  let failure: unknown = null;
  const fail = (e: unknown): void => {
    failure ??= e;
    waiting?.reject(failure);
    waiting = null;
  };
  worker.on('message', (m: unknown) => {
    if (waiting) {
      waiting.resolve(m);
      waiting = null;
    } else queue.push(m);
  });
  worker.once('error', fail);
  worker.once('exit', (code) => fail(new Error(`a benchmark worker exited (code ${code}) before reporting`)));
  return {
    worker,
    next: () =>
      queue.length > 0
        ? Promise.resolve(queue.shift())
        : failure !== null
          ? Promise.reject(failure)
          : new Promise((resolve, reject) => (waiting = { resolve, reject })),
  };
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

/**
 * The scenario's workers (and hog), started once and reused for every measurement of the
 * scenario: start-up takes seconds under emulation. Close it when done.
 */
export class ScenarioWorkers {
  readonly #control = new SharedArrayBuffer(8);
  readonly #flags = new Int32Array(this.#control);
  readonly #lockBuffer = new SharedArrayBuffer(16);
  readonly #counter = new Int32Array(this.#lockBuffer, COUNTER_OFFSET, 1);
  readonly #workers: PoolWorker[];
  readonly #hog: CpuHog | null;
  readonly baseNs = process.hrtime.bigint();

  /**
   * `backend`: 'native' (the kernel's extension), 'simulator', or 'measured' (./handle.ts);
   * `options` for the throughput table (no samples, a warm-up, another build's package).
   */
  constructor(s: WorkerSetup, backend: WorkerInput['backend'] = 'native', options: WorkerOptions = {}) {
    this.#hog = s.hog ? startCpuHog() : null;
    this.#workers = Array.from({ length: s.workers }, () =>
      startWorker({
        lockBuffer: this.#lockBuffer,
        control: this.#control,
        lock: s.lock,
        section: s.section,
        minNs: s.minSectionNs,
        maxNs: s.maxSectionNs,
        maxSamples: options.maxSamples ?? MAX_SAMPLES,
        baseNs: String(this.baseNs),
        backend,
        ...(options.warmup !== undefined && { warmup: options.warmup }),
        ...(options.mutexSpin !== undefined && { mutexSpin: options.mutexSpin }),
        ...(options.package !== undefined && { package: options.package }),
      }),
    );
  }

  /** Runs one measurement of `seconds` with requests on or off. */
  async measure(request: boolean, seconds: number, seed: number, trace: SchedSwitchTrace | null): Promise<Measurement> {
    const flags = this.#flags;
    Atomics.store(flags, 0, 0);
    Atomics.store(flags, 1, 0);
    const command: MeasureCommand = { request, seed };
    this.#workers.forEach((w, i) => w.worker.postMessage({ ...command, seed: seed * 1000 + i + 1 }));
    // Every worker is ready (handle open, clock calibrated) before the clock starts.
    const ready = await Promise.all(this.#workers.map((w) => w.next()));
    if (ready.some((m) => m !== 'ready')) throw new Error('a benchmark worker answered out of turn');
    const before = readRseqStatsOrNull();
    const counterBefore = Atomics.load(this.#counter, 0);
    trace?.start();
    Atomics.store(flags, 1, 1);
    Atomics.notify(flags, 1);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    Atomics.store(flags, 0, 1);
    const threads = (await Promise.all(this.#workers.map((w) => w.next()))) as WorkerOutput[];
    const traced = trace?.stop() ?? null;
    const after = readRseqStatsOrNull();
    const counter = (Atomics.load(this.#counter, 0) - counterBefore) | 0;
    const sections = threads.reduce((n, t) => n + t.sections, 0);
    if (sections === 0) throw new Error('no worker completed a critical section: the measurement is empty');
    const windows: HoldWindows[] = threads.map((t) => ({ tid: t.tid, acquired: t.acquired, released: t.released }));
    return {
      request,
      seconds,
      sections,
      threads,
      baseNs: this.baseNs,
      outcomes: sumOutcomes(threads),
      kernel: before && after ? countersDelta(before, after) : null,
      trace: traced
        ? { ...countHeldSwitches(parseSchedSwitch(traced.text), windows, this.baseNs), overruns: traced.overruns }
        : null,
      counter,
      cpuNs: threads.every((t) => t.cpuNs !== null) ? threads.reduce((n, t) => n + (t.cpuNs as number), 0) : null,
    };
  }

  async close(): Promise<void> {
    Atomics.store(this.#flags, 0, 1);
    Atomics.store(this.#flags, 1, 1);
    Atomics.notify(this.#flags, 1);
    await Promise.all(this.#workers.map((w) => w.worker.terminate()));
    await this.#hog?.stop();
  }
}
