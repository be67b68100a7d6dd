/**
 * Conformance of the running kernel to the merged slice extension: the ABI transcript and a short
 * grant scenario run in child processes against the real kernel, compared with the simulator
 * configured for what detect() found, and reported per rule of docs/simulator.md (R1…R30).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PR_RSEQ_SLICE_EXTENSION_GET, SLICE_EXT_NSEC_MAX, SLICE_EXT_NSEC_MIN } from '../../kernel/abi';
import { addonState } from '../../addon/addon';
import { detect } from '../../detect';
import { errnoName } from '../../errors';
import { GLIBC_RSEQ_TUNABLE, mergeTunable } from '../../kernel/glibc_tunables';
import {
  bootParamDisables,
  EXTENSION_NSEC_FILE,
  readExtensionNsecText,
  writeExtensionNsecText,
} from '../../kernel/knobs';
import type { SimulatedKernelOptions } from '../../simulator/simulator';
import type { GrantProbe, ProbeOutput } from './probe';
import { judgeInstants } from './instants';
import { RULES } from './rules';
import { abiTranscript, simulatorTarget, type TranscriptStep } from './transcript';

/** What the kernel is, as far as the extension goes. */
export type KernelModel = 'pre-7.0' | 'built without' | 'disabled at boot' | 'enabled';

export interface RuleResult {
  rule: string;
  title: string;
  status: 'pass' | 'FAIL' | 'n/a';
  detail: string;
}

export interface ConformanceReport {
  kernel: string;
  model: KernelModel;
  /** Why this model: the release and what prctl GET answered. */
  basis: string;
  /** detect()'s verdict on this process, for context. */
  detection: string;
  /** Steps of the ABI transcript compared. */
  steps: number;
  rules: RuleResult[];
  /** Every applicable rule passed. */
  conforms: boolean;
  /** The rules that failed, in table order (empty when it conforms). */
  failed: string[];
  /** Whether the chosen instants ran with fewer trials (--quick). */
  quick: boolean;
  /** Wall-clock milliseconds the check took, children included. */
  durationMs: number;
}

export interface ConformanceOptions {
  /** Seconds of enabled sections in the grant scenario (default 1). */
  seconds?: number;
  /** Fewer trials of each chosen instant (instants.ts), for a faster run. */
  quick?: boolean;
}

const SIMULATOR: Record<KernelModel, Pick<SimulatedKernelOptions, 'bootEnabled' | 'configured' | 'extensionAbi'>> = {
  'pre-7.0': { extensionAbi: false },
  'built without': { configured: false },
  'disabled at boot': { bootEnabled: false },
  enabled: {},
};

/** Thrown when the check cannot run at all (not Linux, no addon, a child that failed). */
export class CheckUnavailable extends Error {}

