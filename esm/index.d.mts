// Types of the ESM entry point (esm/index.mjs): the CommonJS build's, re-exported.
import * as rseqSlice from '../dist/index.js';

export * from '../dist/index.js';
export default rseqSlice;
