/**
 * What other addons use to run slice sections on their own threads: the C header's directory and
 * rseq-slice's C function table (include/rseq_slice.h).
 */
import * as path from 'node:path';
import { addonState } from './addon';

declare const nativeApiBrand: unique symbol;

/**
 * rseq-slice's C function table (`struct rseq_slice_api` of include/rseq_slice.h), a
 * `napi_external` with no JavaScript properties. Pass it to a consumer addon's init, which takes
 * the table out with `rseq_slice_api_from_napi()`.
 */
export interface NativeApi {
  readonly [nativeApiBrand]: 'rseq-slice native API';
}

/**
 * The absolute path of the package's include/ directory (rseq_slice.h), for a consumer's
 * binding.gyp: `"include_dirs": ["<!(node -p \"require('rseq-slice').include\")"]`.
 */
export const include: string = path.join(__dirname, '..', 'include');

/** The table from this thread's addon, loading the addon on first use; null where it did not load (see detect()). */
export function nativeApi(): NativeApi | null {
  return addonState().addon?.native ?? null;
}
