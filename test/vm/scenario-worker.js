// A worker of the selftest scenario (test/vm/scenario.ts). Plain JavaScript: workers load it
// without a TypeScript loader. workerData: { role: 'noise' | 'sections', dist, path, spinNs, seconds, stop }
'use strict';
const { parentPort, workerData } = require('node:worker_threads');

const { role, dist, stop } = workerData;
const stopFlag = new Int32Array(stop);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const hr = process.hrtime.bigint;

function spin(ns) {
  const end = hr() + BigInt(ns);
  while (hr() < end);
}

if (role === 'noise') {
  // Like the selftest's noise thread: spin 2 µs, sleep 50 µs, until told to stop.
  parentPort.postMessage('ready');
  while (Atomics.load(stopFlag, 0) === 0) {
    spin(2000);
    Atomics.wait(sleeper, 0, 0, 0.05);
  }
  parentPort.postMessage('done');
} else {
  const { runSections } = require(workerData.scenario);
  parentPort.postMessage(runSections(require(dist), workerData.path, workerData.spinNs, workerData.seconds));
}
