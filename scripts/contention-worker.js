// One worker of the contention benchmark (scripts/contention.ts): lock a shared SliceMutex, spin
// for a critical section of random length, unlock; record wait and hold times. Plain JavaScript
// so workers need no TypeScript loader. It uses the compiled package (dist/).
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const path = require('node:path');

const { buffer, stop, slice, minNs, maxNs, seed, maxSamples } = workerData;
const dist = path.join(__dirname, '..', 'dist');
const rs = require(dist);
const { xorshift32 } = require(path.join(dist, 'random'));

function sliceHandle() {
  if (slice === 'off') return null;
  if (!rs.detect().addon.loaded) return rs.open({ backend: 'simulator' });
  return require('./bench-handle').benchHandle('javascript');
}

const handle = sliceHandle();
const mutex = new rs.SliceMutex(buffer, 0, { slice: handle, spin: 50 });
const counter = new Int32Array(buffer, 8, 1);
// stop[0]: set to end the run; stop[1]: set to start it, once every worker is ready (startup
// can take seconds under emulation and must not eat into the measured time).
const stopFlag = new Int32Array(stop);
const waits = new Float64Array(maxSamples);
const holds = new Float64Array(maxSamples);
let n = 0;
let ops = 0;
let x = seed >>> 0 || 1;
const hr = process.hrtime.bigint;
parentPort.postMessage('ready');
Atomics.wait(stopFlag, 1, 0);
while (Atomics.load(stopFlag, 0) === 0) {
  x = xorshift32(x);
  const sectionNs = BigInt(minNs + (x % (maxNs - minNs + 1)));
  const t0 = hr();
  mutex.lock();
  const t1 = hr();
  counter[0]++;
  const end = t1 + sectionNs;
  while (hr() < end);
  const t2 = hr();
  mutex.unlock();
  if (n < maxSamples) {
    waits[n] = Number(t1 - t0);
    holds[n] = Number(t2 - t1);
    n++;
  }
  ops++;
}
parentPort.postMessage({
  ops,
  waits: waits.subarray(0, n),
  holds: holds.subarray(0, n),
  stats: handle ? handle.stats : null,
});
