/** The benchmark's statistics and its two preemption counts, on synthetic data. */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { logHistogram, per10k, percentiles, ratio, spread } from '../../lib/lab/bench/stats';
import {
  countHeldSwitches,
  countLongHolds,
  longHoldThresholdNs,
  parseSchedSwitch,
  type HoldWindows,
} from '../../lib/lab/bench/preemptions';
import { parseOverruns, selectedClock } from '../../lib/lab/bench/tracefs';

describe('bench statistics', () => {
  it('percentiles are nearest-rank over the samples', () => {
    const s = Float64Array.from({ length: 1000 }, (_, i) => 1000 - i); // 1..1000, unsorted
    expect(percentiles(s)).to.deep.equal({ count: 1000, p50: 500, p99: 990, p999: 999, max: 1000 });
    expect(percentiles(new Float64Array([7]))).to.deep.equal({ count: 1, p50: 7, p99: 7, p999: 7, max: 7 });
    expect(percentiles(new Float64Array(0)).count).to.equal(0);
    expect(s[0]).to.equal(1000); // the input is not reordered
  });

  it('a ratio over zero still counts (1 when both are 0, Infinity when on is worse), and the spread leaves only null rounds out', () => {
    expect(ratio(1, 0)).to.equal(Infinity);
    expect(ratio(0, 0)).to.equal(1);
    expect(spread([0.1, Infinity, Infinity])).to.deep.equal({ min: 0.1, median: Infinity, max: Infinity, rounds: 3 });
    expect(ratio(1, 4)).to.equal(0.25);
    expect(spread([0.5, null, 0.1, 0.3])).to.deep.equal({ min: 0.1, median: 0.3, max: 0.5, rounds: 3 });
    expect(spread([0.2, 0.4])).to.deep.equal({ min: 0.2, median: 0.30000000000000004, max: 0.4, rounds: 2 });
    expect(spread([null])).to.equal(null);
  });

  it('per10k scales to 10,000 sections and is 0 without sections', () => {
    expect(per10k(3, 30_000)).to.equal(1);
    expect(per10k(3, 0)).to.equal(0);
  });

  it('log histogram: bins per decade, every sample counted once, below lo in the first bin', () => {
    const h = logHistogram(new Float64Array([0.01, 1, 1.5, 10, 99, 100]), 1, 2, 100);
    expect(h.edges.map((e) => Number(e.toPrecision(6)))).to.deep.equal([1, 3.16228, 10, 31.6228, 100]);
    expect(h.counts).to.deep.equal([3, 0, 1, 2]); // 10 opens [10, 31.6); 100, the top edge, stays in the last bin
    expect(h.counts.reduce((a, b) => a + b)).to.equal(6);
    expect(() => logHistogram(new Float64Array(1), 0, 2)).to.throw(RangeError, /lo must be > 0/);
    expect(() => logHistogram(new Float64Array(1), 1, 0)).to.throw(RangeError, /binsPerDecade/);
  });
});

// Lines as the 7.2 kernel's tracefs `trace` file prints them (trace_clock mono).
const TRACE = `# tracer: nop
#
# entries-in-buffer/entries-written: 6/6   #P:2
#                                _-----=> irqs-off/BH-disabled
           <...>-812     [001] d..2.   100.000004: sched_switch: prev_comm=node prev_pid=812 prev_prio=120 prev_state=R ==> next_comm=node next_pid=813 next_prio=120
            node-813     [001] d..2.   100.000050: sched_switch: prev_comm=node prev_pid=813 prev_prio=120 prev_state=R+ ==> next_comm=swapper/1 next_pid=0 next_prio=120
     kworker/0:1-20      [000] d..2.   100.000060: sched_switch: prev_comm=kworker/0:1 prev_pid=20 prev_prio=120 prev_state=I ==> next_comm=node next_pid=812 next_prio=120
            node-812     [000] d..2.   100.000070: sched_switch: prev_comm=node prev_pid=812 prev_prio=120 prev_state=S ==> next_comm=swapper/0 next_pid=0 next_prio=120
            node-812     [000] d..2.   100.000075: sched_switch: prev_comm=node prev_pid=812 prev_prio=120 prev_state=R ==> next_comm=swapper/0 next_pid=0 next_prio=120
            node-812     [000] d..2.   100.000076: sched_switch: prev_comm=node prev_pid=812 prev_prio=120 prev_state=R ==> next_comm=swapper/0 next_pid=0 next_prio=120
`;

