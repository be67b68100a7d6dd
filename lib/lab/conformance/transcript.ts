/**
 * One deterministic script of rseq / prctl operations, run against the real kernel (through the
 * addon's diagnostic area, so areas of every length can be registered) or against the simulator.
 * Each step names the rules (R1…, docs/simulator.md) it exercises; the two transcripts must be identical, and
 * where they differ the kernel is right (or does not implement the extension as merged).
 * The native target needs a thread with no rseq area yet (GLIBC_TUNABLES=glibc.pthread.rseq=0).
 */
import {
  OFFSET_FLAGS,
  ORIG_RSEQ_SIZE,
  PR_RSEQ_SLICE_EXTENSION,
  PR_RSEQ_SLICE_EXTENSION_GET as GET,
  PR_RSEQ_SLICE_EXTENSION_SET as SET,
  RSEQ_ALLOC_ALIGN_SLICE_EXT,
  RSEQ_FEATURE_SIZE_SLICE_EXT,
  RSEQ_FLAG_SLICE_EXT_DEFAULT_ON,
} from '../../kernel/abi';
import { addonState } from '../../addon/addon';
import { errnoName, RseqError } from '../../errors';
import { SimulatedKernel, type SimulatedKernelOptions } from '../../simulator/simulator';

/** A result: the returned number, or the errno name. */
export type StepResult = number | string;

export interface TranscriptTarget {
  register(length: number, defaultOn: boolean): StepResult;
  unregister(): StepResult;
  prctl(op: number, arg3: number, arg4: number, arg5: number): StepResult;
  sliceYield(): StepResult;
  flags(): number;
}

/** One step: what was done, which rules it exercises, and the answer (`result flags=0x..`). */
export interface TranscriptStep {
  section: string;
  step: string;
  rules: string[];
  answer: string;
}

function native(rc: number): StepResult {
  return rc < 0 ? errnoName(-rc) : rc;
}

/** The real kernel, through the addon's diagnostic area. */
export function nativeTarget(): TranscriptTarget {
  const { addon, error } = addonState();
  if (!addon) throw new Error(`the native addon did not load: ${error}`);
  return {
    register: (length, defaultOn) =>
      native(addon.diagnostics.rawRegister(length, defaultOn ? RSEQ_FLAG_SLICE_EXT_DEFAULT_ON : 0)),
    unregister: () => native(addon.diagnostics.rawUnregister()),
    prctl: (op, a3, a4, a5) => native(addon.prctl(op, a3, a4, a5)),
    sliceYield: () => native(addon.sliceYield()),
    flags: () => addon.diagnostics.rawFlags(),
  };
}

function simulated(fn: () => number): StepResult {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RseqError) return e.code;
    throw e;
  }
}

/** A fresh thread of a simulated kernel configured as given. */
export function simulatorTarget(
  options: Pick<SimulatedKernelOptions, 'bootEnabled' | 'configured' | 'extensionAbi'> = {},
): TranscriptTarget {
  const thread = new SimulatedKernel(options).createThread();
  return {
    register: (length, defaultOn) => simulated(() => thread.registerRseq({ length, defaultOn })),
    unregister: () => simulated(() => thread.unregisterRseq()),
    prctl: (op, a3, a4, a5) => simulated(() => thread.prctl(PR_RSEQ_SLICE_EXTENSION, op, a3, a4, a5)),
    sliceYield: () => simulated(() => thread.sliceYield()),
    flags: () => new DataView(thread.area.buffer).getUint32(OFFSET_FLAGS, true),
  };
}

// Every prctl step is also R2 (a kernel built without the feature answers ENOTSUPP to each).
const REGISTER = ['R8', 'R9', 'R11'];

