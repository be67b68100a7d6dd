/**
 * The fast path's cost under whichever node runs this file, for the per-Node figures of
 * `npm run bench` (scripts/bench_nodes.ts starts it under each release): the JavaScript path's
 * enter()+exit() and run(fn), cpu() from the area, and an uncontended SliceMutex lock+unlock with
 * its default handle, each the median over batches of INNER operations with the empty loop's time
 * subtracted. Prints one JSON line: { node, ns: { task: ns per operation } }.
 *
 *   node -r tsx/cjs scripts/fast_path_probe.ts MS   (MS: milliseconds of batches per task)
 */
import * as path from 'node:path';
import type * as Package from '../dist';
import type * as HandleModule from '../dist/lab/bench/handle';

const INNER = 1000;
const DIST = path.join(__dirname, '..', 'dist');

/** The tasks, in the order they run (after a warm-up of each). */
export const PROBE_TASKS = [
  'javascript path enter()+exit()',
  'javascript path run(fn)',
  'cpu() from the area',
  'SliceMutex lock+unlock, default handle',
] as const;

export interface ProbeResult {
  node: string;
  ns: Record<(typeof PROBE_TASKS)[number], number>;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function main(): void {
  const ms = Number(process.argv[2]);
  if (!Number.isFinite(ms) || ms <= 0) throw new RangeError(`MS must be a positive number; got ${process.argv[2]}`);
  const { SliceMutex } = require(DIST) as typeof Package;
  const { measuredHandle } = require(path.join(DIST, 'lab', 'bench', 'handle')) as typeof HandleModule;
  const js = measuredHandle('javascript');
  const mutex = SliceMutex.create();
  let sink = 0;
  const fn = (): number => sink + 1;
  // Written out one by one, as in scripts/bench.ts: closures of one literal share V8's feedback.
  const tasks: Record<string, () => void> = {
    empty: () => {
      for (let i = 0; i < INNER; i++) sink += i & 1;
    },
    'javascript path enter()+exit()': () => {
      for (let i = 0; i < INNER; i++) {
        js.enter();
        sink += i & 1;
        js.exit();
      }
    },
    'javascript path run(fn)': () => {
      for (let i = 0; i < INNER; i++) sink = js.run(fn);
    },
    'cpu() from the area': () => {
      for (let i = 0; i < INNER; i++) sink += js.cpu();
    },
    'SliceMutex lock+unlock, default handle': () => {
      for (let i = 0; i < INNER; i++) {
        mutex.lock();
        sink += i & 1;
        mutex.unlock();
      }
    },
  };
  const time = (task: () => void, window: number): number => {
    const batches: number[] = [];
    const end = performance.now() + window;
    while (performance.now() < end) {
      const t0 = process.hrtime.bigint();
      task();
      batches.push(Number(process.hrtime.bigint() - t0) / INNER);
    }
    return median(batches);
  };
  for (const task of Object.values(tasks)) time(task, Math.min(200, ms)); // warm-up: every task optimized
  const empty = time(tasks.empty as () => void, ms);
  const ns = Object.fromEntries(
    PROBE_TASKS.map((name) => [name, Math.max(0, time(tasks[name] as () => void, ms) - empty)]),
  ) as ProbeResult['ns'];
  if (sink === 0.5) console.error(''); // keeps sink observable
  console.log(JSON.stringify({ node: process.version, ns } satisfies ProbeResult));
}

if (require.main === module) main();
