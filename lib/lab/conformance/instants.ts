/**
 * The "chosen instant" rules on the real kernel: the probe sets `request`, spins until the kernel
 * grants (the noise thread's wake-up on the same CPU is the interrupt that asks for the CPU), and
 * at that instant makes a syscall (R19), disables the extension (R21), yields (R20) or keeps
 * spinning until the kernel cuts the grant off (R17, R18); and makes syscalls in sections that got
 * no grant (R27). native/diagnostics.cc GrantInstant does each trial; this file runs the trials
 * (in the probe child) and judges them (in `rseq-slice check`) against what kernel/rseq.c and
 * include/linux/rseq_entry.h make invariant.
 */
import {
  OFFSET_FLAGS,
  OFFSET_REQUEST,
  OFFSET_SLICE_CTRL,
  PR_RSEQ_SLICE_EXTENSION,
  PR_RSEQ_SLICE_EXTENSION_GET,
  PR_RSEQ_SLICE_EXTENSION_SET,
  RSEQ_ALLOC_ALIGN_SLICE_EXT,
  OFFSET_GRANTED,
  RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE,
  RSEQ_CS_FLAG_SLICE_EXT_ENABLED,
} from '../../kernel/abi';
import type { NativeDiagnostics } from '../../addon/addon';
import { countersDelta, type SliceCounters } from '../../kernel/rseq_stats';
import { readRseqStatsOrWhy } from '../../kernel/knobs';
import { SimulatedKernel, type SimulatedCounters, type SimulatedThread } from '../../simulator/simulator';

/** One kind of instant: the native action code, the rules it tests, and its trials (full, --quick). */
export interface InstantKind {
  name: 'syscall' | 'disable' | 'yield' | 'hold' | 'ungranted';
  code: number;
  rules: readonly string[];
  what: string;
  trials: number;
  quickTrials: number;
}

/** The codes are native/diagnostics.cc's `Instant`. */
export const INSTANTS: readonly InstantKind[] = [
  { name: 'syscall', code: 0, rules: ['R19'], what: 'getppid() while granted', trials: 20, quickTrials: 5 },
  {
    name: 'disable',
    code: 1,
    rules: ['R21'],
    what: 'prctl(PR_RSEQ_SLICE_EXTENSION_SET, 0) while granted',
    trials: 10,
    quickTrials: 3,
  },
  { name: 'yield', code: 3, rules: ['R20'], what: 'rseq_slice_yield() while granted', trials: 20, quickTrials: 5 },
  { name: 'hold', code: 2, rules: ['R17', 'R18'], what: 'spinning on while granted', trials: 12, quickTrials: 6 },
  {
    name: 'ungranted',
    code: 4,
    rules: ['R27'],
    what: 'getppid() with request set and no grant yet',
    trials: 50,
    quickTrials: 10,
  },
];

/** One trial, as native/diagnostics.cc GrantInstant reports it. */
export interface InstantTrial {
  /** The kernel granted within the wait. */
  granted: boolean;
  waitedNs: number;
  /** Times `request` was set (the kernel clears it when it schedules the thread without a grant). */
  attempts: number;
  /** The action's answer: prctl's or yield's return value; 1 when getppid() answered correctly. */
  answer: number;
  /** slice_ctrl right after the action. */
  wordAfter: number;
  /** The area's flags right after the action. */
  flagsAfter: number;
  /** prctl GET right after the action. */
  getAfter: number;
  /** hold: from the grant to the last read that still saw it. */
  heldNs: number;
  /** hold: the kernel ended the grant within the hold limit. */
  ended: boolean;
  /** rseq_slice_yield() after everything else (0 when no grant is left to end). */
  laterYield: number;
}

export interface InstantRun {
  name: InstantKind['name'];
  trials: InstantTrial[];
  /** debugfs rseq/stats deltas around this kind's trials, or why they are unknown. */
  counters: SliceCounters | { unreadable: string };
}

export interface InstantsProbe {
  /** debugfs slice_ext_nsec while the trials ran, when readable. */
  extensionNsec: number | null;
  waitMs: number;
  holdLimitMs: number;
  runs: InstantRun[];
}

