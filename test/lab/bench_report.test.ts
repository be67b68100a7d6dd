/** The benchmark's options, scenarios, summaries, report, JSON and SVG writing, and its CLI. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { detect } from '../../lib';
import { axisMinimum, chartOption, countMinimum, histogramPoints, loadECharts } from '../../lib/lab/bench/chart';
import type { Measurement } from '../../lib/lab/bench/measure';
import { parseBenchOptions } from '../../lib/lab/bench/options';
import { formatGoals, formatSpread, formatTable } from '../../lib/lab/bench/report';
import type { BenchResult } from '../../lib/lab/bench/run';
import {
  DEFAULT_SCENARIOS,
  resolveScenario,
  SCENARIOS,
  sectionRange,
  selectScenarios,
} from '../../lib/lab/bench/scenarios';
import { summarizeScenario } from '../../lib/lab/bench/summary';
import { chartFileName, writeReport } from '../../lib/lab/bench/write_report';
import { DIST, ROOT } from '../support/paths';
import { skipBecause } from '../support/skip';

const anchor = SCENARIOS[0]!;

/**
 * A synthetic measurement: `sections` holds of `holdNs` each, `preempted` of them stretched to
 * 5 ms and reported by the "trace" as preempted, over one second.
 */
function fake(request: boolean, sections: number, holdNs: number, preempted: number): Measurement {
  const acquired = new Float64Array(sections);
  const released = new Float64Array(sections);
  let t = 0;
  for (let i = 0; i < sections; i++) {
    acquired[i] = t;
    t += i < preempted ? 5_000_000 : holdNs;
    released[i] = t;
    t += 1000;
  }
  return {
    request,
    seconds: 1,
    sections,
    threads: [
      {
        tid: 1,
        sections,
        acquired,
        released,
        waits: new Float64Array(sections).fill(2000),
        outcomes: null,
        cpuNs: null,
      },
    ],
    counter: sections,
    cpuNs: null,
    baseNs: 0n,
    outcomes: request ? { sections, clean: sections - 3, yielded: 3, raced: 0, revoked: 0 } : null,
    kernel: request
      ? { sgrant: 3, sexpir: 0, srevok: 0, syield: 3, sabort: 0 }
      : { sgrant: 0, sexpir: 0, srevok: 0, syield: 0, sabort: 0 },
    trace: {
      preemptedSections: preempted,
      preemptions: preempted,
      blockedWhileHolding: 0,
      switchOuts: preempted + 5,
      overruns: 0,
    },
  };
}

function summary(offPreempted: number[], onPreempted: number[]) {
  const s = resolveScenario(anchor, 2, 50_000);
  return summarizeScenario(
    s,
    50_000,
    250_000,
    offPreempted.map((p, i) => ({ off: fake(false, 10_000, 8000, p), on: fake(true, 10_000, 8000, onPreempted[i]!) })),
  );
}

