/**
 * From raw measurements to the figures the report shows: per measurement (counts, percentiles,
 * throughput), per round (on/off ratios), per scenario (ratio spread over rounds, pooled counts,
 * the goals). Everything here is plain data, ready for JSON.
 */
import type { SliceStats } from '../../extension';
import type { SliceCounters } from '../../kernel/rseq_stats';
import type { Measurement } from './measure';
import { countLongHolds } from './preemptions';
import type { ResolvedScenario } from './scenarios';
import {
  concat,
  logHistogram,
  per10k,
  percentiles,
  ratio,
  spread,
  type LogHistogram,
  type Percentiles,
  type Spread,
} from './stats';

export interface MeasurementSummary {
  request: boolean;
  sections: number;
  /** Sections with recorded times (all of them unless a worker ran out of room). */
  recorded: number;
  throughput: number;
  holdNs: Percentiles;
  waitNs: Percentiles;
  /** Holds longer than the scenario's long-hold threshold. */
  longHolds: number;
  longHoldsPer10k: number;
  /** From sched_switch: sections whose holder was preempted; null without the trace. */
  preemptedSections: number | null;
  preemptionsPer10k: number | null;
  blockedWhileHolding: number | null;
  traceOverruns: number | null;
  outcomes: SliceStats | null;
  kernel: SliceCounters | null;
}

/** Hold times (released − acquired) of every recorded section of a measurement. */
function holdTimes(m: Pick<Measurement, 'threads'>): Float64Array {
  return concat(
    m.threads.map((t) => {
      const h = new Float64Array(t.acquired.length);
      for (let i = 0; i < h.length; i++) h[i] = (t.released[i] as number) - (t.acquired[i] as number);
      return h;
    }),
  );
}

export function summarizeMeasurement(m: Measurement, longHoldNs: number): MeasurementSummary {
  const holds = holdTimes(m);
  const recorded = holds.length;
  const longHolds = countLongHolds(holds, longHoldNs);
  return {
    request: m.request,
    sections: m.sections,
    recorded,
    throughput: m.sections / m.seconds,
    holdNs: percentiles(holds),
    waitNs: percentiles(concat(m.threads.map((t) => t.waits))),
    longHolds,
    longHoldsPer10k: per10k(longHolds, recorded),
    preemptedSections: m.trace ? m.trace.preemptedSections : null,
    preemptionsPer10k: m.trace ? per10k(m.trace.preemptedSections, recorded) : null,
    blockedWhileHolding: m.trace ? m.trace.blockedWhileHolding : null,
    traceOverruns: m.trace ? m.trace.overruns : null,
    outcomes: m.outcomes,
    kernel: m.kernel,
  };
}

/** The on/off ratios of one round. */
export interface RoundRatios {
  preemptions: number | null;
  longHolds: number | null;
  holdP999: number | null;
  waitP999: number | null;
  throughput: number | null;
}

function roundRatios(off: MeasurementSummary, on: MeasurementSummary): RoundRatios {
  return {
    preemptions:
      on.preemptionsPer10k === null || off.preemptionsPer10k === null
        ? null
        : ratio(on.preemptionsPer10k, off.preemptionsPer10k),
    longHolds: ratio(on.longHoldsPer10k, off.longHoldsPer10k),
    holdP999: ratio(on.holdNs.p999, off.holdNs.p999),
    waitP999: ratio(on.waitNs.p999, off.waitNs.p999),
    throughput: ratio(on.throughput, off.throughput),
  };
}

/** Sums of one side (on or off) over all rounds. */
export interface Pooled {
  sections: number;
  recorded: number;
  preemptedSections: number | null;
  preemptionsPer10k: number | null;
  longHolds: number;
  longHoldsPer10k: number;
  outcomes: SliceStats | null;
  kernel: SliceCounters | null;
}

function addInto<T extends object>(into: T | null, add: T | null): T | null {
  if (add === null) return into;
  if (into === null) return { ...add };
  const out = { ...into } as Record<string, number>;
  for (const [k, v] of Object.entries(add)) out[k] = (out[k] ?? 0) + (v as number);
  return out as T;
}

