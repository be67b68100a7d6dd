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
export const CHART_LIBRARY_HINT = 'SVG charts need the echarts package: npm install echarts (the JSON report is written without it)';

/** The echarts module, or null when it cannot be loaded from here. */
export function loadECharts(): EChartsModule | null {
  try {
    return require('echarts') as EChartsModule;
  } catch {
    return null;
  }
}

/** Histogram bins as [bin centre µs, count] points; empty bins left out (log axis). */
export function histogramPoints(h: { edges: number[]; counts: number[] }): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  h.counts.forEach((c, i) => {
    if (c > 0) out.push([Math.sqrt((h.edges[i] as number) * (h.edges[i + 1] as number)), c]);
  });
  return out;
}

/** The ECharts option for one scenario's chart (plain data: testable without rendering). */
export function chartOption(s: ScenarioSummary): Record<string, unknown> {
  const p = s.pooled;
  const fmt = (x: number | null): string => (x === null ? 'n/a' : x.toFixed(1));
  const extUs = s.extensionNs / 1000;
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
    legend: { top: 48, data: ['requests off', 'requests on'] },
    grid: { left: 70, right: 30, top: 80, bottom: 55 },
    xAxis: { type: 'log', name: 'hold time (µs)', nameLocation: 'middle', nameGap: 30, min: s.histogram.off.edges[0], logBase: 10 },
    yAxis: { type: 'log', name: 'sections', min: 1, logBase: 10 },
    series: [
      {
        name: 'requests off',
        type: 'line',
        step: 'middle',
        showSymbol: false,
        data: histogramPoints(s.histogram.off),
        lineStyle: { width: 2, color: '#d62728' },
        itemStyle: { color: '#d62728' },
        markLine: {
          symbol: 'none',
          label: { formatter: `extension ${extUs} µs`, position: 'insideEndTop' },
          lineStyle: { type: 'dashed', color: '#555' },
          data: [{ xAxis: extUs }],
        },
      },
      {
        name: 'requests on',
        type: 'line',
        step: 'middle',
        showSymbol: false,
        data: histogramPoints(s.histogram.on),
        lineStyle: { width: 2, color: '#1f77b4' },
        itemStyle: { color: '#1f77b4' },
      },
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