describe('bench options and scenarios', () => {
  it('defaults: the default scenarios, 3 rounds of 2 s, trace on, no report', () => {
    const o = parseBenchOptions({});
    expect(o.scenarios.map((s) => s.name)).to.deep.equal(DEFAULT_SCENARIOS);
    expect(o).to.deep.include({ rounds: 3, seconds: 2, report: null, json: false, extensionNsec: null, trace: true });
  });

  it('scenario names: repeated or comma separated, sets, no duplicates; unknown names list the accepted ones', () => {
    const o = parseBenchOptions({ scenario: ['quick,spin-js-2x-under', 'spin-js-cpus+1-under'] });
    expect(o.scenarios.map((s) => s.name)).to.deep.equal(['spin-js-cpus+1-under', 'spin-js-2x-under']);
    expect(selectScenarios(['all'])).to.have.length(SCENARIOS.length);
    expect(() => selectScenarios(['nope'])).to.throw(
      RangeError,
      /unknown scenario "nope"; accepted: default, quick, all, spin-js-cpus\+1-under/,
    );
  });

  it('bad numbers are RangeErrors that say what is accepted', () => {
    expect(() => parseBenchOptions({ rounds: '0' })).to.throw(
      RangeError,
      /--rounds must be an integer from 1 to 100; got "0"/,
    );
    expect(() => parseBenchOptions({ rounds: '2.5' })).to.throw(RangeError, /--rounds/);
    expect(() => parseBenchOptions({ seconds: 'x' })).to.throw(
      RangeError,
      /--seconds must be a number from 0.1 to 600/,
    );
    expect(() => parseBenchOptions({ seconds: '' })).to.throw(RangeError, /--seconds/);
    expect(() => parseBenchOptions({ 'extension-nsec': '60000' })).to.throw(
      RangeError,
      /--extension-nsec must be an integer from 5000 to 50000/,
    );
    expect(() => parseBenchOptions({ report: ' ' })).to.throw(RangeError, /--report needs a directory/);
    expect(parseBenchOptions({ 'extension-nsec': '50000', 'no-trace': true, seconds: '0.5' })).to.deep.include({
      extensionNsec: 50000,
      trace: false,
      seconds: 0.5,
    });
  });

  it('section lengths follow the extension; thread counts follow the CPUs', () => {
    expect(sectionRange('under', 50_000)).to.deep.equal({ min: 5000, max: 10_000 });
    expect(sectionRange('near', 50_000)).to.deep.equal({ min: 40_000, max: 50_000 });
    expect(sectionRange('above', 5000)).to.deep.equal({ min: 10_000, max: 15_000 });
    expect(resolveScenario(anchor, 2, 50_000).workers).to.equal(3);
    expect(
      resolveScenario(
        SCENARIOS.find((s) => s.name === 'spin-js-4x-under')!,
        2,
        50_000,
      ).workers,
    ).to.equal(8);
  });

  it('the goals apply to oversubscribed scenarios with sections under the extension only', () => {
    const withGoals = SCENARIOS.filter((s) => s.goals).map((s) => s.name);
    expect(withGoals).to.include('spin-js-cpus+1-under');
    expect(withGoals).to.not.include('spin-js-1x-under');
    expect(withGoals).to.not.include('spin-js-cpus+1-near');
    expect(withGoals).to.include('spin-js-1x-hog-under');
  });
});

