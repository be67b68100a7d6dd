'use strict';
/**
 * A ring buffer in a SharedArrayBuffer, shared by producer workers and one consumer worker. Each
 * push and pop takes the ring's own spin lock inside `slice.run()`: the kernel is asked not to
 * preempt a thread while it holds the lock, and the lock is released before run() ends, so a
 * granted extension is given back with the lock already free.
 *
 *   node ring-buffer.js [PRODUCERS=2] [ITEMS=50000]
 *
 * Each producer pushes ITEMS numbered items; the consumer pops until it has them all and checks
 * that every producer's items arrived once each, in order. Prints what moved and each thread's
 * sections. Waiting (ring full or empty, lock held) happens outside any section: a thread never
 * sleeps while it asks not to be preempted. Exit 0: every item arrived in order; 1: one did not,
 * or a worker failed; 2: bad arguments.
 */
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const { open } = require('rseq-slice');

const CAPACITY = 64;
// Int32 words: the lock (0 free, 1 held), the next slot to pop, the next slot to push, the number
// of items in the ring, then CAPACITY slots.
const LOCK = 0;
const HEAD = 1;
const TAIL = 2;
const SIZE = 3;
const SLOTS = 4;

function positiveInteger(name, text, fallback, max) {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    console.error(`ring-buffer: ${name} must be an integer from 1 to ${max}; got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return n;
}

/** Runs `op` on the ring with its lock held, inside a section of `slice`; returns op's result. */
function locked(ring, slice, op) {
  // Take the lock outside the section, sleeping while another thread holds it. (A plain lock: a
  // thread that dies holding it strands the others; SliceMutex, in worker-pool-counters.js, does not.)
  while (Atomics.compareExchange(ring, LOCK, 0, 1) !== 0) Atomics.wait(ring, LOCK, 1);
  const result = slice.run(() => {
    try {
      return op();
    } finally {
      Atomics.store(ring, LOCK, 0); // release before run() ends and yields a grant
    }
  });
  // Wake a sleeper after the section: a system call inside it would end a grant early.
  Atomics.notify(ring, LOCK, 1);
  return result;
}

function tryPush(ring, value) {
  if (ring[SIZE] === CAPACITY) return false;
  ring[SLOTS + ring[TAIL]] = value;
  ring[TAIL] = (ring[TAIL] + 1) % CAPACITY;
  Atomics.add(ring, SIZE, 1);
  return true;
}

function tryPop(ring) {
  if (ring[SIZE] === 0) return -1;
  const value = ring[SLOTS + ring[HEAD]];
  ring[HEAD] = (ring[HEAD] + 1) % CAPACITY;
  Atomics.sub(ring, SIZE, 1);
  return value;
}

function producer(ring, slice, id, items) {
  let full = 0;
  for (let i = 0; i < items; i++) {
    const value = id * items + i; // who pushed it and its number, for the consumer's check
    while (!locked(ring, slice, () => tryPush(ring, value))) {
      full++;
      Atomics.wait(ring, SIZE, CAPACITY, 10); // until the consumer makes room
    }
    Atomics.notify(ring, SIZE);
  }
  return { role: `producer ${id}`, moved: items, waits: full, stats: slice.stats };
}

function consumer(ring, slice, producers, items) {
  const next = new Array(producers).fill(0); // the number each producer's next item must have
  let empty = 0;
  let outOfOrder = 0;
  for (let got = 0; got < producers * items; got++) {
    let value;
    while ((value = locked(ring, slice, () => tryPop(ring))) === -1) {
      empty++;
      Atomics.wait(ring, SIZE, 0, 10); // until a producer pushes
    }
    Atomics.notify(ring, SIZE);
    const id = Math.floor(value / items);
    if (value % items !== next[id]) outOfOrder++;
    next[id] = (value % items) + 1;
  }
  const complete = next.every((n) => n === items);
  return { role: 'consumer', moved: producers * items, waits: empty, stats: slice.stats, outOfOrder, complete };
}

function worker() {
  const { buffer, role, id, producers, items } = workerData;
  const ring = new Int32Array(buffer);
  const slice = open(); // one handle per thread
  const report = role === 'producer' ? producer(ring, slice, id, items) : consumer(ring, slice, producers, items);
  parentPort.postMessage({ ...report, backend: slice.backend });
}

function start(data) {
  return new Promise((resolve, reject) => {
    const w = new Worker(__filename, { workerData: data });
    let report;
    w.once('message', (m) => (report = m));
    w.once('error', reject);
    w.once('exit', (code) =>
      code === 0 && report ? resolve(report) : reject(new Error(`worker exited with ${code}`)),
    );
  });
}

async function main() {
  const producers = positiveInteger('PRODUCERS', process.argv[2], 2, 16);
  const items = positiveInteger('ITEMS', process.argv[3], 50000, 10_000_000);
  if (producers * items > 2 ** 31 - 1) {
    console.error('ring-buffer: PRODUCERS × ITEMS must fit a 32-bit slot');
    process.exit(2);
  }
  const buffer = new SharedArrayBuffer((SLOTS + CAPACITY) * 4);
  const reports = await Promise.all([
    start({ buffer, role: 'consumer', producers, items }),
    ...Array.from({ length: producers }, (_, id) => start({ buffer, role: 'producer', id, producers, items })),
  ]);
  const [c] = reports;
  const ok = c.complete && c.outOfOrder === 0;
  console.log(`backend: ${c.backend}`);
  console.log(`ring of ${CAPACITY} slots: ${producers} producers × ${items} items, 1 consumer`);
  console.log(
    `moved ${c.moved} items; every producer's items arrived once, in order: ${ok ? 'yes' : `NO (${c.outOfOrder} out of order)`}`,
  );
  for (const r of reports) {
    const s = r.stats;
    console.log(
      `${r.role}: ${r.moved} items in ${s.sections} sections (${r.waits} found the ring ${r.role === 'consumer' ? 'empty' : 'full'}); ` +
        `clean ${s.clean}, yielded ${s.yielded}, raced ${s.raced}, revoked ${s.revoked}`,
    );
  }
  return ok ? 0 : 1;
}

if (isMainThread) {
  main().then(
    (code) => (process.exitCode = code),
    (err) => {
      console.error(`ring-buffer: ${err.stack ?? err}`);
      process.exitCode = 1;
    },
  );
} else {
  worker();
}
