/**
 * The goal lines of scripts/bench.ts: each goal compares a task with its baseline round by round
 * (both measured in the same interleaved rounds), and is judged on the median of the per-round
 * figures, printed with their range.
 */
import { spread, type Spread } from '../lib/lab/bench/stats';

/** A goal judged from one interleaved run: `name` against `baseline`, per round. */
export interface Goal {
  /** The issue that sets the goal (the goal lines are grouped by it). */
  issue: number;
  name: string;
  baseline: string;
  /** 'ratio': name / baseline <= limit; 'extra-ns': name - baseline <= limit ns. */
  measure: 'ratio' | 'extra-ns';
  limit: number;
  /** Printed instead of `name / baseline`. */
  label?: string;
  /** Print both tasks' ns per operation and the figure of every round under the goal line. */
  showRounds?: boolean;
  /** Why the tasks were not measured (the goal line says so instead of a figure). */
  skipped?: string;
}

export interface GoalResult extends Goal {
  /** Median, min and max over rounds of the per-round figure; null when no round has one. */
  value: Spread | null;
  /** Whether the median is within the limit; null without a figure. */
  met: boolean | null;
  /** Per round: ns per operation of `name` and of `baseline`, and the figure (ratio or extra ns). */
  rounds: { name: number[]; baseline: number[]; values: number[] };
}

/**
 * Judges each goal from `perRound` (task name -> ns per operation, one entry per round, as
 * interleaved() measures it): per round i, `name[i] / baseline[i]` (or the difference), so that
 * drift between rounds cancels; the median of those decides. A goal whose tasks were not measured
 * (skipped, or absent from `perRound`) has no figure.
 */
export function judge(perRound: ReadonlyMap<string, readonly number[]>, goals: readonly Goal[]): GoalResult[] {
  return goals.map((g) => {
    const ns = g.skipped === undefined ? perRound.get(g.name) : undefined;
    const base = g.skipped === undefined ? perRound.get(g.baseline) : undefined;
    if (ns === undefined || base === undefined)
      return { ...g, value: null, met: null, rounds: { name: [], baseline: [], values: [] } };
    const n = Math.min(ns.length, base.length);
    const values: number[] = [];
    for (let i = 0; i < n; i++) {
      const x = ns[i] as number;
      const b = base[i] as number;
      values.push(g.measure === 'ratio' ? x / b : x - b);
    }
    const value = spread(values);
    return {
      ...g,
      value,
      met: value === null || Number.isNaN(value.median) ? null : value.median <= g.limit,
      rounds: { name: ns.slice(0, n), baseline: base.slice(0, n), values },
    };
  });
}

/** The goal's line (and, with showRounds, its per-round lines), indented for the report. */
export function formatGoal(g: GoalResult): string[] {
  const v = g.value;
  const unit = g.measure === 'ratio' ? 'x' : ' ns';
  const label = g.label ?? `${g.name} ${g.measure === 'ratio' ? '/' : '-'} ${g.baseline}`;
  const goal = g.limit === Infinity ? 'no goal: the floor' : `goal <= ${g.limit}${unit}`;
  if (g.skipped !== undefined) return [`  ${label.padEnd(92)} ${'n/a'.padEnd(22)} ${goal} skipped: ${g.skipped}`];
  const shown = v ? `${v.median.toFixed(2)}${unit} (${v.min.toFixed(2)}–${v.max.toFixed(2)})` : 'n/a';
  const verdict = g.met === null || g.limit === Infinity ? '' : g.met ? 'met' : 'MISSED';
  const lines = [`  ${label.padEnd(92)} ${shown.padEnd(22)} ${goal} ${verdict}`.trimEnd()];
  if (g.showRounds && g.rounds.values.length > 0) {
    const list = (xs: readonly number[]): string => xs.map((x) => x.toFixed(2)).join(' ');
    lines.push(
      `    ns per operation by round: ${g.name}: ${list(g.rounds.name)}`,
      `    ns per operation by round: ${g.baseline}: ${list(g.rounds.baseline)}`,
      `    ${g.measure === 'ratio' ? 'ratio' : 'difference (ns)'} by round: ${list(g.rounds.values)}`,
    );
  }
  return lines;
}
