/**
 * One SVG chart per scenario: the hold-time distribution with requests off and on (log scales),
 * the extension length marked. Rendered headless by Apache ECharts' server-side SVG renderer.
 * ECharts is an optional peer: the report's JSON never needs it, and when it does not resolve
 * the caller says how to get it.
 */
import type { ScenarioSummary } from './summary';

// The part of the echarts module this file uses (it is not a dependency of the package).
interface EChartsInstance {
  setOption(option: Record<string, unknown>): void;
  renderToSVGString(): string;
  dispose(): void;
}
interface EChartsModule {
  init(dom: null, theme: null, opts: { renderer: 'svg'; ssr: true; width: number; height: number }): EChartsInstance;
}

/** What to do when the chart library is missing. */
export const CHART_LIBRARY_HINT =
  'SVG charts need the echarts package: npm install echarts (the JSON report is written without it)';

/** The echarts module, or null when it cannot be loaded from here. */
export function loadECharts(): EChartsModule | null {
  try {
    return require('echarts') as EChartsModule;
  } catch {
    return null;
  }
}

/**
 * Histogram bins as a step outline, in sections per 10,000 (so on and off compare whatever their
 * throughput): each non-empty bin is a flat segment from its lower to its upper edge; an empty
 * bin is a gap (null: a log axis cannot show 0, and nothing is drawn across).
 */
export function histogramPoints(h: { edges: number[]; counts: number[] }): Array<[number, number] | null> {
  const out: Array<[number, number] | null> = [];
  const total = h.counts.reduce((a, b) => a + b, 0);
  h.counts.forEach((c, i) => {
    const y = (c * 10_000) / total;
    if (c > 0) out.push([h.edges[i] as number, y], [h.edges[i + 1] as number, y]);
    else if (out.length > 0 && out[out.length - 1] !== null) out.push(null);
  });
  return out;
}

/** The power of ten at or below the lower edge of the first non-empty bin of either histogram. */
export function axisMinimum(...hs: Array<{ edges: number[]; counts: number[] }>): number {
  let lo = Infinity;
  for (const h of hs) {
    const i = h.counts.findIndex((c) => c > 0);
    if (i >= 0) lo = Math.min(lo, h.edges[i] as number);
  }
  return Number.isFinite(lo) ? 10 ** Math.floor(Math.log10(lo) + 1e-9) : 1;
}

/** The power of ten at or below the smallest non-zero share (per 10,000) of either histogram. */
export function countMinimum(...hs: Array<{ counts: number[] }>): number {
  let lo = Infinity;
  for (const h of hs) {
    const total = h.counts.reduce((a, b) => a + b, 0);
    for (const c of h.counts) if (c > 0) lo = Math.min(lo, (c * 10_000) / total);
  }
  return Number.isFinite(lo) ? 10 ** Math.floor(Math.log10(lo) + 1e-9) : 1;
}

// Off is drawn wide and on thin over it, so both show where they coincide.
function histogramSeries(
  name: string,
  color: string,
  width: number,
  h: { edges: number[]; counts: number[] },
): Record<string, unknown> {
  return {
    name,
    type: 'line',
    connectNulls: false,
    showSymbol: false,
    data: histogramPoints(h),
    lineStyle: { width, color },
    itemStyle: { color },
  };
}

/** The ECharts option for one scenario's chart (plain data: testable without rendering). */
export function chartOption(s: ScenarioSummary): Record<string, unknown> {
  const p = s.pooled;
  const fmt = (x: number | null): string => (x === null ? 'n/a' : x.toFixed(1));
  const extUs = s.extensionNsec / 1000;
  return {
    animation: false,
    backgroundColor: '#ffffff',
    title: {
      text: `${s.scenario.name}: hold time, slice requests off vs on`,
      subtext:
        `${s.scenario.workers} threads${s.scenario.hog ? ' + CPU hog' : ''}, sections ${(s.scenario.minSectionNs / 1000).toFixed(1)}–${(s.scenario.maxSectionNs / 1000).toFixed(1)} µs, ` +
        `${s.rounds.length} rounds. Preempted while holding per 10k sections: off ${fmt(p.off.preemptionsPer10k)}, on ${fmt(p.on.preemptionsPer10k)}`,
      left: 'center',
      textStyle: { fontSize: 14 },
      subtextStyle: { fontSize: 11 },
    },
    legend: { top: 56, data: ['requests off', 'requests on'] },
    grid: { left: 70, right: 30, top: 92, bottom: 55 },
    xAxis: {
      type: 'log',
      name: 'hold time (µs)',
      nameLocation: 'middle',
      nameGap: 30,
      min: axisMinimum(s.histogram.off, s.histogram.on),
      logBase: 10,
    },
    yAxis: {
      type: 'log',
      name: 'sections per 10,000',
      min: countMinimum(s.histogram.off, s.histogram.on),
      logBase: 10,
    },
    series: [
      {
        ...histogramSeries('requests off', '#d62728', 4, s.histogram.off),
        markLine: {
          symbol: 'none',
          label: { formatter: `extension ${extUs} µs`, position: 'insideEndTop' },
          lineStyle: { type: 'dashed', color: '#555' },
          data: [{ xAxis: extUs }],
        },
      },
      histogramSeries('requests on', '#1f77b4', 1.5, s.histogram.on),
    ],
  };
}

/** Renders the chart to an SVG string with the given echarts module. */
export function renderChart(echarts: EChartsModule, s: ScenarioSummary, width = 900, height = 480): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption(chartOption(s));
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}
