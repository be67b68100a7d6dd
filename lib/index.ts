/**
 * rseq-slice: the Linux rseq time slice extension for Node.js. See README.md and docs/api.md.
 */
export { detect } from './detect';
export type { Detection, RseqDetection, SliceExtensionDetection } from './detect';
export { open } from './open';
export type { OpenOptions, SimulatorOptions } from './options';
export type { BackendChoice } from './backend_choice';
export { SliceExtension } from './extension';
export type { SliceStats } from './extension';
export { RseqError, errnoName } from './errors';
export { SliceMutex, SLICE_MUTEX_BYTES, OWNER_CHECK_MS } from './slice_mutex';
export type { SliceMutexOptions, OwnerDiedHandler } from './slice_mutex';
export { OwnerDiedError, MutexNotRecoverableError } from './mutex_errors';
export { SimulatedKernel, SimulatedThread, SimulatedSignal } from './simulator/simulator';
export type {
  SimulatedKernelOptions,
  SimulatedCounters,
  InterruptOptions,
  RegisterOptions,
  SyscallOptions,
} from './simulator/simulator';
export type { Outcome } from './kernel/abi';
export type { PlatformInfo } from './kernel/platform';
export { include, explainThreadError, THREAD_ERROR_STEPS } from './native_api';
export type { ThreadErrorStep, ThreadErrorExplanation } from './native_api';
export type { NativeApi } from './addon/addon';
import * as abiModule from './kernel/abi';
import type { NativeApi } from './addon/addon';
import { nativeApi } from './native_api';

/**
 * The kernel ABI constants (area offsets, prctl and flag numbers, extension limits), frozen: a
 * namespace object of the CommonJS build is writable, and the library reads the same values.
 */
export const abi: typeof abiModule = Object.freeze({ ...abiModule });
/** The ABI's types, as `abi.Outcome`. */
export declare namespace abi {
  export type Outcome = abiModule.Outcome;
}

/**
 * rseq-slice's C function table for other addons (include/rseq_slice.h), to pass to a consumer
 * addon's init: `myAddon.init(require('rseq-slice').native)`. Null where the addon did not load
 * (detect() says why). Read lazily: the addon loads on first access, not at import.
 */
export declare const native: NativeApi | null;
// On module.exports, not `exports`: transpilers that rebuild a module's exports object (esbuild,
// which tsx runs) would leave a getter on the original one behind.
Object.defineProperty(module.exports, 'native', { enumerable: true, get: nativeApi });