/** The release's major and minor numbers (`7.2.13-amd64` → [7, 2]), or null when unreadable. */
export function releaseVersion(release: string): [number, number] | null {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/**
 * The model a kernel must match, from its release and what prctl GET answered (null: a value, no
 * errno). kernel/sys.c answers EINVAL to an unknown prctl option; every release from 7.0, where
 * the extension merged, knows PR_RSEQ_SLICE_EXTENSION and answers ENOTSUPP when built without it
 * (include/linux/rseq.h). So EINVAL means "before 7.0" only on a release before 7.0: on 7.x it is
 * judged against the built-without model, whose every prctl step then fails R2. A kernel before
 * 7.0 that answers (a backport) is judged by its answers. Exported for tests.
 */
export function inferModel(
  release: string,
  getErrno: string | null,
  bootParam: string | null,
): { model: KernelModel; basis: string } {
  const v = releaseVersion(release);
  const seven = v !== null && v[0] >= 7;
  const name = v === null ? `release ${JSON.stringify(release)} (version unreadable)` : `a ${v[0]}.${v[1]} kernel`;
  if (getErrno === 'EINVAL')
    return seven
      ? {
          model: 'built without',
          basis: `prctl GET answered EINVAL on ${name}: every 7.x kernel knows the option (ENOTSUPP when built without the extension), so it is judged as built without`,
        }
      : { model: 'pre-7.0', basis: `prctl GET answered EINVAL on ${name}: the option predates this kernel` };
  const backport = seven || v === null ? '' : ' (the extension on a kernel before 7.0: a backport)';
  if (getErrno === 'ENOTSUPP')
    return { model: 'built without', basis: `prctl GET answered ENOTSUPP on ${name}${backport}` };
  if (getErrno !== null) throw new CheckUnavailable(`prctl(PR_RSEQ_SLICE_EXTENSION_GET) failed with ${getErrno}`);
  const off = bootParamDisables(bootParam);
  return {
    model: off ? 'disabled at boot' : 'enabled',
    basis: `prctl GET answered on ${name}${backport}${off ? `, booted with rseq_slice_ext=${bootParam}` : ''}`,
  };
}

/** Classifies the kernel from its release, detect() and prctl GET, which answers on every 7.x kernel. */
function kernelModel(): { model: KernelModel; basis: string; detection: string } {
  const d = detect();
  const detection = d.sliceExtension.available
    ? 'the slice extension is available to this process'
    : (d.sliceExtension.reason ?? 'not available');
  if (d.platform.os !== 'linux') throw new CheckUnavailable('rseq exists only on Linux');
  const { addon, error } = addonState();
  if (!addon) throw new CheckUnavailable(`the native addon did not load (${error})`);
  const get = addon.prctl(PR_RSEQ_SLICE_EXTENSION_GET, 0, 0, 0);
  return { ...inferModel(os.release(), get < 0 ? errnoName(-get) : null, d.sliceExtension.bootParam), detection };
}

function runProbe(args: string[], pinCpu: number | null): ProbeOutput {
  const probe = path.join(__dirname, `probe${path.extname(__filename)}`);
  const node = [...(probe.endsWith('.ts') ? ['-r', 'tsx/cjs'] : []), probe, ...args];
  const tunables = mergeTunable(process.env.GLIBC_TUNABLES, GLIBC_RSEQ_TUNABLE, '0').value;
  const [cmd, argv] =
    pinCpu === null ? [process.execPath, node] : ['taskset', ['-c', String(pinCpu), process.execPath, ...node]];
  const r = spawnSync(cmd, argv, {
    encoding: 'utf8',
    env: { ...process.env, GLIBC_TUNABLES: tunables },
    timeout: 120_000,
  });
  const last = r.stdout?.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as ProbeOutput;
  } catch {
    throw new CheckUnavailable(
      `the probe child (${args.join(' ')}) ended with ${r.signal ?? `status ${r.status}`} and no result: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' / ')}`,
    );
  }
}

/** The last CPU this process may run on, when `taskset` exists to pin a child there. */
function pinTarget(): number | null {
  const which = spawnSync('sh', ['-c', 'command -v taskset'], { encoding: 'utf8' });
  if (which.status !== 0) return null;
  const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  const last = m?.[1]?.split(',').pop()?.split('-').pop();
  return last !== undefined && /^\d+$/.test(last) ? Number(last) : 0;
}

type Finding = Pick<RuleResult, 'status' | 'detail'>;

class Findings {
  private readonly byRule = new Map<string, Finding[]>();
  add(rule: string, status: Finding['status'], detail: string): void {
    const list = this.byRule.get(rule) ?? [];
    list.push({ status, detail });
    this.byRule.set(rule, list);
  }
  addAll(rules: string[], status: Finding['status'], detail: string): void {
    for (const r of rules) this.add(r, status, detail);
  }
  /** FAIL when any check failed, pass when any passed, else n/a. */
  result(rule: string, title: string): RuleResult {
    const list = this.byRule.get(rule) ?? [{ status: 'n/a', detail: 'not exercised by check' }];
    for (const status of ['FAIL', 'pass', 'n/a'] as const) {
      const hits = list.filter((f) => f.status === status);
      if (hits.length) return { rule, title, status, detail: hits.map((f) => f.detail).join('; ') };
    }
    throw new Error('unreachable');
  }
}

function compareTranscripts(
  kernel: TranscriptStep[],
  expected: TranscriptStep[],
  model: KernelModel,
  f: Findings,
): void {
  if (kernel.length !== expected.length)
    throw new CheckUnavailable(`the kernel transcript has ${kernel.length} steps, the model's ${expected.length}`);
  const passed = new Map<string, number>();
  kernel.forEach((k, i) => {
    const e = expected[i] as TranscriptStep;
    for (const rule of k.rules) {
      if (rule === 'R2' && model !== 'built without') continue;
      if (rule === 'R9' && model !== 'built without' && model !== 'disabled at boot') continue;
      if (k.answer !== e.answer)
        f.add(rule, 'FAIL', `${k.section}: ${k.step}: kernel ${k.answer}, expected ${e.answer}`);
      else passed.set(rule, (passed.get(rule) ?? 0) + 1);
    }
  });
  for (const [rule, n] of passed) f.add(rule, 'pass', `${n} step(s) answered as the ${model} model`);
  if (model !== 'built without')
    f.add(
      'R2',
      'n/a',
      model === 'pre-7.0' ? 'the kernel predates the extension' : 'the kernel is built with the extension',
    );
  if (model === 'enabled' || model === 'pre-7.0')
    f.add(
      'R9',
      'n/a',
      model === 'enabled'
        ? 'the extension is on at boot (AVAILABLE checked under R8)'
        : 'the kernel predates the extension',
    );
}