/** Per trial: how long to wait for a grant, and how long a held grant may live before check gives up on it. */
export const WAIT_MS = 200;
export const HOLD_LIMIT_MS = 50;

type Ten = [number, number, number, number, number, number, number, number, number, number];

function trial(raw: number[]): InstantTrial {
  if (raw.length !== 10) throw new Error(`grantInstant reported ${raw.length} numbers, expected 10`);
  const [granted, waitedNs, attempts, answer, wordAfter, flagsAfter, getAfter, heldNs, ended, laterYield] = raw as Ten;
  return {
    granted: granted === 1,
    waitedNs,
    attempts,
    answer,
    wordAfter,
    flagsAfter,
    getAfter,
    heldNs,
    ended: ended === 1,
    laterYield,
  };
}

/** Runs every kind's trials on this thread (the probe child, pinned, with the noise thread running). */
export function runInstants(
  diagnostics: NativeDiagnostics,
  quick: boolean,
  extensionNsec: number | null,
): InstantsProbe {
  const runs = INSTANTS.map((kind): InstantRun => {
    const before = readRseqStatsOrWhy();
    const trials: InstantTrial[] = [];
    for (let i = 0; i < (quick ? kind.quickTrials : kind.trials); i++) {
      const raw = diagnostics.grantInstant(kind.code, WAIT_MS * 1e6, HOLD_LIMIT_MS * 1e6);
      if (typeof raw === 'number') throw new Error(`grantInstant(${kind.name}) failed with ${raw}`);
      trials.push(trial(raw));
    }
    const after = readRseqStatsOrWhy();
    return {
      name: kind.name,
      trials,
      counters: 'unreadable' in before ? before : 'unreadable' in after ? after : countersDelta(before, after),
    };
  });
  return { extensionNsec, waitMs: WAIT_MS, holdLimitMs: HOLD_LIMIT_MS, runs };
}

function simulatedCounters(c: SimulatedCounters): SliceCounters {
  return { sgrant: c.grants, sexpir: c.expirations, srevok: c.revocations, syield: c.yields, sabort: c.aborts };
}

/**
 * The same trials driven through the simulator: each granted trial is an interrupt with a
 * reschedule pending while `request` is set, a hold advances the clock in 1 µs steps. `thread`
 * (a fresh thread of `kernel` by default) lets a test drive a thread whose calls it has altered.
 */
export function simulatedInstants(
  options: { quick?: boolean; kernel?: SimulatedKernel; thread?: SimulatedThread } = {},
): InstantsProbe {
  const kernel = options.kernel ?? options.thread?.kernel ?? new SimulatedKernel();
  const t = options.thread ?? kernel.createThread();
  const view = new DataView(t.area.buffer);
  const word = (): number => view.getUint32(OFFSET_SLICE_CTRL, true);
  const prctl = (op: number, arg: number): number => t.prctl(PR_RSEQ_SLICE_EXTENSION, op, arg, 0, 0);
  if (t.registrationMode === 'none') t.registerRseq({ length: RSEQ_ALLOC_ALIGN_SLICE_EXT });
  prctl(PR_RSEQ_SLICE_EXTENSION_SET, 1);
  const runs = INSTANTS.map((kind): InstantRun => {
    const before = simulatedCounters(t.counters);
    const trials: InstantTrial[] = [];
    for (let i = 0; i < (options.quick ? kind.quickTrials : kind.trials); i++) {
      t.area[OFFSET_REQUEST] = 1;
      if (kind.name === 'ungranted') {
        t.syscall('getppid');
        const wordAfter = word();
        if (t.area[OFFSET_REQUEST] === 1) t.area[OFFSET_REQUEST] = 0;
        trials.push({
          ...EMPTY,
          granted: false,
          attempts: 1,
          answer: 1,
          wordAfter,
          flagsAfter: view.getUint32(OFFSET_FLAGS, true),
        });
        continue;
      }
      t.interrupt({ needResched: true });
      const granted = word() === GRANTED;
      let answer = 0;
      let heldNs = 0;
      let ended = false;
      if (!granted) t.area[OFFSET_REQUEST] = 0;
      else if (kind.name === 'syscall') answer = t.syscall('getppid') === 0 ? 1 : 0;
      else if (kind.name === 'disable') answer = prctl(PR_RSEQ_SLICE_EXTENSION_SET, 0);
      else if (kind.name === 'yield') answer = t.sliceYield();
      else {
        const start = kernel.now;
        while (word() === GRANTED && kernel.now - start < HOLD_LIMIT_MS * 1e6) {
          heldNs = kernel.now - start;
          kernel.advance(1000);
        }
        ended = word() !== GRANTED;
      }
      const wordAfter = word();
      const flagsAfter = view.getUint32(OFFSET_FLAGS, true);
      const getAfter = prctl(PR_RSEQ_SLICE_EXTENSION_GET, 0);
      const laterYield = t.sliceYield();
      if (kind.name === 'disable') prctl(PR_RSEQ_SLICE_EXTENSION_SET, 1);
      trials.push({
        ...EMPTY,
        granted,
        attempts: 1,
        answer,
        wordAfter,
        flagsAfter,
        getAfter,
        heldNs,
        ended,
        laterYield,
      });
    }
    return { name: kind.name, trials, counters: countersDelta(before, simulatedCounters(t.counters)) };
  });
  return { extensionNsec: kernel.extensionNsec, waitMs: WAIT_MS, holdLimitMs: HOLD_LIMIT_MS, runs };
}

