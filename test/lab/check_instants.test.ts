/**
 * rseq-slice check's chosen instants (lib/lab/conformance/instants.ts) judged on recorded trials:
 * trials shaped as the 7.2.13 guest gave them pass, and the traces each class of kernel bug leaves
 * (the three mutant kernels of ../shared/kernels/mutants among them) fail the rule that names it.
 * The real kernels run the same judge in the guest (test/vm/differential.vm.ts, test/vm/mutants.ts).
 * Also: the kernel model from the release and prctl's answer, and the native entry's guards.
 */
import { expect } from 'chai';
import { addonState } from '../../lib/addon/addon';
import { inferModel, releaseVersion } from '../../lib/lab/conformance/check';
import {
  INSTANTS,
  judgeInstants,
  simulatedInstants,
  type InstantRun,
  type InstantsProbe,
  type InstantTrial,
} from '../../lib/lab/conformance/instants';
import type { SliceCounters } from '../../lib/kernel/rseq_stats';
import { SimulatedKernel } from '../../lib/simulator/simulator';

const ENABLED_FLAGS = 0x30; // AVAILABLE | ENABLED
const GRANTED = 0x100;

function trial(over: Partial<InstantTrial> = {}): InstantTrial {
  return {
    granted: true,
    waitedNs: 20_000_000,
    attempts: 60,
    answer: 0,
    wordAfter: 0,
    flagsAfter: ENABLED_FLAGS,
    getAfter: 1,
    heldNs: 0,
    ended: false,
    laterYield: 0,
    ...over,
  };
}

function counters(over: Partial<SliceCounters> = {}): SliceCounters {
  return { sgrant: 500, sexpir: 0, srevok: 480, syield: 0, sabort: 0, ...over };
}

/** A conforming kernel's trials, as the 7.2.13 guest recorded them (one raced yield). */
function conforming(): InstantsProbe {
  const runs: InstantRun[] = [
    {
      name: 'syscall',
      trials: Array.from({ length: 20 }, () => trial({ answer: 1 })),
      counters: counters({ sabort: 19 }),
    },
    {
      name: 'disable',
      trials: Array.from({ length: 10 }, () => trial({ flagsAfter: 0x10, getAfter: 0 })),
      counters: counters({ sabort: 9 }),
    },
    {
      name: 'yield',
      trials: Array.from({ length: 20 }, (_, i) => trial({ answer: i === 3 ? 0 : 1 })),
      counters: counters({ syield: 19 }),
    },
    {
      name: 'hold',
      trials: Array.from({ length: 12 }, (_, i) => trial({ heldNs: 30_000 + i * 10_000, ended: true })),
      counters: counters({ sexpir: 12, srevok: 935 }),
    },
    {
      name: 'ungranted',
      trials: Array.from({ length: 50 }, () => trial({ granted: false, answer: 1, wordAfter: 1, flagsAfter: 0 })),
      counters: counters({ sgrant: 1, srevok: 1 }),
    },
  ];
  return { extensionNsec: 5000, waitMs: 200, holdLimitMs: 50, runs };
}

function edit(probe: InstantsProbe, name: InstantRun['name'], f: (r: InstantRun) => InstantRun): InstantsProbe {
  return { ...probe, runs: probe.runs.map((r) => (r.name === name ? f(r) : r)) };
}

function verdicts(probe: InstantsProbe): Record<string, { status: string; detail: string }> {
  return Object.fromEntries(judgeInstants(probe).map((v) => [v.rule, v]));
}

