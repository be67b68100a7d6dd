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
import { readRseqStatsOrNull, writeExtensionNsec } from '../lib/kernel/knobs';
import { concat, spread, type Spread } from '../lib/lab/bench/stats';
import { countersDelta, type SliceCounters } from '../lib/kernel/rseq_stats';

export interface ContentionOptions {
  workers: number;
  seconds: number;
  slice: 'on' | 'off';
  hog: boolean;
  /** Section spin range; maxNs 0: the section is the counter increment alone. Default 1–20 µs. */
  minNs?: number;
  maxNs?: number;
  /** 'slicemutex' (default) or 'spin', a raw compare-exchange spin lock (`slice` ignored). */
  kind?: LockKind;
  /** The compiled package the workers use (default this checkout's dist/). */
  dist?: string;
  /** SliceMutex's spin option; default: the package's default. */
  spin?: number;
  /** Wait/hold samples kept per worker; 0: no clock read around the lock at all. Default 1e6. */
  maxSamples?: number;
  /** Lock/unlock rounds per worker before the clock starts (default 0). */
  warmup?: number;
}

export type LockKind = 'slicemutex' | 'spin';

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
  /** The shared counter at the end (every section increments it once under the lock). */
  counter: number;
  kind: LockKind;
  /** Sections completed, summed over workers. */
  sections: number;
  /** Measured seconds from start to stop. */
  elapsed: number;
  /** CPU time of the workers' threads while measuring, summed; null where schedstat is unreadable. */
  cpuNs: number | null;
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
  const before = readRseqStatsOrNull();
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
          kind: o.kind ?? 'slicemutex',
          dist: o.dist,
          spin: o.spin,
          minNs: o.minNs ?? 1000,
          maxNs: o.maxNs ?? 20000,
          seed: i + 1,
          maxSamples: o.maxSamples ?? 1_000_000,
          warmup: o.warmup ?? 0,
        },
      }),
  );
  type Report = {
    ops: number;
    warm: number;
    waits: Float64Array;
    holds: Float64Array;
    stats: ContentionResult['outcomes'];
    cpuNs: number | null;
  };
  const ready: Array<Promise<unknown>> = [];
  const results = workers.map(
    (w) =>
      new Promise<Report>((resolve, reject) => {
        ready.push(new Promise((r) => w.once('message', r)));
        w.once('message', () => w.once('message', resolve));
        w.once('error', reject);
      }),
  );
  // A worker that fails to start (e.g. an older dist without what it asks for) rejects here.
  try {
    await Promise.race([Promise.all(ready), Promise.all(results)]);
  } catch (e) {
    await Promise.all(workers.map((w) => w.terminate()));
    if (hog) await hog.terminate();
    throw e;
  }
  const t0 = process.hrtime.bigint();
  Atomics.store(stopFlag, 1, 1);
  Atomics.notify(stopFlag, 1);
  await new Promise((r) => setTimeout(r, o.seconds * 1000));
  Atomics.store(stopFlag, 0, 1);
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const done = await Promise.all(results);
  await Promise.all(workers.map((w) => w.terminate()));
  if (hog) await hog.terminate();
  const after = readRseqStatsOrNull();
  const ops = done.reduce((n, d) => n + d.ops, 0);
  const warm = done.reduce((n, d) => n + d.warm, 0);
  if (ops === 0) throw new Error('no worker completed a critical section: the measurement is empty');
  let outcomes: ContentionResult['outcomes'] = null;
  for (const d of done) {
    if (!d.stats) continue;
    outcomes ??= { sections: 0, clean: 0, yielded: 0, raced: 0, revoked: 0 };
    for (const k of Object.keys(outcomes) as Array<keyof NonNullable<ContentionResult['outcomes']>>)
      outcomes[k] += d.stats[k];
  }
  const kernel = before && after ? countersDelta(before, after) : null;
  const cpu = done.every((d) => typeof d.cpuNs === 'number') ? done.reduce((n, d) => n + (d.cpuNs as number), 0) : null;
  return {
    slice: o.slice,
    kind: o.kind ?? 'slicemutex',
    workers: o.workers,
    sections: ops,
    elapsed,
    cpuNs: cpu,
    opsPerSec: ops / elapsed,
    waitNs: distribution(done.map((d) => d.waits)),
    holdNs: distribution(done.map((d) => d.holds)),
    outcomes,
    kernel,
    counter: ((new Int32Array(buffer, 8, 1)[0] as number) - warm) | 0,
    counterOk: new Int32Array(buffer, 8, 1)[0] === ops + warm,
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

/** The lock kinds of the contention table: the raw spin lock and SliceMutex with requests off and on. */
export const TABLE_KINDS = ['spin', 'mutex-off', 'mutex-on'] as const;
export type TableKind = (typeof TABLE_KINDS)[number];
export const TABLE_KIND_NAMES: Record<TableKind, string> = {
  spin: 'raw spin',
  'mutex-off': 'SliceMutex off',
  'mutex-on': 'SliceMutex on',
};

export interface LockTableOptions {
  /** Worker counts (rows). */
  workers: readonly number[];
  rounds: number;
  /** Seconds per measurement. */
  seconds: number;
  /** Section length beyond the counter increment, ns (0: the increment alone). */
  sectionNs: number;
  kinds?: readonly TableKind[];
  dist?: string;
  spin?: number;
}

/** One measurement of the table, or why a kind could not be measured with this dist. */
export interface LockTableRun {
  kind: TableKind;
  workers: number;
  round: number;
  sections: number;
  counter: number;
  mops: number;
  cpuNsPerSection: number | null;
  error?: string;
}

/**
 * The contention table: every round measures every worker count and kind once, the kinds in a
 * rotated order per round so that drift (frequency, other load) hits all of them alike.
 */
export async function runLockTable(o: LockTableOptions, progress?: (r: LockTableRun) => void): Promise<LockTableRun[]> {
  const kinds = o.kinds ?? TABLE_KINDS;
  const runs: LockTableRun[] = [];
  const failed = new Map<TableKind, string>();
  for (let round = 1; round <= o.rounds; round++) {
    for (const workers of o.workers) {
      for (let k = 0; k < kinds.length; k++) {
        const kind = kinds[(k + round - 1) % kinds.length] as TableKind;
        let run: LockTableRun;
        const known = failed.get(kind);
        if (known !== undefined) {
          run = { kind, workers, round, sections: 0, counter: 0, mops: NaN, cpuNsPerSection: null, error: known };
        } else {
          try {
            const r = await runContention({
              workers,
              seconds: o.seconds,
              slice: kind === 'mutex-on' ? 'on' : 'off',
              kind: kind === 'spin' ? 'spin' : 'slicemutex',
              hog: false,
              minNs: o.sectionNs,
              maxNs: o.sectionNs,
              maxSamples: 0,
              warmup: 50_000,
              dist: o.dist,
              spin: o.spin,
            });
            run = {
              kind,
              workers,
              round,
              sections: r.sections,
              counter: r.counter,
              mops: r.opsPerSec / 1e6,
              cpuNsPerSection: r.cpuNs === null ? null : r.cpuNs / r.sections,
            };
          } catch (e) {
            const error = e instanceof Error ? e.message : String(e);
            failed.set(kind, error);
            run = { kind, workers, round, sections: 0, counter: 0, mops: NaN, cpuNsPerSection: null, error };
          }
        }
        runs.push(run);
        progress?.(run);
      }
    }
  }
  return runs;
}

export interface LockTableRow {
  workers: number;
  cells: Partial<Record<TableKind, { mops: Spread | null; cpuNsPerSection: Spread | null; error?: string }>>;
  /** SliceMutex / raw spin throughput, per round in the same round, spread over rounds. */
  ratios: Partial<Record<'mutex-off' | 'mutex-on', Spread | null>>;
  /** Every measurement's counter equals its completed sections. */
  countersOk: boolean;
}

export function summarizeLockTable(runs: readonly LockTableRun[]): LockTableRow[] {
  const workerCounts = [...new Set(runs.map((r) => r.workers))];
  return workerCounts.map((workers) => {
    const mine = runs.filter((r) => r.workers === workers);
    const row: LockTableRow = {
      workers,
      cells: {},
      ratios: {},
      countersOk: mine.every((r) => r.error !== undefined || r.counter === r.sections),
    };
    for (const kind of TABLE_KINDS) {
      const of = mine.filter((r) => r.kind === kind);
      if (of.length === 0) continue;
      const error = of.find((r) => r.error !== undefined)?.error;
      row.cells[kind] = {
        mops: spread(of.map((r) => (r.error === undefined ? r.mops : null))),
        cpuNsPerSection: spread(of.map((r) => r.cpuNsPerSection)),
        ...(error === undefined ? {} : { error }),
      };
    }
    for (const kind of ['mutex-off', 'mutex-on'] as const) {
      const pairs = mine
        .filter((r) => r.kind === kind && r.error === undefined)
        .map((r) => {
          const base = mine.find((b) => b.kind === 'spin' && b.round === r.round && b.error === undefined);
          return base ? r.mops / base.mops : null;
        });
      if (mine.some((r) => r.kind === kind)) row.ratios[kind] = spread(pairs);
    }
    return row;
  });
}

function cell(s: Spread | null | undefined, digits: number): string {
  if (!s) return 'n/a';
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
}

/** The table (Markdown): per worker count, M sections/s and CPU ns per section by kind, and the ratios. */
export function formatLockTable(rows: readonly LockTableRow[]): string {
  const kinds = TABLE_KINDS.filter((k) => rows.some((r) => r.cells[k] !== undefined));
  const head =
    `| workers | ${kinds.map((k) => `${TABLE_KIND_NAMES[k]} M/s | CPU ns/section`).join(' | ')} | ` +
    `${kinds
      .filter((k) => k !== 'spin')
      .map((k) => `${TABLE_KIND_NAMES[k]} / raw spin`)
      .join(' | ')} |`;
  const sep = `|${'---|'.repeat(head.split('|').length - 2)}`;
  const lines = rows.map(
    (r) =>
      `| ${r.workers} | ${kinds
        .map((k) => `${cell(r.cells[k]?.mops, 2)} | ${cell(r.cells[k]?.cpuNsPerSection, 0)}`)
        .join(' | ')} | ${kinds
        .filter((k): k is 'mutex-off' | 'mutex-on' => k !== 'spin')
        .map((k) => `${cell(r.ratios[k], 2)}×`)
        .join(' | ')} |${r.countersOk ? '' : ' COUNTER MISMATCH'}`,
  );
  const errors = [...new Set(rows.flatMap((r) => Object.values(r.cells).flatMap((c) => (c?.error ? [c.error] : []))))];
  return [head, sep, ...lines, ...errors.map((e) => `n/a: ${e}`)].join('\n');
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
