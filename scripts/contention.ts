/**
 * The lock-holder preemption benchmark: workers contend for one SliceMutex, each critical section
 * spinning a random 1–20 µs, optionally with a CPU hog, with slice-extension requests on or off.
 * More runnable threads than CPUs is where preemption inside a section hurts: "on" should shorten
 * the tail of hold times on a kernel that grants extensions.
 *
 *   node -r tsx/cjs scripts/contention.ts [--workers 4] [--seconds 2] [--rounds 3] [--hog] [--json]
 *                                          [--extension-nsec N]   (writes debugfs, root)
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { readKernelSliceStats, writeExtensionNsec } from '../lib/bench/debugfs';
import { concat } from '../lib/bench/stats';
import { countersDelta, type SliceCounters } from '../lib/rseq_stats';

export interface ContentionOptions {
  workers: number;
  seconds: number;
  slice: 'on' | 'off';
  hog: boolean;
  minNs?: number;
  maxNs?: number;
}

export interface Distribution {
  p50: number;
  p99: number;
  max: number;
}

export interface ContentionResult {
  slice: 'on' | 'off';
  workers: number;
  opsPerSec: number;
  waitNs: Distribution;
  holdNs: Distribution;
  outcomes: { sections: number; clean: number; yielded: number; raced: number; revoked: number } | null;
  kernel: SliceCounters | null;
  counterOk: boolean;
}

function distribution(samples: Float64Array[]): Distribution {
  const all = concat(samples);
  all.sort();
  const at = (q: number): number =>
    all.length ? (all[Math.min(all.length - 1, Math.floor(q * all.length))] as number) : 0;
  return { p50: at(0.5), p99: at(0.99), max: all.length ? (all[all.length - 1] as number) : 0 };
}

/** One measurement: workers contend for `seconds`; returns throughput, wait/hold percentiles, counters. */
export async function runContention(o: ContentionOptions): Promise<ContentionResult> {
  const buffer = new SharedArrayBuffer(16);
  const stop = new SharedArrayBuffer(8); // [stop, start], see contention-worker.js
  const stopFlag = new Int32Array(stop);
  const before = readKernelSliceStats();
  const hog = o.hog
    ? new Worker(
        'const f = new Int32Array(require("node:worker_threads").workerData); let x = 0; while (Atomics.load(f, 0) === 0) x++;',
        { eval: true, workerData: stop },
      )
    : null;
  const workers = Array.from(
    { length: o.workers },
    (_, i) =>
      new Worker(path.join(__dirname, 'contention-worker.js'), {
        workerData: {
          buffer,
          stop,
          slice: o.slice,
          minNs: o.minNs ?? 1000,
          maxNs: o.maxNs ?? 20000,
          seed: i + 1,
          maxSamples: 1_000_000,
        },
      }),
  );
  type Report = { ops: number; waits: Float64Array; holds: Float64Array; stats: ContentionResult['outcomes'] };
  const ready: Array<Promise<unknown>> = [];
  const results = workers.map(
    (w) =>
      new Promise<Report>((resolve, reject) => {
        ready.push(new Promise((r) => w.once('message', r)));
        w.once('message', () => w.once('message', resolve));
        w.once('error', reject);
      }),
  );
  await Promise.all(ready);
  Atomics.store(stopFlag, 1, 1);
  Atomics.notify(stopFlag, 1);
  await new Promise((r) => setTimeout(r, o.seconds * 1000));
  Atomics.store(stopFlag, 0, 1);
  const done = await Promise.all(results);
  await Promise.all(workers.map((w) => w.terminate()));
  if (hog) await hog.terminate();
  const after = readKernelSliceStats();
  const ops = done.reduce((n, d) => n + d.ops, 0);
  if (ops === 0) throw new Error('no worker completed a critical section: the measurement is empty');
  let outcomes: ContentionResult['outcomes'] = null;
  for (const d of done) {
    if (!d.stats) continue;
    outcomes ??= { sections: 0, clean: 0, yielded: 0, raced: 0, revoked: 0 };
    for (const k of Object.keys(outcomes) as Array<keyof NonNullable<ContentionResult['outcomes']>>)
      outcomes[k] += d.stats[k];
  }
  const kernel = before && after ? countersDelta(before, after) : null;
  return {
    slice: o.slice,
    workers: o.workers,
    opsPerSec: ops / o.seconds,
    waitNs: distribution(done.map((d) => d.waits)),
    holdNs: distribution(done.map((d) => d.holds)),
    outcomes,
    kernel,
    counterOk: new Int32Array(buffer, 8, 1)[0] === ops,
  };
}

