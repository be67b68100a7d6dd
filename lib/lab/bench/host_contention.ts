/**
 * The host contention figures of `npm run bench`, measured by the lock-holder benchmark's own
 * workers (./measure.ts, ./worker.ts): the throughput table (all workers on one lock, the
 * section a counter increment, raw spin lock against SliceMutex with requests off and on, M
 * sections/s and CPU ns per section, no clock read around the lock) and the hold and wait times
 * of SliceMutex with 1–20 µs sections, requests off and on. Either can measure another build's
 * dist/ (`--dist`); a kind that build cannot run is reported n/a with the reason.
 */
import type { SliceStats } from '../../extension';
import type { SliceCounters } from '../../kernel/rseq_stats';
import { ScenarioWorkers, type Measurement, type WorkerOptions, type WorkerSetup } from './measure';
import { concat, percentiles, spread, type Percentiles, type Spread } from './stats';

/** Lock/unlock rounds per worker before the table's clock starts (the lock compiled). */
const TABLE_WARMUP_SECTIONS = 50_000;

/**
 * One measurement with workers started for it alone (the table changes workers and lock from one
 * measurement to the next): the handle measured is ./handle.ts's.
 */
async function measureOnce(
  setup: WorkerSetup,
  request: boolean,
  seconds: number,
  seed: number,
  options: WorkerOptions,
): Promise<Measurement> {
  const workers = new ScenarioWorkers(setup, 'measured', options);
  try {
    return await workers.measure(request, seconds, seed, null);
  } finally {
    await workers.close();
  }
}

/** SliceMutex's hold and wait times under contention, requests off or on. */
export interface HoldTimes {
  request: boolean;
  workers: number;
  sectionsPerSecond: number;
  /** Nearest-rank percentiles over every recorded section of every worker (ns). */
  holdNs: Percentiles;
  waitNs: Percentiles;
  outcomes: SliceStats | null;
  kernel: SliceCounters | null;
  /** The shared counter equals the sections completed. */
  counterOk: boolean;
}

/** Sections of SliceMutex's hold-time figures: 1–20 µs. */
const HOLD_SECTION_NS = { min: 1000, max: 20_000 };

/** `workers` contend for one SliceMutex for `seconds`, sections 1–20 µs, requests off or on. */
export async function measureHoldTimes(o: {
  workers: number;
  seconds: number;
  request: boolean;
  dist?: string;
}): Promise<HoldTimes> {
  const m = await measureOnce(
    {
      workers: o.workers,
      hog: false,
      lock: 'mutex',
      section: 'javascript',
      minSectionNs: HOLD_SECTION_NS.min,
      maxSectionNs: HOLD_SECTION_NS.max,
    },
    o.request,
    o.seconds,
    1,
    o.dist === undefined ? {} : { package: o.dist },
  );
  const holds = m.threads.map((t) => t.released.map((r, i) => r - (t.acquired[i] as number)));
  return {
    request: o.request,
    workers: o.workers,
    sectionsPerSecond: m.sections / m.seconds,
    holdNs: percentiles(concat(holds)),
    waitNs: percentiles(concat(m.threads.map((t) => t.waits))),
    outcomes: m.outcomes,
    kernel: m.kernel,
    counterOk: m.counter === m.sections,
  };
}

function us(ns: number): string {
  return (ns / 1000).toFixed(1);
}

/** One line of hold-time figures. */
export function formatHoldTimes(r: HoldTimes): string {
  const k = r.kernel
    ? ` | debugfs sgrant ${r.kernel.sgrant} syield ${r.kernel.syield} srevok ${r.kernel.srevok} sexpir ${r.kernel.sexpir} sabort ${r.kernel.sabort}`
    : '';
  const out = r.outcomes
    ? ` | yielded ${r.outcomes.yielded} raced ${r.outcomes.raced} revoked ${r.outcomes.revoked}`
    : '';
  return (
    `requests ${r.request ? 'on ' : 'off'} ${String(r.workers)} workers: ${Math.round(r.sectionsPerSecond)} sections/s; ` +
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
  /** Another build's dist/ to measure (`npm run bench -- --dist`); default this build. */
  dist?: string;
  /** SliceMutex's spin option; default the package's own. */
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
            const m = await measureOnce(
              {
                workers,
                hog: false,
                lock: kind === 'spin' ? 'spin' : 'mutex',
                section: 'javascript',
                minSectionNs: o.sectionNs,
                maxSectionNs: o.sectionNs,
              },
              kind === 'mutex-on',
              o.seconds,
              round,
              {
                maxSamples: 0,
                warmup: TABLE_WARMUP_SECTIONS,
                ...(o.dist !== undefined && { package: o.dist }),
                ...(o.spin !== undefined && { mutexSpin: o.spin }),
              },
            );
            run = {
              kind,
              workers,
              round,
              sections: m.sections,
              counter: m.counter,
              mops: m.sections / m.seconds / 1e6,
              cpuNsPerSection: m.cpuNs === null ? null : m.cpuNs / m.sections,
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

/** The table's rows: per worker count, each kind's spread over rounds and SliceMutex / raw spin per round. */
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
