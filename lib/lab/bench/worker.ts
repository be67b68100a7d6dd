/**
 * One contending thread of the benchmark (a worker_threads entry point, dist/lab/bench/worker.js):
 * take the shared lock, run a section of random length, release, end the section; record for
 * every section when the lock was acquired and released (ns since the run's base time, on
 * CLOCK_MONOTONIC) and how long the thread waited. Timing uses the vDSO clock (no system call),
 * since any system call inside a granted section would end the grant.
 */
import * as fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { addonState } from '../../addon/addon';
import { errnoName } from '../../errors';
import { sliceStatsDelta, type SliceExtension, type SliceStats } from '../../extension';
import { open } from '../../open';
import { xorshift32 } from '../../simulator/random';
import { SliceMutex } from '../../slice_mutex';
import type { LockKind, SectionKind } from './scenarios';

/** What a worker is started with, for all the measurements of one scenario. */
export interface WorkerInput {
  lockBuffer: SharedArrayBuffer;
  /** Int32 [0]: set to stop; [1]: set to start once every worker is ready. */
  control: SharedArrayBuffer;
  lock: LockKind;
  section: SectionKind;
  minNs: number;
  maxNs: number;
  maxSamples: number;
  /** CLOCK_MONOTONIC ns the recorded times are relative to (decimal string: bigint). */
  baseNs: string;
  /** The kernel's extension, or the simulator (tests of the machinery on hosts without it). */
  backend: 'native' | 'simulator';
}

/** One measurement, posted to every worker: requests on or off, and the seed of the lengths. */
export interface MeasureCommand {
  request: boolean;
  seed: number;
}

export interface WorkerOutput {
  tid: number;
  sections: number;
  acquired: Float64Array;
  released: Float64Array;
  waits: Float64Array;
  outcomes: SliceStats | null;
}

/** This thread's kernel thread id, from /proc/thread-self (a link to PID/task/TID). */
export function threadId(): number {
  const m = /task\/(\d+)$/.exec(fs.readlinkSync('/proc/thread-self'));
  if (!m) throw new Error('cannot read the thread id from /proc/thread-self');
  return Number(m[1]);
}

/**
 * The offset from `now()` (ms) to ns since `base` on process.hrtime: the midpoint of the
 * tightest of 50 back-to-back readings (the first calls are slow while the functions warm up).
 */
export function clockOffsetNs(base: bigint, now: () => number): number {
  let best = Infinity;
  let offset = 0;
  for (let i = 0; i < 50; i++) {
    const a = Number(process.hrtime.bigint() - base);
    const p = now();
    const b = Number(process.hrtime.bigint() - base);
    if (b - a < best) {
      best = b - a;
      offset = (a + b) / 2 - p * 1e6;
    }
  }
  return offset;
}