const EMPTY: InstantTrial = {
  granted: false,
  waitedNs: 0,
  attempts: 0,
  answer: 0,
  wordAfter: 0,
  flagsAfter: 0,
  getAfter: 0,
  heldNs: 0,
  ended: false,
  laterYield: 0,
};

/** A verdict on one rule. */
export interface InstantVerdict {
  rule: string;
  status: 'pass' | 'FAIL' | 'n/a';
  detail: string;
}

// The `request` and `granted` bytes within the little-endian slice_ctrl word.
const REQUEST = 1 << (8 * (OFFSET_REQUEST - OFFSET_SLICE_CTRL));
const GRANTED = 1 << (8 * (OFFSET_GRANTED - OFFSET_SLICE_CTRL));

function word(w: number): string {
  const names = [
    w & REQUEST ? 'request' : '',
    w & GRANTED ? 'granted' : '',
    w & ~(REQUEST | GRANTED) ? 'reserved bits' : '',
  ]
    .filter((n) => n !== '')
    .join('+');
  return `0x${w.toString(16)}${names ? ` (${names})` : ''}`;
}

/**
 * The first trial (1-based) for which `bad` says what went wrong, as "trial N: ...", or null.
 * Every trial is judged: one bad answer is a divergence.
 */
function firstBad(trials: InstantTrial[], bad: (t: InstantTrial) => string | null): string | null {
  for (const [i, t] of trials.entries()) {
    const why = bad(t);
    if (why !== null) return `trial ${i + 1} of ${trials.length}: ${why}`;
  }
  return null;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[Math.floor((s.length - 1) / 2)] as number);
}

function us(ns: number): string {
  return `${(ns / 1000).toFixed(ns < 100_000 ? 1 : 0)} µs`;
}

/**
 * Judges the trials. Each FAIL names the step (the kind's `what`), what the kernel left and what
 * the merged kernel must leave, with the source that makes it so.
 */