describe('rseq-slice check: chosen instants judged', () => {
  it('a conforming kernel passes R17, R18, R19, R20, R21 and R27', () => {
    const v = verdicts(conforming());
    for (const rule of ['R17', 'R18', 'R19', 'R20', 'R21', 'R27']) expect(v[rule]?.status, rule).to.equal('pass');
    expect(v.R18?.detail).to.contain('debugfs sexpir +12');
    expect(INSTANTS.map((k) => k.name)).to.deep.equal(['syscall', 'disable', 'yield', 'hold', 'ungranted']);
  });

  it('a syscall that keeps the grant (mutant syscall-keeps-grant) fails R19 and R21 with the word it left', () => {
    let p = edit(conforming(), 'syscall', (r) => ({
      ...r,
      trials: r.trials.map((t, i) => (i === 0 ? t : { ...t, wordAfter: GRANTED, laterYield: 1 })),
    }));
    p = edit(p, 'disable', (r) => ({
      ...r,
      trials: r.trials.map((t) => ({ ...t, wordAfter: GRANTED, laterYield: 1 })),
    }));
    const v = verdicts(p);
    expect(v.R19?.status).to.equal('FAIL');
    expect(v.R19?.detail).to.contain(
      'getppid() while granted: trial 2 of 20: slice_ctrl after the syscall 0x100 (granted), expected 0',
    );
    expect(v.R21?.status).to.equal('FAIL');
    expect(v.R20?.status).to.equal('pass');
  });

  it('a yield that always answers 1 (mutant yield-always-succeeds) fails R17, R19, R20 and R21 at the later yield', () => {
    let p = conforming();
    for (const name of ['syscall', 'disable', 'yield', 'hold'] as const)
      p = edit(p, name, (r) => ({ ...r, trials: r.trials.map((t) => ({ ...t, laterYield: 1 })) }));
    const v = verdicts(p);
    for (const rule of ['R17', 'R19', 'R20', 'R21']) {
      expect(v[rule]?.status, rule).to.equal('FAIL');
      expect(v[rule]?.detail, rule).to.match(/trial 1 of \d+: a .*yield.* answered 1, expected 0/);
    }
  });

  it('an extension timer that never fires (mutant grant-never-expires) fails R18: sexpir +0, or lifetimes without debugfs', () => {
    const long = (r: InstantRun): InstantRun => ({
      ...r,
      trials: r.trials.map((t, i) => ({ ...t, heldNs: 150_000 + i * 100_000 })),
      counters: counters({ sexpir: 0, srevok: 935 }),
    });
    const v = verdicts(edit(conforming(), 'hold', long));
    expect(v.R18?.status).to.equal('FAIL');
    expect(v.R18?.detail).to.contain('debugfs sexpir +0: the extension timer never fired while a grant was live');
    expect(v.R17?.status).to.equal('pass');
    // Not root: the same trials judged by their lifetimes (median 650 µs > 20 × 5 µs + 100 µs).
    const blind = edit(conforming(), 'hold', (r) => ({ ...long(r), counters: { unreadable: 'EACCES' } }));
    expect(verdicts(blind).R18?.status).to.equal('FAIL');
    expect(
      verdicts(edit(conforming(), 'hold', (r) => ({ ...r, counters: { unreadable: 'EACCES' } }))).R18?.status,
    ).to.equal('pass');
  });

  it('a grant never cut off fails R18; revocations the counters miss fail R17', () => {
    const v = verdicts(
      edit(conforming(), 'hold', (r) => ({ ...r, trials: r.trials.map((t, i) => ({ ...t, ended: i !== 4 })) })),
    );
    expect(v.R18?.status).to.equal('FAIL');
    expect(v.R18?.detail).to.contain('1 of 12 grants were still live after 50 ms of spinning');
    const r17 = verdicts(
      edit(conforming(), 'hold', (r) => ({ ...r, counters: counters({ sexpir: 12, srevok: 3 }) })),
    ).R17;
    expect(r17?.status).to.equal('FAIL');
    expect(r17?.detail).to.contain('debugfs srevok grew by 3, expected at least 12');
  });

  it('disable while granted must clear ENABLED and the word, and GET must answer 0 (R21)', () => {
    const v = verdicts(
      edit(conforming(), 'disable', (r) => ({
        ...r,
        trials: r.trials.map((t) => ({ ...t, flagsAfter: ENABLED_FLAGS, getAfter: 1 })),
      })),
    );
    expect(v.R21?.status).to.equal('FAIL');
    expect(v.R21?.detail).to.contain('flags afterwards 0x30, expected AVAILABLE set and ENABLED clear');
  });

  it('yields right after a grant that mostly answer 0 fail R20; R27 fails on a wrong answer', () => {
    const v = verdicts(
      edit(conforming(), 'yield', (r) => ({ ...r, trials: r.trials.map((t) => ({ ...t, answer: 0 })) })),
    );
    expect(v.R20?.status).to.equal('FAIL');
    expect(v.R20?.detail).to.contain('only 0 of 20 yields made right after a grant answered 1');
    const r27 = verdicts(
      edit(conforming(), 'ungranted', (r) => ({ ...r, trials: [trial({ granted: false, answer: 0 })] })),
    ).R27;
    expect(r27?.status).to.equal('FAIL');
  });

  it('no grant in any try is n/a with the reason, never a pass', () => {
    const v = verdicts(
      edit(conforming(), 'syscall', (r) => ({
        ...r,
        trials: r.trials.map((t) => ({ ...t, granted: false, answer: 0 })),
      })),
    );
    expect(v.R19?.status).to.equal('n/a');
    expect(v.R19?.detail).to.contain('no grant came in 20 tries of up to 200 ms each');
  });
});

