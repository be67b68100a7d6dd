/**
 * One contending thread of the lock-holder benchmark (a worker_threads entry point,
 * dist/lab/bench/worker.js), for `rseq-slice bench` and `npm run bench`'s contention figures
 * alike: take the shared lock, increment the shared counter, run a section of random length,
 * release, end the section; record for every section when the lock was acquired and released (ns
 * since the run's base time, on CLOCK_MONOTONIC) and how long the thread waited. Timing uses the
 * vDSO clock (no system call), since any system call inside a granted section would end the
 * grant. With `maxSamples` 0 the clock is not read around the lock at all (the throughput table).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { addonState } from '../../addon/addon';
import { errnoName } from '../../errors';
import { sliceStatsDelta, type SliceExtension, type SliceStats } from '../../extension';
import { open } from '../../open';
import { xorshift32 } from '../../simulator/random';
import { SliceMutex } from '../../slice_mutex';
import { measuredHandle } from './handle';
import type { LockKind, SectionKind } from './scenarios';
import { spinLock, spinUnlock } from './spin_lock';

/** Where the shared counter sits in the lock buffer (after the lock word, SliceMutex's included). */
export const COUNTER_OFFSET = 8;

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
  /**
   * The kernel's extension, the simulator (tests of the machinery on hosts without it), or
   * `measured`: the handle `npm run bench` measures (./handle.ts: the extension where the kernel
   * grants, else the native fast path over the real area).
   */
  backend: 'native' | 'simulator' | 'measured';
  /** Sections to run before the first measurement (compiled before the clock starts; not counted). */
  warmup?: number;
  /** SliceMutex's spin option; default the package's own. */
  mutexSpin?: number;
  /**
   * Another build's dist/ whose SliceMutex and handle to measure (`npm run bench -- --dist`);
   * default this build. The raw spin lock needs nothing of it.
   */
  package?: string;
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
  /** CPU time of this thread while measuring (ns); null where schedstat is unreadable. */
  cpuNs: number | null;
}

