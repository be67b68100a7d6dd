/** The benchmark's human report: a Markdown table of the figures per scenario, and progress lines. */
import type { MeasurementSummary, ScenarioSummary } from './summary';
import type { Spread } from './stats';

function fixed(x: number | null, digits = 2): string {
  return x === null ? '–' : x.toFixed(digits);
}

/** "0.12× (0.08–0.20)": the median ratio over rounds and its min–max spread. */
export function formatSpread(s: Spread | null): string {
  if (s === null) return 'n/a';
  return `${fixed(s.median)}× (${fixed(s.min)}–${fixed(s.max)})`;
}

function per10k(x: number | null): string {
  return x === null ? '–' : x < 10 ? x.toFixed(2) : x.toFixed(1);
}

/** One line per measurement while the benchmark runs. */
export function formatMeasurement(name: string, round: number, m: MeasurementSummary): string {
  const us = (ns: number): string => (ns / 1000).toFixed(1);
  const o = m.outcomes;
  const k = m.kernel;
  return (
    `${name} round ${round} ${m.request ? 'on ' : 'off'}: ${Math.round(m.throughput)} sections/s; ` +
    `preempted while held ${m.preemptedSections ?? '–'} (${per10k(m.preemptionsPer10k)}/10k), long holds ${m.longHolds}; ` +
    `hold p50/p99/p99.9/max ${us(m.holdNs.p50)}/${us(m.holdNs.p99)}/${us(m.holdNs.p999)}/${us(m.holdNs.max)} µs` +
    (o ? `; clean ${o.clean} yielded ${o.yielded} raced ${o.raced} revoked ${o.revoked}` : '') +
    (k ? `; debugfs grant ${k.sgrant} yield ${k.syield} expir ${k.sexpir} revok ${k.srevok} abort ${k.sabort}` : '') +
    // The ring buffer wrapped: the preemption count is a lower bound for this measurement.
    (m.traceOverruns ? `; TRACE LOST ${m.traceOverruns} events (count is a lower bound)` : '')
  );
}

function countsOf(s: ScenarioSummary): string {
  const o = s.pooled.on.outcomes;
  const k = s.pooled.on.kernel;
  const ours = o ? `${o.yielded}/${o.raced}/${o.revoked}` : '–';
  const kernel = k ? `${k.sgrant}/${k.syield}/${k.sexpir}/${k.srevok}/${k.sabort}` : '–';
  return `${ours} | ${kernel}`;
}

/** The figures table (Markdown), one row per scenario. */
export function formatTable(summaries: readonly ScenarioSummary[]): string {
  const head =
    '| scenario | threads | section µs | preempted while held /10k off → on | ratio (spread) | long holds /10k off → on | hold p99.9 on/off | throughput on/off | ours on: yielded/raced/revoked | debugfs on: grant/yield/expir/revok/abort |\n' +
    '|---|---|---|---|---|---|---|---|---|---|';
  const rows = summaries.map((s) => {
    const sc = s.scenario;
    const p = s.pooled;
    return (
      `| ${sc.name} | ${sc.workers}${sc.hog ? ' + hog' : ''} | ${(sc.minSectionNs / 1000).toFixed(1)}–${(sc.maxSectionNs / 1000).toFixed(1)} | ` +
      `${per10k(p.off.preemptionsPer10k)} → ${per10k(p.on.preemptionsPer10k)} | ${formatSpread(s.spread.preemptions)} | ` +
      `${per10k(p.off.longHoldsPer10k)} → ${per10k(p.on.longHoldsPer10k)} | ${formatSpread(s.spread.holdP999)} | ${formatSpread(s.spread.throughput)} | ${countsOf(s)} |`
    );
  });
  return [head, ...rows].join('\n');
}

/** The goals of the scenarios they apply to: met, missed (and by how much), or not measurable. */
export function formatGoals(summaries: readonly ScenarioSummary[]): string {
  const lines: string[] = [];
  for (const s of summaries) {
    if (s.goals === null) continue;
    const parts = s.goals.map(
      (g) => `${g.name} ${fixed(g.median)} (goal ${g.limit}) ${g.met === null ? 'n/a' : g.met ? 'met' : 'MISSED'}`,
    );
    lines.push(`${s.scenario.name}: ${parts.join('; ')}`);
    const missed = s.goals.some((g) => g.met === false);
    const k = s.pooled.on.kernel;
    if (missed && k && k.sgrant > 0) {
      // A grant that expired let the preemption happen inside the section after all.
      lines.push(
        `  grants that expired before the section ended: ${k.sexpir} of ${k.sgrant} (${((100 * k.sexpir) / k.sgrant).toFixed(1)} %)`,
      );
    }
  }
  return lines.join('\n');
}