/** The worker's state across measurements: its handle, thread id and clock offset. */
function setup(input: WorkerInput): (cmd: MeasureCommand) => WorkerOutput {
  const control = new Int32Array(input.control);
  const base = BigInt(input.baseNs);
  const tid = threadId();
  // open() enables the extension for this thread (prctl), once, before any clock starts; a
  // measurement with requests off simply never sets `request`.
  const handle =
    input.backend === 'native' ? open({ backend: 'native', fastPath: 'javascript' }) : open({ backend: 'simulator' });
  // performance.now(): ms as a double from the same CLOCK_MONOTONIC (vDSO), so the section
  // arithmetic stays in plain numbers; `offsetNs` maps it onto ns since the base. It still
  // allocates (about one young-generation collection per 30,000 reads on Node 20), as
  // process.hrtime.bigint() does.
  const now = performance.now.bind(performance);
  const offsetNs = clockOffsetNs(base, now);
  return (cmd) => {
    const slice = cmd.request ? handle : null;
    const before = handle.stats;
    const acquired = new Float64Array(input.maxSamples);
    const released = new Float64Array(input.maxSamples);
    const waits = new Float64Array(input.maxSamples);
    const output = (sections: number, n: number, outcomes: SliceStats | null): WorkerOutput => ({
      tid,
      sections,
      acquired: acquired.subarray(0, n),
      released: released.subarray(0, n),
      waits: waits.subarray(0, n),
      outcomes,
    });
    const ready = (): void => {
      parentPort!.postMessage('ready');
      Atomics.wait(control, 1, 0);
    };
    const rec: Recording = { acquired, released, waits, n: 0, sections: 0 };
    if (input.section === 'native') {
      const { addon, error } = addonState();
      if (!addon) throw new Error(`the native addon did not load: ${error}`);
      ready();
      const r = addon.bench.spinLockLoop(
        new Int32Array(input.lockBuffer, 0, 1),
        control,
        cmd.request,
        input.minNs,
        input.maxNs,
        cmd.seed,
        base,
        acquired,
        released,
        waits,
      );
      if (typeof r === 'number') throw new Error(`spinLockLoop failed: ${errnoName(-r)}`);
      const [sections, n, clean, yielded, raced, revoked] = r;
      return output(sections, n, cmd.request ? { sections, clean, yielded, raced, revoked } : null);
    }
    const mutex = input.lock === 'mutex' ? new SliceMutex(input.lockBuffer, 0, { slice }) : null;
    ready();
    javascriptLoop(input, control, mutex, slice, cmd.seed, now, offsetNs, rec);
    return output(rec.sections, rec.n, slice ? sliceStatsDelta(handle.stats, before) : null);
  };
}

interface Recording {
  acquired: Float64Array;
  released: Float64Array;
  waits: Float64Array;
  n: number;
  sections: number;
}

// The JavaScript section loop: until control[0] is set, lock, spin the section, unlock.
function javascriptLoop(
  input: WorkerInput,
  control: Int32Array,
  mutex: SliceMutex | null,
  slice: SliceExtension | null,
  seed: number,
  now: () => number,
  offsetNs: number,
  rec: Recording,
): void {
  const word = new Int32Array(input.lockBuffer, 0, 1);
  const span = input.maxNs - input.minNs + 1;
  const { acquired, released, waits } = rec;
  let x = seed >>> 0 || 1;
  let n = 0;
  let sections = 0;
  while (Atomics.load(control, 0) === 0) {
    x = xorshift32(x);
    const lengthMs = (input.minNs + (x % span)) / 1e6;
    const t0 = now();
    if (mutex !== null) mutex.lock();
    else {
      // Test and test-and-set: waiters spin on a load, as a plain spin lock's do.
      while (Atomics.compareExchange(word, 0, 0, 1) !== 0) while (Atomics.load(word, 0) !== 0);
      slice?.enter();
    }
    const t1 = now();
    const end = t1 + lengthMs;
    while (now() < end);
    const t2 = now();
    // Release first, then end the section: a yield gives the CPU back with the lock free.
    if (mutex !== null) mutex.unlock();
    else {
      Atomics.store(word, 0, 0);
      slice?.exit();
    }
    sections++;
    if (n < acquired.length) {
      acquired[n] = t1 * 1e6 + offsetNs;
      released[n] = t2 * 1e6 + offsetNs;
      waits[n] = (t1 - t0) * 1e6;
      n++;
    }
  }
  rec.n = n;
  rec.sections = sections;
}

if (parentPort !== null && workerData !== null && typeof workerData === 'object' && 'lockBuffer' in workerData) {
  const measure = setup(workerData as WorkerInput);
  const port = parentPort;
  port.on('message', (cmd: MeasureCommand) => {
    const out = measure(cmd);
    port.postMessage(out, [
      out.acquired.buffer as ArrayBuffer,
      out.released.buffer as ArrayBuffer,
      out.waits.buffer as ArrayBuffer,
    ]);
  });
}