/** ns this thread has been on a CPU (/proc/thread-self/schedstat, first field), or null. */
function threadCpuNs(): number | null {
  try {
    return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
}

/** What the workers take from the package measured: its SliceMutex and its handle. */
interface MeasuredPackage {
  SliceMutex: typeof SliceMutex;
  openHandle(): SliceExtension;
}

/**
 * This build's SliceMutex and handle, or another build's (`input.package`). Throws naming what
 * the other build lacks, so that the kinds it cannot run are reported n/a.
 */
function measuredPackage(input: WorkerInput): MeasuredPackage {
  const own: MeasuredPackage['openHandle'] =
    input.backend === 'native'
      ? () => open({ backend: 'native', fastPath: 'javascript' })
      : input.backend === 'simulator'
        ? () => open({ backend: 'simulator' })
        : () => measuredHandle('javascript');
  if (input.package === undefined) return { SliceMutex, openHandle: own };
  const dir = input.package;
  return {
    get SliceMutex(): typeof SliceMutex {
      const pkg = require(dir) as { SliceMutex?: typeof SliceMutex };
      if (typeof pkg.SliceMutex !== 'function') throw new Error(`the measured build ${dir} has no SliceMutex`);
      return pkg.SliceMutex;
    },
    openHandle(): SliceExtension {
      if (input.backend !== 'measured') {
        const backend = input.backend;
        return (require(dir) as { open: typeof open }).open({ backend, fastPath: 'javascript' });
      }
      const factory = path.join(dir, 'lab', 'bench', 'handle.js');
      if (!fs.existsSync(factory))
        throw new Error(
          `the measured build ${dir} has no lab/bench/handle.js (the lab's handle factory, added with the lab's one benchmark): requests on cannot be measured with it`,
        );
      return (require(factory) as { measuredHandle: typeof measuredHandle }).measuredHandle('javascript');
    },
  };
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
function clockOffsetNs(base: bigint, now: () => number): number {
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
  const pkg = measuredPackage(input);
  // The handle enables the extension for this thread (prctl), once, before any clock starts: this
  // build's now, another build's at its first measurement with requests on (so that a build
  // without the lab's handle factory still measures the rest). A measurement with requests off
  // simply never sets `request`.
  let handle: SliceExtension | null = input.package === undefined ? pkg.openHandle() : null;
  // SliceMutex's options for one measurement: the handle with requests on, none with them off.
  const mutexOptions = (slice: SliceExtension | null): { slice: SliceExtension | null; spin?: number } =>
    input.mutexSpin === undefined ? { slice } : { slice, spin: input.mutexSpin };
  let warmed = false;
  // performance.now(): ms as a double from the same CLOCK_MONOTONIC (vDSO), so the section
  // arithmetic stays in plain numbers; `offsetNs` maps it onto ns since the base. It still
  // allocates (about one young-generation collection per 30,000 reads on Node 20), as
  // process.hrtime.bigint() does.
  const now = performance.now.bind(performance);
  const offsetNs = clockOffsetNs(base, now);
  return (cmd) => {
    if (cmd.request) handle ??= pkg.openHandle();
    const slice = cmd.request ? handle : null;
    const before = handle?.stats ?? null;
    const acquired = new Float64Array(input.maxSamples);
    const released = new Float64Array(input.maxSamples);
    const waits = new Float64Array(input.maxSamples);
    let cpu0: number | null = null;
    const output = (sections: number, n: number, outcomes: SliceStats | null): WorkerOutput => {
      const cpu1 = threadCpuNs();
      return {
        tid,
        sections,
        acquired: acquired.subarray(0, n),
        released: released.subarray(0, n),
        waits: waits.subarray(0, n),
        outcomes,
        cpuNs: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0,
      };
    };
    const ready = (): void => {
      parentPort!.postMessage('ready');
      Atomics.wait(control, 1, 0);
      cpu0 = threadCpuNs();
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
    const mutex = input.lock === 'mutex' ? new pkg.SliceMutex(input.lockBuffer, 0, mutexOptions(slice)) : null;
    const lock = section(input, mutex, slice);
    if (!warmed) {
      // Compiled before the clock starts; the counter's delta is read around the measurement only.
      for (let i = 0; i < (input.warmup ?? 0); i++) {
        lock.lock();
        lock.counter[0]++;
        lock.unlock();
      }
      warmed = true;
    }
    ready();
    if (input.maxSamples === 0) untimedLoop(input, control, lock, cmd.seed, now, rec);
    else javascriptLoop(input, control, lock, cmd.seed, now, offsetNs, rec);
    return output(rec.sections, rec.n, slice && handle && before ? sliceStatsDelta(handle.stats, before) : null);
  };
}

interface Recording {
  acquired: Float64Array;
  released: Float64Array;
  waits: Float64Array;
  n: number;
  sections: number;
}

/** The shared lock and counter as one worker takes them. */
interface LockedSection {
  /** Takes the lock (and, for the raw spin lock, starts the section). */
  lock(): void;
  /** Releases the lock, then ends the section: a yield gives the CPU back with the lock free. */
  unlock(): void;
  /** The shared counter, incremented once per section under the lock (a check that the lock holds). */
  counter: Int32Array;
}

function section(input: WorkerInput, mutex: SliceMutex | null, slice: SliceExtension | null): LockedSection {
  const counter = new Int32Array(input.lockBuffer, COUNTER_OFFSET, 1);
  if (mutex !== null) return { lock: () => mutex.lock(), unlock: () => mutex.unlock(), counter };
  const word = new Int32Array(input.lockBuffer, 0, 1);
  return {
    lock: () => {
      spinLock(word);
      slice?.enter();
    },
    unlock: () => {
      spinUnlock(word);
      slice?.exit();
    },
    counter,
  };
}

// The timed section loop: until control[0] is set, lock, count, spin the section, unlock; each
// section's window and wait recorded while there is room.
function javascriptLoop(
  input: WorkerInput,
  control: Int32Array,
  s: LockedSection,
  seed: number,
  now: () => number,
  offsetNs: number,
  rec: Recording,
): void {
  const span = input.maxNs - input.minNs + 1;
  const { acquired, released, waits } = rec;
  const counter = s.counter;
  let x = seed >>> 0 || 1;
  let n = 0;
  let sections = 0;
  while (Atomics.load(control, 0) === 0) {
    x = xorshift32(x);
    const lengthMs = (input.minNs + (x % span)) / 1e6;
    const t0 = now();
    s.lock();
    const t1 = now();
    counter[0]++;
    const end = t1 + lengthMs;
    while (now() < end);
    const t2 = now();
    s.unlock();
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

// The untimed loop (maxSamples 0): no clock read around the lock, so that the throughput shows
// the lock's own cost; the section is the counter increment, and a spin unless maxNs is 0.
function untimedLoop(
  input: WorkerInput,
  control: Int32Array,
  s: LockedSection,
  seed: number,
  now: () => number,
  rec: Recording,
): void {
  const counter = s.counter;
  let sections = 0;
  if (input.maxNs === 0) {
    while (Atomics.load(control, 0) === 0) {
      s.lock();
      counter[0]++;
      s.unlock();
      sections++;
    }
  } else {
    const span = input.maxNs - input.minNs + 1;
    let x = seed >>> 0 || 1;
    while (Atomics.load(control, 0) === 0) {
      x = xorshift32(x);
      const lengthMs = (input.minNs + (x % span)) / 1e6;
      s.lock();
      counter[0]++;
      const end = now() + lengthMs;
      while (now() < end);
      s.unlock();
      sections++;
    }
  }
  rec.n = 0;
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
