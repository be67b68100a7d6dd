'use strict';
/**
 * A worker_threads pool sharing a counter table (a SharedArrayBuffer) under one SliceMutex: while
 * a worker holds the lock it asks the kernel not to preempt it, so the others do not wait out a
 * preempted holder's time slice.
 *
 *   node worker-pool-counters.js [WORKERS=4] [INCREMENTS=20000]
 *
 * Every worker increments one key of the table and the table's total INCREMENTS times. The main
 * thread checks that the total and the sum of the keys are exactly WORKERS × INCREMENTS, prints
 * them and each worker's section stats. Exit 0: exact; 1: a count is off or a worker failed;
 * 2: bad arguments.
 */
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const { open, SliceMutex, SLICE_MUTEX_BYTES } = require('rseq-slice');

const KEYS = 8;
// The shared layout: the mutex's word, then KEYS counters, then their total.
const TABLE_OFFSET = SLICE_MUTEX_BYTES;
const TABLE_BYTES = SLICE_MUTEX_BYTES + (KEYS + 1) * 4;

function table(buffer) {
  const counts = new Int32Array(buffer, TABLE_OFFSET, KEYS);
  const total = new Int32Array(buffer, TABLE_OFFSET + KEYS * 4, 1);
  return { counts, total };
}

function positiveInteger(name, text, fallback, max) {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    console.error(`worker-pool-counters: ${name} must be an integer from 1 to ${max}; got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return n;
}

function formatStats(s) {
  return `sections ${s.sections}, clean ${s.clean}, yielded ${s.yielded}, raced ${s.raced}, revoked ${s.revoked}`;
}

function worker() {
  const { buffer, index, increments } = workerData;
  // One handle per thread: the kernel's request byte belongs to the thread that sets it.
  const slice = open();
  const mutex = new SliceMutex(buffer, 0, { slice });
  const { counts, total } = table(buffer);
  // A worker that died holding the lock (terminate(), an uncaught error) may have bumped its key
  // but not the total: the next locker is told, rebuilds the total, and goes on.
  const repair = () => {
    total[0] = counts.reduce((a, b) => a + b, 0);
  };
  for (let i = 0; i < increments; i++) {
    const key = (index + i) % KEYS;
    mutex.withLock(() => {
      counts[key]++;
      total[0]++;
    }, repair);
  }
  parentPort.postMessage({ index, stats: slice.stats, backend: slice.backend, fallbackReason: slice.fallbackReason });
}

async function main() {
  const workers = positiveInteger('WORKERS', process.argv[2], 4, 64);
  const increments = positiveInteger('INCREMENTS', process.argv[3], 20000, 10_000_000);
  if (workers * increments > 2 ** 31 - 1) {
    console.error('worker-pool-counters: WORKERS × INCREMENTS must fit a 32-bit counter');
    process.exit(2);
  }
  const buffer = new SharedArrayBuffer(TABLE_BYTES); // zeroed: the mutex starts unlocked
  const reports = await Promise.all(
    Array.from(
      { length: workers },
      (_, index) =>
        new Promise((resolve, reject) => {
          const w = new Worker(__filename, { workerData: { buffer, index, increments } });
          let report;
          w.once('message', (m) => (report = m));
          w.once('error', reject);
          w.once('exit', (code) =>
            code === 0 && report ? resolve(report) : reject(new Error(`worker ${index} exited with ${code}`)),
          );
        }),
    ),
  );

  // Every worker has ended: the table is read without the lock.
  const { counts, total } = table(buffer);
  const expected = workers * increments;
  const sum = counts.reduce((a, b) => a + b, 0);
  const first = reports[0];
  console.log(
    `backend: ${first.backend}${first.fallbackReason ? ` (the kernel cannot grant: ${first.fallbackReason})` : ''}`,
  );
  console.log(`counter table after ${workers} workers × ${increments} increments:`);
  counts.forEach((n, key) => console.log(`  key ${key}: ${n}`));
  const exact = total[0] === expected && sum === expected;
  console.log(`  total: ${total[0]} (sum of keys ${sum}, expected ${expected}): ${exact ? 'exact' : 'WRONG'}`);
  for (const r of reports) console.log(`worker ${r.index}: ${formatStats(r.stats)}`);
  return exact ? 0 : 1;
}

if (isMainThread) {
  main().then(
    (code) => (process.exitCode = code),
    (err) => {
      console.error(`worker-pool-counters: ${err.stack ?? err}`);
      process.exitCode = 1;
    },
  );
} else {
  worker();
}
