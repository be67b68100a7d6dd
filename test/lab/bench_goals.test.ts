/** The goal lines of scripts/bench.ts (scripts/bench_goals.ts), on synthetic per-round figures. */
import { expect } from 'chai';
import { formatGoal, judge, type Goal } from '../../scripts/bench_goals';

const HEADER = 'native section pair through include/rseq_slice.h (a consumer addon)';
const ADDON = "native section pair, rseq-slice's addon (sectionLoop)";

/** Issue 20's goal as scripts/bench.ts states it. */
const headerGoal: Goal = {
  issue: 20,
  name: HEADER,
  baseline: ADDON,
  measure: 'ratio',
  limit: 1.1,
  label: "header section pair / addon's native loop (ns per section pair)",
  showRounds: true,
};

describe('bench goals', () => {
  it("header section pair / addon's native loop: the ratio is taken per round, then its median and range", () => {
    // Round 3 is slow for both (drift): per round it is still 1.0; pooled medians would not pair them.
    const perRound = new Map([
      [HEADER, [1.1, 1.0, 5.0, 1.2, 0.9]],
      [ADDON, [1.0, 1.0, 5.0, 1.0, 1.0]],
    ]);
    const [r] = judge(perRound, [headerGoal]);
    expect(r!.rounds.values.map((x) => Number(x.toFixed(6)))).to.deep.equal([1.1, 1, 1, 1.2, 0.9]);
    expect(r!.rounds.name).to.deep.equal([1.1, 1.0, 5.0, 1.2, 0.9]);
    expect(r!.rounds.baseline).to.deep.equal([1.0, 1.0, 5.0, 1.0, 1.0]);
    expect(r!.value!.median).to.equal(1);
    expect(r!.value!.min).to.equal(0.9);
    expect(r!.value!.max).to.be.closeTo(1.2, 1e-12);
    expect(r!.value!.rounds).to.equal(5);
    expect(r!.met).to.equal(true);
  });

  it('the median decides: met at 1.10x, missed above it, whatever one round says', () => {
    // The header goal judged on these per-round figures (ns per section pair).
    const judged = (header: number[], addon: number[]) =>
      judge(
        new Map([
          [HEADER, header],
          [ADDON, addon],
        ]),
        [headerGoal],
      )[0]!;
    const at = judged([1.1, 2.2, 11], [1, 2, 10]);
    expect(at.value!.median).to.be.closeTo(1.1, 1e-12);
    expect(at.met).to.equal(true);
    const above = judged([0.5, 1.2, 1.3], [1, 1, 1]);
    expect(above.value!.min).to.equal(0.5);
    expect(above.value!.median).to.equal(1.2);
    expect(above.met).to.equal(false);
  });

  it('extra-ns goals take the per-round difference', () => {
    const g: Goal = { issue: 18, name: 'a', baseline: 'b', measure: 'extra-ns', limit: 1 };
    const [r] = judge(
      new Map([
        ['a', [3, 4, 10]],
        ['b', [2, 2, 9.5]],
      ]),
      [g],
    );
    expect(r!.rounds.values).to.deep.equal([1, 2, 0.5]);
    expect(r!.value!.median).to.equal(1);
    expect(r!.met).to.equal(true);
  });

  it('a skipped or unmeasured goal has no figure and no verdict; its line says why', () => {
    const skipped: Goal = { ...headerGoal, skipped: 'no g++ to build the consumer addon' };
    const perRound = new Map([[ADDON, [1, 1]]]);
    for (const g of [skipped, headerGoal]) {
      const [r] = judge(perRound, [g]);
      expect(r!.value).to.equal(null);
      expect(r!.met).to.equal(null);
      expect(r!.rounds.values).to.deep.equal([]);
    }
    const lines = formatGoal(judge(perRound, [skipped])[0]!);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(
      /^ {2}header section pair \/ addon's native loop \(ns per section pair\) +n\/a +goal <= 1\.1x skipped: no g\+\+ to build the consumer addon$/,
    );
  });

  it('the goal line: median (min–max) and the verdict, then both tasks and the ratio by round', () => {
    const [r] = judge(
      new Map([
        [HEADER, [0.62, 0.6, 0.7]],
        [ADDON, [0.6, 0.6, 0.6]],
      ]),
      [headerGoal],
    );
    const lines = formatGoal(r!);
    expect(lines[0]).to.match(
      /^ {2}header section pair \/ addon's native loop \(ns per section pair\) +1\.03x \(1\.00–1\.17\) +goal <= 1\.1x met$/,
    );
    expect(lines.slice(1)).to.deep.equal([
      `    ns per operation by round: ${HEADER}: 0.62 0.60 0.70`,
      `    ns per operation by round: ${ADDON}: 0.60 0.60 0.60`,
      '    ratio by round: 1.03 1.00 1.17',
    ]);
    // Goals without showRounds keep their one line, named by task when they have no label.
    const plain = formatGoal({ ...r!, showRounds: false, label: undefined, met: false });
    expect(plain).to.have.length(1);
    expect(plain[0]).to.contain(`${HEADER} / ${ADDON}`);
    expect(plain[0]).to.match(/goal <= 1\.1x MISSED$/);
  });
});
