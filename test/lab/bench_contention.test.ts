/**
 * The host contention figures of `npm run bench` (lib/lab/bench/host_contention.ts, run by the
 * lab's workers, so from dist/): the throughput table's runs, summary, format and an older dist,
 * and SliceMutex's hold-time figures.
 */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as HostContention from '../../lib/lab/bench/host_contention';
import type { LockTableRun } from '../../lib/lab/bench/host_contention';
import { DIST } from '../support/paths';

const { formatHoldTimes, formatLockTable, measureHoldTimes, runLockTable, summarizeLockTable, TABLE_KINDS } =
  require('../../dist/lab/bench/host_contention') as typeof HostContention;

describe('bench: contention table', () => {
  it('a tiny run: every kind and worker count measured, the counter equals the completed sections', async function () {
    this.timeout(60_000);
    const runs = await runLockTable({ workers: [1, 3], rounds: 2, seconds: 0.05, sectionNs: 0 });
    expect(runs).to.have.length(2 * 2 * TABLE_KINDS.length);
    for (const r of runs) {
      expect(r.error, `${r.kind} ${r.workers}`).to.equal(undefined);
      expect(r.sections, `${r.kind} ${r.workers}`).to.be.greaterThan(0);
      expect(r.counter, `${r.kind} ${r.workers}`).to.equal(r.sections);
      expect(r.mops).to.be.greaterThan(0);
    }
    // Kinds rotate per round: round 1 starts with the first kind, round 2 with the second.
    expect(runs.filter((r) => r.round === 2).map((r) => r.kind)).to.deep.equal([
      'mutex-off',
      'mutex-on',
      'spin',
      'mutex-off',
      'mutex-on',
      'spin',
    ]);
    const rows = summarizeLockTable(runs);
    expect(rows.map((r) => r.workers)).to.deep.equal([1, 3]);
    for (const row of rows) {
      expect(row.countersOk).to.equal(true);
      expect(row.cells.spin!.mops!.rounds).to.equal(2);
      expect(row.ratios['mutex-on']!.rounds).to.equal(2);
    }
    const text = formatLockTable(rows);
    expect(text.split('\n')).to.have.length(4);
    expect(text).to.match(/^\| workers \| raw spin M\/s \| CPU ns\/section \| SliceMutex off M\/s/);
  });

  it('sections with a spin: the counter still equals the sections', async function () {
    this.timeout(60_000);
    const runs = await runLockTable({ workers: [2], rounds: 1, seconds: 0.05, sectionNs: 2000, kinds: ['mutex-off'] });
    expect(runs).to.have.length(1);
    expect(runs[0]!.counter).to.equal(runs[0]!.sections);
    expect(runs[0]!.sections).to.be.greaterThan(0);
  });

  it('ratios pair kinds within a round; a kind an older dist cannot run is n/a, the rest measured', async function () {
    this.timeout(60_000);
    const run = (kind: LockTableRun['kind'], round: number, mops: number): LockTableRun => ({
      kind,
      workers: 2,
      round,
      sections: 10,
      counter: 10,
      mops,
      cpuNsPerSection: 100,
    });
    const [row] = summarizeLockTable([
      run('spin', 1, 10),
      run('mutex-off', 1, 20),
      run('spin', 2, 40),
      run('mutex-off', 2, 20),
    ]);
    expect(row!.ratios['mutex-off']).to.deep.equal({ min: 0.5, median: 1.25, max: 2, rounds: 2 });
    expect(row!.cells['mutex-off']!.mops).to.deep.include({ median: 20 });

    // A dist without SliceMutex (and without dist/addon, dist/random).
    const old = fs.mkdtempSync(path.join(os.tmpdir(), 'rseq-old-dist-'));
    try {
      fs.writeFileSync(
        path.join(old, 'index.js'),
        `const p = require(${JSON.stringify(DIST)}); module.exports = { detect: p.detect, open: p.open };`,
      );
      const runs = await runLockTable({ workers: [2], rounds: 1, seconds: 0.05, sectionNs: 0, dist: old });
      const by = Object.fromEntries(runs.map((r) => [r.kind, r]));
      expect(by.spin!.error).to.equal(undefined);
      expect(by.spin!.counter).to.equal(by.spin!.sections);
      expect(by['mutex-off']!.error).to.be.a('string');
      expect(by['mutex-on']!.error).to.be.a('string');
      const text = formatLockTable(summarizeLockTable(runs));
      expect(text).to.include('n/a');
    } finally {
      fs.rmSync(old, { recursive: true, force: true });
    }
  });

  it('hold times: SliceMutex with 1–20 µs sections, nearest-rank percentiles, the counter checked', async function () {
    this.timeout(60_000);
    for (const request of [false, true]) {
      const r = await measureHoldTimes({ workers: 2, seconds: 0.1, request });
      expect(r.counterOk).to.equal(true);
      expect(r.sectionsPerSecond).to.be.greaterThan(0);
      expect(r.holdNs.p50).to.be.at.least(900); // sections spin at least 1 µs
      expect(r.holdNs.p99).to.be.at.least(r.holdNs.p50);
      expect(r.holdNs.max).to.be.at.least(r.holdNs.p99);
      expect(r.outcomes === null).to.equal(!request);
      expect(formatHoldTimes(r)).to.match(
        new RegExp(`^requests ${request ? 'on ' : 'off'} 2 workers: \\d+ sections/s`),
      );
    }
  });
});
