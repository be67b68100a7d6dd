/**
 * rseq-slice: the Linux rseq time slice extension for Node.js. See README.md.
 */
export { detect } from './detect';
export type { Detection, RseqDetection, SliceExtensionDetection } from './detect';
export { open } from './open';
export type { OpenOptions, SimulatorOptions, BackendChoice } from './open';
export { SliceExtension } from './extension';
export type { SliceStats } from './extension';
export { RseqError, errnoName } from './errors';
export { SliceMutex, SLICE_MUTEX_BYTES, OWNER_CHECK_MS } from './slice_mutex';
export type { SliceMutexOptions, OwnerDiedHandler } from './slice_mutex';
export { OwnerDiedError, MutexNotRecoverableError } from './mutex_errors';
export { SimulatedKernel, SimulatedThread, SimulatedSignal } from './simulator';
export type {
  SimulatedKernelOptions,
  SimulatedCounters,
  InterruptOptions,
  RegisterOptions,
  SyscallOptions,
} from './simulator';
export type { Outcome } from './abi';
export type { PlatformInfo } from './platform';
export * as abi from './abi';