describe('bench summaries and report', () => {
  it('per-round ratios, their spread, pooled counts and the goals', () => {
    const s = summary([100, 50, 80], [10, 10, 4]);
    expect(s.rounds.map((r) => r.ratios.preemptions!.toFixed(3))).to.deep.equal(['0.100', '0.200', '0.050']);
    expect(s.spread.preemptions).to.deep.include({ min: 0.05, max: 0.2, rounds: 3 });
    expect(s.spread.preemptions!.median).to.be.closeTo(0.1, 1e-12);
    expect(s.pooled.off.preemptedSections).to.equal(230);
    expect(s.pooled.off.preemptionsPer10k).to.be.closeTo(230 / 3, 1e-9);
    // The stretched holds are the long holds (over 250 µs).
    expect(s.pooled.off.longHolds).to.equal(230);
    expect(s.pooled.on.outcomes).to.deep.include({ yielded: 9 });
    expect(s.pooled.on.kernel).to.deep.include({ sgrant: 9, syield: 9 });
    expect(s.rounds[0]!.on.holdNs.p50).to.equal(8000);
    const goals = Object.fromEntries(s.goals!.map((g) => [g.name, g.met]));
    expect(goals).to.deep.equal({
      'holder preemptions on/off': true,
      'hold p99.9 on/off': true,
      'throughput on/off': true,
    });
    expect(s.histogram.off.counts.reduce((a, b) => a + b)).to.equal(30_000);
  });

  it('a missed goal is reported as MISSED; rounds with no preemptions off still count (1 if none on either, Infinity if on is worse)', () => {
    const missed = summary([10, 10, 10], [10, 10, 10]);
    expect(formatGoals([missed])).to.match(/holder preemptions on\/off 1\.00 \(goal <= 0\.2\) MISSED/);
    const none = summary([0, 0, 0], [0, 0, 0]);
    expect(none.spread.preemptions).to.deep.equal({ min: 1, median: 1, max: 1, rounds: 3 });
    const worse = summary([0, 10, 10], [5, 1, 1]);
    expect(worse.spread.preemptions).to.deep.include({ min: 0.1, median: 0.1, max: Infinity, rounds: 3 });
    expect(formatSpread(null)).to.equal('n/a');
  });

  it('the table has one row per scenario with the counts off → on and the ratio spread', () => {
    const table = formatTable([summary([100, 50, 80], [10, 10, 4])]);
    const rows = table.split('\n');
    expect(rows).to.have.length(3);
    expect(rows[2]).to.match(
      /^\| spin-js-cpus\+1-under \| 3 \| 5\.0–10\.0 \| 76\.7 → 8\.00 \| 0\.10× \(0\.05–0\.20\) \|/,
    );
    expect(rows[2]).to.contain('| 9/0/0 | 9/9/0/0/0 |');
  });

  it('chart option: log axes, both series, the extension marked; empty bins left out', () => {
    const s = summary([100, 50, 80], [10, 10, 4]);
    const o = chartOption(s) as {
      xAxis: { type: string };
      yAxis: { type: string };
      series: Array<{ name: string; data: unknown[]; markLine?: { data: Array<{ xAxis: number }> } }>;
    };
    expect(o.xAxis.type).to.equal('log');
    expect(o.yAxis.type).to.equal('log');
    expect(o.series.map((x) => x.name)).to.deep.equal(['requests off', 'requests on']);
    expect(o.series[0]!.markLine!.data[0]!.xAxis).to.equal(50);
    expect(histogramPoints({ edges: [1, 10, 100, 1000, 10_000], counts: [0, 6, 0, 2] })).to.deep.equal([
      [10, 7500],
      [100, 7500],
      null,
      [1000, 2500],
      [10_000, 2500],
    ]);
    expect(countMinimum({ counts: [0, 6, 0, 2] }, { counts: [1, 9999] })).to.equal(1);
    expect(
      axisMinimum({ edges: [0.1, 1, 10, 100], counts: [0, 0, 3] }, { edges: [0.1, 0.5, 1], counts: [0, 1] }),
    ).to.equal(0.1);
    expect(axisMinimum({ edges: [0.1, 2, 10], counts: [0, 3] })).to.equal(1);
  });

  it('writes bench.json, figures.md and one SVG per scenario', function () {
    if (loadECharts() === null) skipBecause(this, 'echarts (a devDependency) is not installed: no charts to check');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-report-'));
    try {
      const s = summary([100, 50, 80], [10, 10, 4]);
      const result: BenchResult = {
        environment: {
          cpus: 2,
          kernel: 'test',
          extensionNsec: 50_000,
          extensionSource: 'set',
          traceUnavailable: null,
          kernelCounters: true,
        },
        rounds: 3,
        seconds: 1,
        warmupSeconds: 1,
        scenarios: [s],
      };
      const w = writeReport(dir, result, 'rseq-slice bench --report x');
      expect(w.chartsSkipped).to.equal(null);
      expect(fs.readdirSync(dir).sort()).to.deep.equal(
        ['bench.json', 'figures.md', chartFileName(s.scenario.name)].sort(),
      );
      const json = JSON.parse(fs.readFileSync(path.join(dir, 'bench.json'), 'utf8')) as BenchResult;
      expect(json.scenarios[0]!.pooled.off.preemptedSections).to.equal(230);
      expect(fs.readFileSync(path.join(dir, 'figures.md'), 'utf8')).to.contain(
        'Made by: `rseq-slice bench --report x`',
      );
      const svg = fs.readFileSync(path.join(dir, chartFileName(s.scenario.name)), 'utf8');
      expect(svg).to.match(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      for (const text of ['requests off', 'requests on', 'extension 50 µs', 'hold time (µs)'])
        expect(svg).to.contain(text);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('rseq-slice bench (CLI)', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [path.join(DIST, 'cli', 'main.js'), 'bench', ...args], { cwd: ROOT, encoding: 'utf8' });

  it('bad usage exits 2 with the reason', () => {
    const r = cli('--rounds', 'x');
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain('--rounds must be an integer');
    expect(cli('--frobnicate').status).to.equal(2);
    expect(cli('--scenario', 'nope').stderr).to.contain('unknown scenario');
  });

  it('--list names every scenario and marks the default set', () => {
    const r = cli('--list');
    expect(r.status).to.equal(0);
    expect(r.stdout.trim().split('\n')).to.have.length(SCENARIOS.length);
    expect(r.stdout).to.contain('spin-js-cpus+1-under (default, quick)');
  });

  it('without the slice extension it explains why and exits 1', function () {
    const d = detect();
    if (d.sliceExtension.available)
      skipBecause(
        this,
        'this kernel grants: the refusal path is not reachable here (npm run bench:vm runs the benchmark itself)',
      );
    const r = cli('--scenario', 'quick', '--rounds', '1', '--seconds', '0.1');
    expect(r.status).to.equal(1);
    expect(r.stderr).to.contain(
      `the kernel cannot grant slice extensions here, so there is nothing to compare: ${d.sliceExtension.reason}`,
    );
  });
});