/** Runs the script against `t`. */
export function abiTranscript(t: TranscriptTarget): TranscriptStep[] {
  const steps: TranscriptStep[] = [];
  let section = '';
  const step = (name: string, rules: string[], fn: () => StepResult): void => {
    const result = fn();
    steps.push({ section, step: name, rules, answer: `${result} flags=0x${t.flags().toString(16)}` });
  };
  const setRule = (): string[] =>
    section.startsWith('optimized') || section.startsWith('lengths') ? ['R2', 'R5', 'R6'] : ['R2', 'R5'];
  const prctlCases = (): void => {
    step('GET', ['R2', 'R3'], () => t.prctl(GET, 0, 0, 0));
    step('GET arg3=1', ['R2', 'R3'], () => t.prctl(GET, 1, 0, 0));
    step('GET arg4=1', ['R1'], () => t.prctl(GET, 0, 1, 0));
    step('GET arg5=1', ['R1'], () => t.prctl(GET, 0, 0, 1));
    step('SET arg3=2', ['R2', 'R4'], () => t.prctl(SET, 2, 0, 0));
    step('SET arg4=1', ['R1'], () => t.prctl(SET, 1, 1, 0));
    step('op 0', ['R2', 'R4'], () => t.prctl(0, 0, 0, 0));
    step('op 3', ['R2', 'R4'], () => t.prctl(3, 0, 0, 0));
    step('SET 0', setRule(), () => t.prctl(SET, 0, 0, 0));
    step('SET 1', setRule(), () => t.prctl(SET, 1, 0, 0));
    step('GET', ['R2', 'R3'], () => t.prctl(GET, 0, 0, 0));
    step('SET 1 again', setRule(), () => t.prctl(SET, 1, 0, 0));
    step('SET 0', setRule(), () => t.prctl(SET, 0, 0, 0));
    step('GET', ['R2', 'R3'], () => t.prctl(GET, 0, 0, 0));
    step('yield outside a grant', ['R20'], () => t.sliceYield());
  };
  section = 'no registration';
  prctlCases();
  section = 'legacy registration (32 bytes)';
  step('register 32', REGISTER, () => t.register(ORIG_RSEQ_SIZE, false));
  prctlCases();
  step('register 32 again', ['R11'], () => t.register(ORIG_RSEQ_SIZE, false));
  step('register 64 over it', ['R11'], () => t.register(RSEQ_ALLOC_ALIGN_SLICE_EXT, false));
  step('unregister', ['R12'], () => t.unregister());
  step('unregister again', ['R12'], () => t.unregister());
  section = 'optimized registration (64 bytes)';
  step('register 64', REGISTER, () => t.register(RSEQ_ALLOC_ALIGN_SLICE_EXT, false));
  prctlCases();
  step('SET 1', ['R2', 'R6'], () => t.prctl(SET, 1, 0, 0));
  step('unregister while enabled', ['R12'], () => t.unregister());
  step('GET after unregister', ['R2', 'R3', 'R12'], () => t.prctl(GET, 0, 0, 0));
  step('SET 1 after unregister', ['R2', 'R5', 'R12'], () => t.prctl(SET, 1, 0, 0));
  section = 'optimized registration with RSEQ_FLAG_SLICE_EXT_DEFAULT_ON';
  step('register 64 default-on', ['R8', 'R9', 'R10'], () => t.register(RSEQ_ALLOC_ALIGN_SLICE_EXT, true));
  step('GET', ['R2', 'R3', 'R10'], () => t.prctl(GET, 0, 0, 0));
  step('SET 0', ['R2', 'R6'], () => t.prctl(SET, 0, 0, 0));
  step('GET', ['R2', 'R3'], () => t.prctl(GET, 0, 0, 0));
  step('unregister', ['R12'], () => t.unregister());
  section = 'legacy registration with RSEQ_FLAG_SLICE_EXT_DEFAULT_ON';
  step('register 32 default-on', ['R8', 'R10'], () => t.register(ORIG_RSEQ_SIZE, true));
  step('GET', ['R2', 'R3', 'R10'], () => t.prctl(GET, 0, 0, 0));
  step('unregister', ['R12'], () => t.unregister());
  section = 'lengths';
  step('register 16', ['R11'], () => t.register(ORIG_RSEQ_SIZE / 2, false)); // shorter than the original struct
  step('register 33', REGISTER, () => t.register(RSEQ_FEATURE_SIZE_SLICE_EXT, false));
  step('GET', ['R2', 'R3'], () => t.prctl(GET, 0, 0, 0));
  step('SET 1', ['R2', 'R5', 'R6'], () => t.prctl(SET, 1, 0, 0));
  step('unregister', ['R12'], () => t.unregister());
  return steps;
}
