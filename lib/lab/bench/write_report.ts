/** Writes a benchmark result to a directory: bench.json, figures.md, and one SVG chart per scenario. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CHART_LIBRARY_HINT, loadECharts, renderChart } from './chart';
import { formatGoals, formatTable } from './report';
import type { BenchResult } from './run';

export interface WrittenReport {
  files: string[];
  /** Why no SVG was written, when none was. */
  chartsSkipped: string | null;
}

/** The result as JSON text. */
export function resultJson(r: BenchResult): string {
  return JSON.stringify(r, null, 2);
}

/** A file name for a scenario's chart. */
export function chartFileName(scenario: string): string {
  return `${scenario.replace(/[^A-Za-z0-9._+-]/g, '_')}.svg`;
}

export function writeReport(dir: string, r: BenchResult, command: string): WrittenReport {
  fs.mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const put = (name: string, text: string): void => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    files.push(f);
  };
  put('bench.json', resultJson(r));
  put('figures.md', `Made by: \`${command}\`\n\n${formatTable(r.scenarios)}\n\n${formatGoals(r.scenarios)}\n`);
  const echarts = loadECharts();
  if (echarts === null) return { files, chartsSkipped: CHART_LIBRARY_HINT };
  for (const s of r.scenarios) put(chartFileName(s.scenario.name), renderChart(echarts, s));
  return { files, chartsSkipped: null };
}