describe('rseq-slice check: chosen instants on the simulator', () => {
  const RULES = ['R17', 'R18', 'R19', 'R20', 'R21', 'R27'];
  const failed = (probe: ReturnType<typeof simulatedInstants>): string[] =>
    judgeInstants(probe)
      .filter((v) => v.status === 'FAIL')
      .map((v) => v.rule);

  it('the simulated kernel, driven through the same trials, passes every instant rule', () => {
    const v = verdicts(simulatedInstants());
    for (const rule of RULES) expect(v[rule]?.status, `${rule}: ${v[rule]?.detail}`).to.equal('pass');
    // The last 1 µs step that still saw the grant: the timer fires at exactly 5 µs.
    expect(v.R18?.detail).to.contain('grants lived 4.0 µs to 4.0 µs');
    expect(verdicts(simulatedInstants({ quick: true })).R19?.detail).to.match(/^5 grants ended by getppid/);
  });

  it('a simulated thread with each mutant bug fails the rule the guest names', () => {
    const kernel = new SimulatedKernel();
    const yieldAlways = kernel.createThread();
    const realYield = yieldAlways.sliceYield.bind(yieldAlways);
    yieldAlways.sliceYield = () => {
      realYield();
      return 1;
    };
    expect(failed(simulatedInstants({ thread: yieldAlways }))).to.include.members(['R17', 'R19', 'R20', 'R21']);
    const keepsGrant = kernel.createThread();
    keepsGrant.syscall = () => 0; // the entry work does nothing
    expect(failed(simulatedInstants({ thread: keepsGrant }))).to.deep.equal(['R19']);
    const neverExpires = kernel.createThread();
    Object.defineProperty(neverExpires, 'grantExpiry', { get: () => null }); // no timer armed
    expect(failed(simulatedInstants({ thread: neverExpires }))).to.deep.equal(['R18']);
  });
});

describe('rseq-slice check: the kernel model', () => {
  it('reads the release', () => {
    expect(releaseVersion('7.2.13-amd64')).to.deep.equal([7, 2]);
    expect(releaseVersion('6.18.0')).to.deep.equal([6, 18]);
    expect(releaseVersion('custom')).to.equal(null);
  });

  it('EINVAL means before 7.0 only before 7.0; on 7.x it is judged as built without', () => {
    expect(inferModel('6.18.0', 'EINVAL', null).model).to.equal('pre-7.0');
    const seven = inferModel('7.2.13-amd64', 'EINVAL', null);
    expect(seven.model).to.equal('built without');
    expect(seven.basis).to.contain('prctl GET answered EINVAL on a 7.2 kernel');
    expect(inferModel('7.3.0-rc7', 'ENOTSUPP', null).model).to.equal('built without');
    expect(inferModel('7.2.13', null, null).model).to.equal('enabled');
    expect(inferModel('7.2.13', null, 'off').model).to.equal('disabled at boot');
    expect(inferModel('6.12.0', null, null).basis).to.contain('a backport');
    expect(() => inferModel('7.2.13', 'EPERM', null)).to.throw('failed with EPERM');
  });
});

describe('grantInstant (native/diagnostics.cc): guards', () => {
  it('refuses an unknown action, and answers ENXIO without an optimized area of its own', function () {
    const { addon } = addonState();
    if (!addon) {
      console.log(`      skipped: the addon did not load (${addonState().error})`);
      this.skip();
    }
    expect(() => addon.diagnostics.grantInstant(5, 1000, 1000)).to.throw(RangeError, 'action must be 0 to 4');
    expect(() => addon.diagnostics.grantInstant(0, 0, 1000)).to.throw(/waitNs/);
    // Here no grant can come (no extension): ENXIO without an optimized area, else no grant in 1 µs.
    const r = addon.diagnostics.grantInstant(0, 1000, 1000);
    if (typeof r === 'number') expect(r).to.equal(-6);
    else expect([r.length, r[0]]).to.deep.equal([10, 0]);
  });
});
