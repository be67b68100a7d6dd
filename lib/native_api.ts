/**
 * What other addons use to run slice sections on their own threads: the C header's directory and
 * rseq-slice's C function table (include/rseq_slice.h).
 */
import * as path from 'node:path';
import { addonState, type NativeApi } from './addon/addon';
import { detect, explainRefusalHere, rseqReason } from './detect';
import { errnoName } from './errors';
import { PACKAGE_ROOT } from './package_root';

/**
 * The absolute path of the package's include/ directory (rseq_slice.h), for a consumer's
 * binding.gyp: `"include_dirs": ["<!(node -p \"require('rseq-slice').include\")"]`.
 */
export const include: string = path.join(PACKAGE_ROOT, 'include');

/** The table from this thread's addon, loading the addon on first use; null where it did not load (see detect()). */
export function nativeApi(): NativeApi | null {
  return addonState().addon?.native ?? null;
}

/** The steps `thread_error()` names (native/native_api.cc): where enabling a thread failed. */
export const THREAD_ERROR_STEPS = ['rseq registration', 'prctl(PR_RSEQ_SLICE_EXTENSION, SET)'] as const;
/** One of THREAD_ERROR_STEPS. */
export type ThreadErrorStep = (typeof THREAD_ERROR_STEPS)[number];

/** Why a native thread gets no extension, in detect()'s words. */
export interface ThreadErrorExplanation {
  step: ThreadErrorStep;
  /** The errno's name (`EINVAL`, `ENOTSUPP`…). */
  errno: string;
  reason: string;
  remedy?: string;
}

/**
 * What a consumer addon's `thread_error(&step)` answer means: the reason (and remedy, where there
 * is one) that detect() and `rseq-slice detect` give for the same refusal, judged with this
 * process's platform, boot parameter and rseq registration (which are the same on every thread of
 * a process). Null for 0 (the extension is enabled). Hand it what your addon got:
 * `explainThreadError(errno, step)`.
 *
 * @throws TypeError or RangeError when `errno` is not a non-negative integer or `step` is not one
 * of THREAD_ERROR_STEPS for a non-zero errno.
 */
export function explainThreadError(errno: number, step: string | null): ThreadErrorExplanation | null {
  if (typeof errno !== 'number')
    throw new TypeError(`errno must be thread_error()'s answer, a number; got ${typeof errno}`);
  if (!Number.isSafeInteger(errno) || errno < 0)
    throw new RangeError(`errno must be thread_error()'s answer, a non-negative integer; got ${errno}`);
  if (errno === 0) return null;
  const known = THREAD_ERROR_STEPS.find((s) => s === step);
  if (known === undefined)
    throw new TypeError(
      `step must be what thread_error() set for a non-zero errno, one of ${THREAD_ERROR_STEPS.map((s) => JSON.stringify(s)).join(', ')}; got ${JSON.stringify(step)}`,
    );
  if (known === 'rseq registration') return { step: known, errno: errnoName(errno), reason: rseqReason(errno) };
  const { rseq, sliceExtension: slice } = detect();
  // The kernel said the same to detect()'s prctl GET or SET on this thread: the process shares its
  // kernel and its kind of registration, so detect()'s words hold (its GET rows are the ones that
  // tell a kernel without the option from one that predates it).
  if (slice.errno === errnoName(errno) && slice.reason !== undefined)
    return slice.remedy === undefined
      ? { step: known, errno: slice.errno, reason: slice.reason }
      : { step: known, errno: slice.errno, reason: slice.reason, remedy: slice.remedy };
  const explained = explainRefusalHere(errno, { call: 'SET', rseq: { owner: rseq.owner, mode: rseq.mode } });
  return { step: known, ...explained };
}
