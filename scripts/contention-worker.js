// One worker of the contention benchmark (scripts/contention.ts): lock a shared lock, run a
// critical section (a non-atomic increment of the shared counter, then a spin of random length
// unless maxNs is 0), unlock; record wait and hold times unless maxSamples is 0. Plain JavaScript
// so workers need no TypeScript loader. It uses a compiled package: `dist` (default ../dist).
//
// kind 'slicemutex': the package's SliceMutex, requests on (`slice: 'on'`) or off; kind 'spin': a
// raw compare-exchange spin lock (CAS 0 -> 1 until it succeeds, Atomics.store 0), the baseline.
// The worker also reports the CPU time its thread used while measuring (schedstat).
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');

const { buffer, stop, slice, minNs, maxNs, seed, maxSamples } = workerData;
const kind = workerData.kind ?? 'slicemutex';
const dist = workerData.dist ?? path.join(__dirname, '..', 'dist');
const rs = require(dist);
// xorshift32 only draws section lengths; a dist from before lib/simulator/random.ts borrows this checkout's.
const { distModule } = require('./bench-handle');
let xorshift32;
try {
  ({ xorshift32 } = distModule(dist, 'random'));
} catch {
  // an older dist: the fallback below
}
if (typeof xorshift32 !== 'function') ({ xorshift32 } = distModule(path.join(__dirname, '..', 'dist'), 'random'));

function sliceHandle() {
  if (slice !== 'on' || kind !== 'slicemutex') return null;
  if (!rs.detect().addon.loaded) return rs.open({ backend: 'simulator' });
  return require('./bench-handle').benchHandle('javascript', dist);
}

/** ns this thread has been on a CPU (/proc/thread-self/schedstat, first field), or null. */
function cpuNs() {
  try {
    return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
}

const handle = sliceHandle();
const counter = new Int32Array(buffer, 8, 1);
let lock;
let unlock;
if (kind === 'spin') {
  const word = new Int32Array(buffer, 0, 1);
  lock = () => {
    while (Atomics.compareExchange(word, 0, 0, 1) !== 0);
  };
  unlock = () => Atomics.store(word, 0, 0);
} else if (kind === 'slicemutex') {
  // No spin option unless asked: the default policy is what is measured.
  const options = workerData.spin === undefined ? { slice: handle } : { slice: handle, spin: workerData.spin };
  const mutex = new rs.SliceMutex(buffer, 0, options);
  lock = () => mutex.lock();
  unlock = () => mutex.unlock();
} else {
  throw new RangeError(`contention-worker: unknown lock kind ${JSON.stringify(kind)}`);
}

// stop[0]: set to end the run; stop[1]: set to start it, once every worker is ready (startup
// can take seconds under emulation and must not eat into the measured time).
const stopFlag = new Int32Array(stop);
const waits = new Float64Array(maxSamples);
const holds = new Float64Array(maxSamples);
let n = 0;
let ops = 0;
let x = seed >>> 0 || 1;
const hr = process.hrtime.bigint;

// Timed sections: wait and hold recorded per section (up to maxSamples).
function timedLoop() {
  while (Atomics.load(stopFlag, 0) === 0) {
    x = xorshift32(x);
    const sectionNs = BigInt(minNs + (x % (maxNs - minNs + 1)));
    const t0 = hr();
    lock();
    const t1 = hr();
    counter[0]++;
    const end = t1 + sectionNs;
    while (hr() < end);
    const t2 = hr();
    unlock();
    if (n < maxSamples) {
      waits[n] = Number(t1 - t0);
      holds[n] = Number(t2 - t1);
      n++;
    }
    ops++;
  }
}

// Untimed: the section is the counter increment (maxNs 0) or that and a spin; no clock read
// around the lock, so that the lock's own cost is what the throughput shows.
function untimedLoop() {
  if (maxNs === 0) {
    while (Atomics.load(stopFlag, 0) === 0) {
      lock();
      counter[0]++;
      unlock();
      ops++;
    }
    return;
  }
  while (Atomics.load(stopFlag, 0) === 0) {
    x = xorshift32(x);
    const sectionNs = BigInt(minNs + (x % (maxNs - minNs + 1)));
    lock();
    counter[0]++;
    const end = hr() + sectionNs;
    while (hr() < end);
    unlock();
    ops++;
  }
}

// Warm-up before reporting ready: the lock and the section compiled before the clock starts
// (the counter counts these too; they are reported apart as `warm`).
const warm = workerData.warmup ?? 0;
for (let i = 0; i < warm; i++) {
  lock();
  counter[0]++;
  unlock();
}
parentPort.postMessage('ready');
Atomics.wait(stopFlag, 1, 0);
const cpu0 = cpuNs();
if (maxSamples > 0) timedLoop();
else untimedLoop();
const cpu1 = cpuNs();
parentPort.postMessage({
  ops,
  warm,
  waits: waits.subarray(0, n),
  holds: holds.subarray(0, n),
  stats: handle ? handle.stats : null,
  cpuNs: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0,
});