export function judgeInstants(probe: InstantsProbe): InstantVerdict[] {
  const out: InstantVerdict[] = [];
  const add = (rule: string, status: InstantVerdict['status'], detail: string): void => {
    out.push({ rule, status, detail });
  };
  for (const run of probe.runs) {
    const kind = INSTANTS.find((k) => k.name === run.name);
    if (kind === undefined) throw new Error(`unknown instant kind ${run.name}`);
    const granted = run.trials.filter((t) => t.granted);
    const step = kind.what;
    const c = 'unreadable' in run.counters ? null : run.counters;
    if (run.name === 'ungranted') {
      const bad = firstBad(run.trials, (t) =>
        t.answer !== 1
          ? `getppid() answered wrongly`
          : ![REQUEST, 0, GRANTED].includes(t.wordAfter)
            ? `slice_ctrl afterwards ${word(t.wordAfter)}, expected the request still set, or 0 after a context switch`
            : null,
      );
      if (bad) add('R27', 'FAIL', `${step}: ${bad}`);
      else
        add(
          'R27',
          'pass',
          `${run.trials.length} syscalls in sections with no grant answered normally, the thread lived, the word held the request or 0`,
        );
      continue;
    }
    if (granted.length === 0) {
      for (const rule of kind.rules)
        add(
          rule,
          'n/a',
          `${step}: no grant came in ${run.trials.length} tries of up to ${probe.waitMs} ms each (the competing thread's wake-ups never landed in a section); run again`,
        );
      continue;
    }
    // After any of these actions the grant is over, so a later yield must answer 0 (kernel/rseq.c:
    // sys_rseq_slice_yield answers slice.yielded, which only rseq_syscall_enter_work sets, for a
    // yield that ended a live grant).
    const laterYield = (t: InstantTrial): string | null =>
      t.laterYield !== 0
        ? `a later rseq_slice_yield() answered ${t.laterYield}, expected 0 (no grant left to end)`
        : null;
    const wordCleared = (t: InstantTrial, what: string): string | null =>
      t.wordAfter !== 0
        ? `slice_ctrl after ${what} ${word(t.wordAfter)}, expected 0 (kernel/rseq.c rseq_syscall_enter_work ends the grant and clears the word at any syscall)`
        : null;
    if (run.name === 'syscall') {
      const bad = firstBad(
        granted,
        (t) => (t.answer !== 1 ? 'getppid() answered wrongly' : null) ?? wordCleared(t, 'the syscall') ?? laterYield(t),
      );
      if (bad) add('R19', 'FAIL', `${step}: ${bad}`);
      else
        add(
          'R19',
          'pass',
          `${granted.length} grants ended by getppid(): the word 0 after each, a later yield 0${c ? ` (debugfs sabort +${c.sabort})` : ''}`,
        );
    } else if (run.name === 'disable') {
      const bad = firstBad(
        granted,
        (t) =>
          (t.answer !== 0 ? `prctl answered ${t.answer}, expected 0` : null) ??
          wordCleared(t, 'the prctl') ??
          ((t.flagsAfter & RSEQ_CS_FLAG_SLICE_EXT_ENABLED) !== 0 ||
          (t.flagsAfter & RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE) === 0
            ? `flags afterwards 0x${t.flagsAfter.toString(16)}, expected AVAILABLE set and ENABLED clear (rseq_slice_extension_prctl)`
            : null) ??
          (t.getAfter !== 0 ? `prctl GET afterwards answered ${t.getAfter}, expected 0` : null) ??
          laterYield(t),
      );
      if (bad) add('R21', 'FAIL', `${step}: ${bad}`);
      else
        add(
          'R21',
          'pass',
          `${granted.length} grants ended by the prctl: the word 0, ENABLED clear and GET 0 after each, a later yield 0`,
        );
    } else if (run.name === 'yield') {
      const bad = firstBad(
        granted,
        (t) =>
          (t.answer !== 0 && t.answer !== 1
            ? `the yield answered ${t.answer}, expected 1 (or 0 if revoked first)`
            : null) ??
          wordCleared(t, 'the yield') ??
          laterYield(t),
      );
      const ones = granted.filter((t) => t.answer === 1).length;
      if (bad) add('R20', 'FAIL', `${step}: ${bad}`);
      // A yield right after the kernel granted answers 0 only when an interrupt revoked the grant
      // in the few instructions between: most must answer 1.
      else if (ones * 2 < granted.length)
        add(
          'R20',
          'FAIL',
          `${step}: only ${ones} of ${granted.length} yields made right after a grant answered 1, expected 1 unless revoked in between`,
        );
      else
        add(
          'R20',
          'pass',
          `${ones} of ${granted.length} yields made while granted answered 1, the word 0 after each, a later yield 0`,
        );
    } else {
      judgeHolds(granted, probe, c, step, add);
    }
  }
  return out;
}

