/**
 * One deterministic script of rseq / prctl operations, run against the real kernel (through the
 * addon's diagnostic area) or against the simulator, producing a transcript of results, errno
 * names and flags bits. The two transcripts must be identical (test/vm/differential.vm.ts); where
 * they differ, the kernel is right.
 *
 *   npx tsx scripts/abi-transcript.ts native|simulator [--boot-disabled]
 * The native target needs GLIBC_TUNABLES=glibc.pthread.rseq=0 (the thread must have no area yet).
 */
import { PR_RSEQ_SLICE_EXTENSION, RSEQ_FLAG_SLICE_EXT_DEFAULT_ON } from '../lib/abi';
import { addonState } from '../lib/addon';
import { errnoName, RseqError } from '../lib/errors';
import { SimulatedKernel } from '../lib/simulator';

/** A result: the returned number, or the errno name. */
type Result = number | string;

export interface TranscriptTarget {
  register(length: number, defaultOn: boolean): Result;
  unregister(): Result;
  prctl(op: number, arg3: number, arg4: number, arg5: number): Result;
  sliceYield(): Result;
  flags(): number;
}

function native(rc: number): Result {
  return rc < 0 ? errnoName(-rc) : rc;
}

export function nativeTarget(): TranscriptTarget {
  const { addon, error } = addonState();
  if (!addon) throw new Error(`the native addon did not load: ${error}`);
  return {
    register: (length, defaultOn) => native(addon.raw.register(length, defaultOn ? RSEQ_FLAG_SLICE_EXT_DEFAULT_ON : 0)),
    unregister: () => native(addon.raw.unregister()),
    prctl: (op, a3, a4, a5) => native(addon.prctl(op, a3, a4, a5)),
    sliceYield: () => native(addon.sliceYield()),
    flags: () => addon.raw.read().flags,
  };
}

function simulated(fn: () => number): Result {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RseqError) return e.code;
    throw e;
  }
}

export function simulatorTarget(options: { bootEnabled?: boolean } = {}): TranscriptTarget {
  const thread = new SimulatedKernel({ bootEnabled: options.bootEnabled ?? true }).createThread();
  return {
    register: (length, defaultOn) => simulated(() => thread.registerRseq({ length, defaultOn })),
    unregister: () => simulated(() => thread.unregisterRseq()),
    prctl: (op, a3, a4, a5) => simulated(() => thread.prctl(PR_RSEQ_SLICE_EXTENSION, op, a3, a4, a5)),
    sliceYield: () => simulated(() => thread.sliceYield()),
    flags: () => new DataView(thread.area.buffer).getUint32(16, true),
  };
}

const GET = 1;
const SET = 2;

/** Runs the script and returns one line per step: `step → result, flags=0x..`. */
export function abiTranscript(t: TranscriptTarget): string[] {
  const lines: string[] = [];
  const step = (name: string, fn: () => Result): void => {
    lines.push(`${name} -> ${fn()} flags=0x${t.flags().toString(16)}`);
  };
  const prctlCases = (): void => {
    step('GET', () => t.prctl(GET, 0, 0, 0));
    step('GET arg3=1', () => t.prctl(GET, 1, 0, 0));
    step('GET arg4=1', () => t.prctl(GET, 0, 1, 0));
    step('GET arg5=1', () => t.prctl(GET, 0, 0, 1));
    step('SET arg3=2', () => t.prctl(SET, 2, 0, 0));
    step('SET arg4=1', () => t.prctl(SET, 1, 1, 0));
    step('op 0', () => t.prctl(0, 0, 0, 0));
    step('op 3', () => t.prctl(3, 0, 0, 0));
    step('SET 0', () => t.prctl(SET, 0, 0, 0));
    step('SET 1', () => t.prctl(SET, 1, 0, 0));
    step('GET', () => t.prctl(GET, 0, 0, 0));
    step('SET 1 again', () => t.prctl(SET, 1, 0, 0));
    step('SET 0', () => t.prctl(SET, 0, 0, 0));
    step('GET', () => t.prctl(GET, 0, 0, 0));
    step('yield outside a grant', () => t.sliceYield());
  };
  lines.push('# no registration');
  prctlCases();
  lines.push('# legacy registration (32 bytes)');
  step('register 32', () => t.register(32, false));
  prctlCases();
  step('register 32 again', () => t.register(32, false));
  step('register 64 over it', () => t.register(64, false));
  step('unregister', () => t.unregister());
  step('unregister again', () => t.unregister());
  lines.push('# optimized registration (64 bytes)');
  step('register 64', () => t.register(64, false));
  prctlCases();
  step('SET 1', () => t.prctl(SET, 1, 0, 0));
  step('unregister while enabled', () => t.unregister());
  step('GET after unregister', () => t.prctl(GET, 0, 0, 0));
  step('SET 1 after unregister', () => t.prctl(SET, 1, 0, 0));
  lines.push('# optimized registration with RSEQ_FLAG_SLICE_EXT_DEFAULT_ON');
  step('register 64 default-on', () => t.register(64, true));
  step('GET', () => t.prctl(GET, 0, 0, 0));
  step('SET 0', () => t.prctl(SET, 0, 0, 0));
  step('GET', () => t.prctl(GET, 0, 0, 0));
  step('unregister', () => t.unregister());
  lines.push('# legacy registration with RSEQ_FLAG_SLICE_EXT_DEFAULT_ON');
  step('register 32 default-on', () => t.register(32, true));
  step('GET', () => t.prctl(GET, 0, 0, 0));
  step('unregister', () => t.unregister());
  lines.push('# lengths');
  step('register 16', () => t.register(16, false));
  step('register 33', () => t.register(33, false));
  step('GET', () => t.prctl(GET, 0, 0, 0));
  step('SET 1', () => t.prctl(SET, 1, 0, 0));
  step('unregister', () => t.unregister());
  return lines;
}

if (require.main === module) {
  const [which, flag] = process.argv.slice(2);
  if ((which !== 'native' && which !== 'simulator') || (flag !== undefined && flag !== '--boot-disabled')) {
    console.error('usage: abi-transcript.ts native|simulator [--boot-disabled]');
    process.exit(2);
  }
  const target = which === 'native' ? nativeTarget() : simulatorTarget({ bootEnabled: flag !== '--boot-disabled' });
  console.log(abiTranscript(target).join('\n'));
}