/** The rules a kernel transcript passes or fails against `model` (exported for tests). */
export function judgeTranscript(kernel: TranscriptStep[], model: KernelModel): RuleResult[] {
  const f = new Findings();
  compareTranscripts(kernel, abiTranscript(simulatorTarget(SIMULATOR[model])), model, f);
  return RULES.map(([rule, title]) => f.result(rule, title));
}

function checkGrants(g: GrantProbe, seconds: number, f: Findings): void {
  if (g.newThreadGet === 0 && g.forkProbe === 3)
    f.add('R13', 'pass', 'a fork child kept GET 1 and ENABLED; a new thread answered GET 0');
  else
    f.add(
      'R13',
      'FAIL',
      `kernel: new thread GET ${g.newThreadGet}, fork probe ${g.forkProbe}; expected GET 0 and fork probe 3 (GET 1 and ENABLED in the child)`,
    );
  const d = g.disabled;
  if (d.yielded + d.raced === 0) f.add('R15', 'pass', `${d.sections} sections with the extension disabled: no grant`);
  else
    f.add(
      'R15',
      'FAIL',
      `kernel granted ${d.yielded + d.raced} of ${d.sections} sections with the extension disabled; expected none`,
    );
  const e = g.enabled;
  const granted = e.yielded + e.raced;
  if (granted > 0) f.add('R14', 'pass', `${granted} grants seen in ${e.sections} sections (${e.revoked} revoked)`);
  else
    f.add(
      'R14',
      'n/a',
      `no preemption landed in any of ${e.sections} sections in ${seconds} s (timing; run again, or longer with --seconds)`,
    );
  if (e.yielded > 0) f.add('R20', 'pass', `${e.yielded} yields after a grant answered 1`);
  for (const v of judgeInstants(g.instants)) f.add(v.rule, v.status, v.detail);
  const k = g.kernel;
  if ('unreadable' in k) {
    f.add('R18', 'n/a', `debugfs rseq/stats is not readable (${k.unreadable}): needs root and a mounted debugfs`);
    return;
  }
  // Invariants of the kernel's counters that hold whatever other processes do meanwhile (the
  // counters are system-wide): each of our yields that answered 1 was counted (kernel/rseq.c
  // rseq_syscall_enter_work), each grant we saw was counted (rseq_entry.h
  // __rseq_grant_slice_extension), and an expiry needs a live grant, at most one per grant
  // (rseq_slice_expired) — other tasks' grants live when the counters were first read add at
  // most one per CPU.
  if (k.syield >= e.yielded) f.add('R20', 'pass', `debugfs syield ${k.syield} ≥ our yields ${e.yielded}`);
  else f.add('R20', 'FAIL', `debugfs syield ${k.syield}, expected at least our ${e.yielded} yields that answered 1`);
  if (k.sgrant >= granted) f.add('R14', 'pass', `debugfs sgrant ${k.sgrant} ≥ our grants ${granted}`);
  else f.add('R14', 'FAIL', `debugfs sgrant ${k.sgrant}, expected at least the ${granted} grants we saw`);
  const cpus = os.cpus().length;
  if (k.sexpir <= k.sgrant + cpus)
    f.add('R18', 'pass', `debugfs sexpir ${k.sexpir} ≤ sgrant ${k.sgrant} (+ ${cpus} CPUs' grants already live)`);
  else f.add('R18', 'FAIL', `debugfs sexpir ${k.sexpir}, sgrant ${k.sgrant}; expected at most one expiry per grant`);
}