function judgeHolds(
  granted: InstantTrial[],
  probe: InstantsProbe,
  c: SliceCounters | null,
  step: string,
  add: (rule: string, status: InstantVerdict['status'], detail: string) => void,
): void {
  const ended = granted.filter((t) => t.ended);
  const held = granted.map((t) => t.heldNs);
  const ext = probe.extensionNsec;
  const lifetimes = `grants lived ${us(Math.min(...held))} to ${us(Math.max(...held))}, median ${us(median(held))}${ext !== null ? ` (slice_ext_nsec ${us(ext)})` : ''}`;
  // R17: a grant that ends with no syscall is revoked on a return to user space (rseq_entry.h
  // __rseq_grant_slice_extension) or at the next context switch: the word is cleared, the end is
  // counted in srevok (rseq_slice_clear_grant), and a later yield answers 0.
  const revoked = firstBad(ended, (t) =>
    t.laterYield !== 0
      ? `a yield after the kernel ended the grant answered ${t.laterYield}, expected 0 (a revoked grant is not yielded)`
      : null,
  );
  if (revoked) add('R17', 'FAIL', `${step}: ${revoked}`);
  else if (c !== null && c.srevok < ended.length)
    add(
      'R17',
      'FAIL',
      `${step}: the kernel ended ${ended.length} held grants but debugfs srevok grew by ${c.srevok}, expected at least ${ended.length} (rseq_slice_clear_grant counts each revocation)`,
    );
  else if (ended.length === 0) add('R17', 'n/a', `${step}: the kernel ended none of ${granted.length} held grants`);
  else
    add(
      'R17',
      'pass',
      `${ended.length} held grants revoked by the kernel: the word cleared, a later yield 0${c ? `, debugfs srevok +${c.srevok}` : ''}`,
    );
  // R18: the extension timer (kernel/rseq.c __rseq_arm_slice_extension_timer, rseq_slice_expired)
  // ends a held grant at slice_ext_nsec.
  if (ended.length < granted.length) {
    add(
      'R18',
      'FAIL',
      `${step}: ${granted.length - ended.length} of ${granted.length} grants were still live after ${probe.holdLimitMs} ms of spinning, expected the extension timer to end each at slice_ext_nsec${ext !== null ? ` (${us(ext)})` : ''}`,
    );
    return;
  }
  // A held grant ends at the first rescheduling interrupt after it: the extension timer, due
  // slice_ext_nsec after the grant, unless another came first. Held until the kernel ends them,
  // some must have ended by the timer: a kernel whose timer never fires while a grant is live
  // counts no expiry (rseq_slice_expired) and leaves grants to the scheduler tick, milliseconds.
  if (c !== null) {
    if (c.sexpir === 0)
      add(
        'R18',
        'FAIL',
        `${step}: ${granted.length} grants held until the kernel ended them, debugfs sexpir +0: the extension timer never fired while a grant was live, expected it to end them at slice_ext_nsec (${lifetimes})`,
      );
    else
      add(
        'R18',
        'pass',
        `${granted.length} held grants ended by the kernel, debugfs sexpir +${c.sexpir}: ${lifetimes}`,
      );
    return;
  }
  // Without debugfs (not root), the lifetimes: half of them within 20 extensions plus 100 µs of
  // interrupt latency (the largest extension, 50 µs, when slice_ext_nsec is unreadable).
  const bound = 20 * (ext ?? 50_000) + 100_000;
  if (median(held) > bound)
    add(
      'R18',
      'FAIL',
      `${step}: ${lifetimes}; expected the median within ${us(bound)} (the extension timer ends a held grant at slice_ext_nsec; debugfs unreadable, so judged by the lifetimes)`,
    );
  else
    add(
      'R18',
      'pass',
      `${granted.length} held grants ended by the kernel, median within ${us(bound)}: ${lifetimes} (debugfs unreadable: judged by the lifetimes)`,
    );
}
