// The ESM entry point: the CommonJS build's exports, by name. One module instance serves both
// `import` and `require`, so they share state. test/repo/package.test.ts checks the list is complete.
import rseqSlice from '../dist/index.js';

export const {
  detect,
  open,
  SliceExtension,
  RseqError,
  errnoName,
  SliceMutex,
  SLICE_MUTEX_BYTES,
  OWNER_CHECK_MS,
  OwnerDiedError,
  MutexNotRecoverableError,
  SimulatedKernel,
  SimulatedThread,
  SimulatedSignal,
  abi,
  include,
  native,
  explainThreadError,
  THREAD_ERROR_STEPS,
} = rseqSlice;
export default rseqSlice;