function checkExtensionLength(f: Findings): void {
  let text: string;
  try {
    text = readExtensionNsecText();
  } catch (e) {
    f.add(
      'R23',
      'n/a',
      `${EXTENSION_NSEC_FILE} is not readable (${(e as NodeJS.ErrnoException).code ?? String(e)}): needs root and a mounted debugfs`,
    );
    return;
  }
  const ns = Number(text);
  if (Number.isInteger(ns) && ns >= SLICE_EXT_NSEC_MIN && ns <= SLICE_EXT_NSEC_MAX)
    f.add('R23', 'pass', `slice_ext_nsec ${ns} is within ${SLICE_EXT_NSEC_MIN}–${SLICE_EXT_NSEC_MAX}`);
  else f.add('R23', 'FAIL', `kernel slice_ext_nsec ${text}, expected ${SLICE_EXT_NSEC_MIN}–${SLICE_EXT_NSEC_MAX}`);
  if (process.getuid?.() !== 0) return;
  // Out-of-range writes are refused without changing the value (kernel/rseq.c rseq_slice_ext_write).
  for (const bad of [SLICE_EXT_NSEC_MAX + 10000, SLICE_EXT_NSEC_MIN - 1]) {
    let answer = 'accepted';
    try {
      writeExtensionNsecText(String(bad));
    } catch (e) {
      answer = (e as NodeJS.ErrnoException).code ?? String(e);
    }
    if (answer === 'ERANGE') f.add('R23', 'pass', `writing ${bad} → ERANGE`);
    else {
      f.add('R23', 'FAIL', `writing ${bad}: kernel ${answer}, expected ERANGE`);
      if (answer === 'accepted') writeExtensionNsecText(text);
    }
  }
}

const NOT_CHECKED: Record<string, string> = {
  R7: 'would kill the probe (SIGSEGV): the simulator rule and the guest debug variant cover it',
  R16: 'needs other exit work pending at a chosen interrupt: a simulator rule',
  R22: 'needs timers of several threads at chosen instants: a simulator rule',
  R24: 'a SIGSEGV rule the kernel enforces only with rseq_debug=1: the guest debug variant covers it',
  R25: 'a SIGSEGV rule the kernel enforces only with rseq_debug=1: the guest debug variant covers it',
  R26: 'a SIGSEGV rule the kernel enforces only with rseq_debug=1: the guest debug variant covers it',
  R28: 'a SIGSEGV rule the kernel enforces only with rseq_debug=1: the guest debug variant covers it',
  R29: 'would kill the probe (SIGSEGV): the simulator rule covers it',
  R30: 'argument checks of the simulator API, not kernel behaviour',
};

/** Runs the whole check. Throws CheckUnavailable when it cannot run at all. */
export function checkConformance(options: ConformanceOptions = {}): ConformanceReport {
  const started = process.hrtime.bigint();
  const seconds = options.seconds ?? 1;
  const { model, basis, detection } = kernelModel();
  const f = new Findings();
  const abi = runProbe(['abi'], null);
  if (!('abi' in abi))
    throw new CheckUnavailable(`the ABI transcript child failed: ${'error' in abi ? abi.error : 'no transcript'}`);
  compareTranscripts(abi.abi, abiTranscript(simulatorTarget(SIMULATOR[model])), model, f);
  const scenarioRules = ['R13', 'R14', 'R15', 'R17', 'R18', 'R19', 'R20', 'R21', 'R27'];
  if (model === 'enabled') {
    const cpu = pinTarget();
    if (cpu === null) {
      f.addAll(scenarioRules, 'n/a', 'taskset (util-linux) not found: the grant scenario must run pinned to one CPU');
    } else {
      const g = runProbe(['grants', String(seconds), ...(options.quick ? ['quick'] : [])], cpu);
      if (!('grants' in g))
        throw new CheckUnavailable(`the grant scenario child failed: ${'error' in g ? g.error : 'no result'}`);
      checkGrants(g.grants, seconds, f);
    }
  } else {
    f.addAll(scenarioRules, 'n/a', `the kernel grants nothing here (${model})`);
  }
  if (model === 'enabled' || model === 'disabled at boot') checkExtensionLength(f);
  else
    f.add(
      'R23',
      'n/a',
      `no extension length on a kernel ${model === 'pre-7.0' ? 'before 7.0' : 'built without the extension'}`,
    );
  for (const [rule, why] of Object.entries(NOT_CHECKED)) f.add(rule, 'n/a', why);
  const rules = RULES.map(([rule, title]) => f.result(rule, title));
  const failed = rules.filter((r) => r.status === 'FAIL').map((r) => r.rule);
  return {
    kernel: os.release(),
    model,
    basis,
    detection,
    steps: abi.abi.length,
    rules,
    conforms: failed.length === 0,
    failed,
    quick: options.quick === true,
    durationMs: Number((process.hrtime.bigint() - started) / 1_000_000n),
  };
}