function us(ns: number): string {
  return (ns / 1000).toFixed(1);
}

export function formatResult(r: ContentionResult): string {
  const k = r.kernel
    ? ` | debugfs sgrant ${r.kernel.sgrant} syield ${r.kernel.syield} srevok ${r.kernel.srevok} sexpir ${r.kernel.sexpir} sabort ${r.kernel.sabort}`
    : '';
  const out = r.outcomes
    ? ` | yielded ${r.outcomes.yielded} raced ${r.outcomes.raced} revoked ${r.outcomes.revoked}`
    : '';
  return (
    `slice ${r.slice.padEnd(3)} ${String(r.workers)} workers: ${Math.round(r.opsPerSec)} ops/s; ` +
    `hold p50/p99/max ${us(r.holdNs.p50)}/${us(r.holdNs.p99)}/${us(r.holdNs.max)} µs; ` +
    `wait p50/p99/max ${us(r.waitNs.p50)}/${us(r.waitNs.p99)}/${us(r.waitNs.max)} µs${out}${k}${r.counterOk ? '' : ' | COUNTER MISMATCH'}`
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workers: { type: 'string', default: '4' },
      seconds: { type: 'string', default: '2' },
      rounds: { type: 'string', default: '3' },
      hog: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'extension-nsec': { type: 'string' },
    },
  });
  if (values['extension-nsec'] !== undefined) {
    // debugfs rseq/slice_ext_nsec (root): under emulation the 5 µs default often runs out first.
    writeExtensionNsec(Number(values['extension-nsec']));
  }
  const workers = Number(values.workers);
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  for (const [name, v] of [
    ['workers', workers],
    ['seconds', seconds],
    ['rounds', rounds],
  ] as const) {
    if (!Number.isFinite(v) || v <= 0 || (name !== 'seconds' && !Number.isInteger(v)))
      throw new Error(`--${name} must be a positive ${name === 'seconds' ? 'number' : 'integer'}; got ${String(v)}`);
  }
  const all: ContentionResult[] = [];
  if (!values.json)
    console.log(
      `${os.cpus().length} CPUs, kernel ${os.release()}, ${workers} workers${values.hog ? ' + a CPU hog' : ''}, sections 1–20 µs, ${seconds} s per measurement`,
    );
  for (let round = 1; round <= rounds; round++) {
    for (const slice of ['off', 'on'] as const) {
      const r = await runContention({ workers, seconds, slice, hog: values.hog });
      all.push(r);
      if (!values.json) console.log(`round ${round}: ${formatResult(r)}`);
    }
  }
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const ratio = (f: (r: ContentionResult) => number): number =>
    median(all.filter((r) => r.slice === 'on').map(f)) / median(all.filter((r) => r.slice === 'off').map(f));
  const summary = {
    throughputOnOverOff: ratio((r) => r.opsPerSec),
    holdP99OnOverOff: ratio((r) => r.holdNs.p99),
    waitP99OnOverOff: ratio((r) => r.waitNs.p99),
  };
  if (values.json) console.log(JSON.stringify({ results: all, summary }, null, 2));
  else
    console.log(
      `median over rounds, on/off: throughput ${summary.throughputOnOverOff.toFixed(3)}x, hold p99 ${summary.holdP99OnOverOff.toFixed(3)}x, wait p99 ${summary.waitP99OnOverOff.toFixed(3)}x`,
    );
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