export function pool(side: readonly MeasurementSummary[]): Pooled {
  const recorded = side.reduce((n, m) => n + m.recorded, 0);
  const traced = side.every((m) => m.preemptedSections !== null);
  const preempted = traced ? side.reduce((n, m) => n + (m.preemptedSections as number), 0) : null;
  const longHolds = side.reduce((n, m) => n + m.longHolds, 0);
  return {
    sections: side.reduce((n, m) => n + m.sections, 0),
    recorded,
    preemptedSections: preempted,
    preemptionsPer10k: preempted === null ? null : per10k(preempted, recorded),
    longHolds,
    longHoldsPer10k: per10k(longHolds, recorded),
    outcomes: side.reduce<SliceStats | null>((t, m) => addInto(t, m.outcomes), null),
    kernel: side.reduce<SliceCounters | null>((t, m) => addInto(t, m.kernel), null),
  };
}

/** One goal of the issue: a ratio's median over rounds against its limit. */
export interface GoalCheck {
  name: string;
  limit: string;
  median: number | null;
  met: boolean | null;
}

export interface ScenarioSummary {
  scenario: ResolvedScenario;
  extensionNsec: number;
  longHoldThresholdNs: number;
  rounds: Array<{ off: MeasurementSummary; on: MeasurementSummary; ratios: RoundRatios }>;
  spread: { [K in keyof RoundRatios]: Spread | null };
  pooled: { off: Pooled; on: Pooled };
  /** Hold-time histograms over all rounds (µs, log bins), for the chart. */
  histogram: { off: LogHistogram; on: LogHistogram };
  goals: GoalCheck[] | null;
}

function goal(name: string, limit: string, s: Spread | null, ok: (x: number) => boolean): GoalCheck {
  return { name, limit, median: s ? s.median : null, met: s ? ok(s.median) : null };
}

/** The goals for oversubscribed scenarios with sections under the extension. */
function checkGoals(sp: ScenarioSummary['spread']): GoalCheck[] {
  return [
    sp.preemptions !== null
      ? goal('holder preemptions on/off', '<= 0.2', sp.preemptions, (x) => x <= 0.2)
      : goal('long holds on/off (no trace)', '<= 0.2', sp.longHolds, (x) => x <= 0.2),
    goal('hold p99.9 on/off', '<= 0.5', sp.holdP999, (x) => x <= 0.5),
    goal('throughput on/off', '>= 0.95', sp.throughput, (x) => x >= 0.95),
  ];
}

/** Summarizes a scenario's rounds (each a pair of off and on measurements, in run order). */
export function summarizeScenario(
  scenario: ResolvedScenario,
  extensionNsec: number,
  longHoldThresholdNs: number,
  rounds: ReadonlyArray<{ off: Measurement; on: Measurement }>,
): ScenarioSummary {
  const rs = rounds.map((r) => {
    const off = summarizeMeasurement(r.off, longHoldThresholdNs);
    const on = summarizeMeasurement(r.on, longHoldThresholdNs);
    return { off, on, ratios: roundRatios(off, on) };
  });
  const keys: Array<keyof RoundRatios> = ['preemptions', 'longHolds', 'holdP999', 'waitP999', 'throughput'];
  const sp = Object.fromEntries(keys.map((k) => [k, spread(rs.map((r) => r.ratios[k]))])) as ScenarioSummary['spread'];
  const holdsUs = (side: 'off' | 'on'): Float64Array => {
    const all = concat(rounds.map((r) => holdTimes(r[side])));
    for (let i = 0; i < all.length; i++) all[i] = (all[i] as number) / 1000;
    return all;
  };
  const offUs = holdsUs('off');
  const onUs = holdsUs('on');
  let top = 10;
  for (const x of offUs) if (x > top) top = x;
  for (const x of onUs) if (x > top) top = x;
  const lo = 0.1;
  return {
    scenario,
    extensionNsec,
    longHoldThresholdNs,
    rounds: rs,
    spread: sp,
    pooled: { off: pool(rs.map((r) => r.off)), on: pool(rs.map((r) => r.on)) },
    histogram: { off: logHistogram(offUs, lo, 10, top), on: logHistogram(onUs, lo, 10, top) },
    goals: scenario.goals ? checkGoals(sp) : null,
  };
}