describe('bench preemption counts', () => {
  it('parses sched_switch lines (µs timestamps, pids, state) and skips the rest', () => {
    const e = parseSchedSwitch(TRACE);
    expect(e).to.have.length(6);
    expect(e[0]).to.deep.equal({ us: 100_000_004, prevPid: 812, prevState: 'R', nextPid: 813 });
    expect(e[1]).to.deep.include({ prevPid: 813, prevState: 'R+', nextPid: 0 });
    expect(e[2]).to.deep.include({ prevPid: 20, prevState: 'I' });
  });

  it('counts switch-outs inside the holder’s own windows only, a section once however often it was preempted', () => {
    // base = 100 s + 0.5 µs: windows are ns since then.
    const base = 100_000_000_500n;
    const w812: HoldWindows = {
      tid: 812,
      // [3.5, 5.5] µs holds the R switch printed at 4 µs; [69.5, 76.5] holds the S and both Rs.
      acquired: new Float64Array([3000, 69_000]),
      released: new Float64Array([5000, 76_000]),
    };
    const w813: HoldWindows = { tid: 813, acquired: new Float64Array([10_000]), released: new Float64Array([20_000]) };
    const c = countHeldSwitches(parseSchedSwitch(TRACE), [w812, w813], base);
    // 813's switch at 50 µs is after its release (like the yield after a granted section): not
    // counted; nor is 812's R printed at 76 µs, which happened in [75.5, 76.5) µs since base and
    // so may follow the release at 76.0 (the yield's switch right after a granted section).
    expect(c).to.deep.equal({ preemptedSections: 2, preemptions: 2, blockedWhileHolding: 1, switchOuts: 5 });
  });

  it('an event printed one microsecond before the window may belong to it; at the release only a whole microsecond inside counts', () => {
    const ev = [{ us: 10, prevPid: 1, prevState: 'R', nextPid: 0 }];
    const at = (acq: number, rel: number): number =>
      countHeldSwitches(ev, [{ tid: 1, acquired: new Float64Array([acq]), released: new Float64Array([rel]) }], 0n)
        .preemptedSections;
    expect(at(10_500, 20_000)).to.equal(1); // happened in [10, 11) µs: may be after 10.5 µs
    expect(at(11_000, 20_000)).to.equal(0);
    expect(at(5_000, 11_000)).to.equal(1); // [10, 11) µs ends by the release
    expect(at(5_000, 10_999)).to.equal(0); // may be the yield's switch just after the release
    expect(at(5_000, 10_000)).to.equal(0);
  });

  it('long holds: longer than the longest section plus the extension plus the margin', () => {
    const t = longHoldThresholdNs(10_000, 50_000, 100_000);
    expect(t).to.equal(160_000);
    expect(countLongHolds(new Float64Array([5_000, 160_000, 160_001, 3e6]), t)).to.equal(2);
  });

  it('tracefs helpers: the selected clock and the overrun count', () => {
    expect(selectedClock('[local] global counter uptime perf mono mono_raw boot tai x86-tsc\n')).to.equal('local');
    expect(selectedClock('local global [mono]')).to.equal('mono');
    expect(selectedClock('nothing selected')).to.equal(null);
    expect(parseOverruns(['entries: 5\noverrun: 3\ncommit overrun: 0\n', 'overrun: 4\n', 'no such line'])).to.equal(7);
  });
});

describe('bench kernel counters', () => {
  it('reads the counters through the shared parser, and gives null where they are unreadable (the bench runs on without)', () => {
    const { readRseqStatsOrNull } = require('../../lib/kernel/knobs') as typeof import('../../lib/kernel/knobs');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rseq-bench-stats-'));
    try {
      const file = path.join(dir, 'stats');
      fs.writeFileSync(file, 'exit:  12\nsignal: 0\nsgrant: 10\nsexpir: 2\nsrevok: 3\nsyield: 9\nsabort: 0\n');
      expect(readRseqStatsOrNull(file)).to.deep.equal({ sgrant: 10, sexpir: 2, srevok: 3, syield: 9, sabort: 0 });
      fs.writeFileSync(file, 'sgrant: 1\n');
      expect(readRseqStatsOrNull(file)).to.equal(null);
      expect(readRseqStatsOrNull(path.join(dir, 'missing'))).to.equal(null);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
