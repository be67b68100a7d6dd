// The native handle the benchmarks measure, shared by scripts/bench.ts and the contention
// workers (plain JavaScript, so workers need no TypeScript loader). Where the kernel grants, it
// is open({ backend: 'native' }); where it does not, the same native fast path built over the
// thread's real area, never granted, so the figures show the cost of asking.
'use strict';
const path = require('node:path');

const DIST = path.join(__dirname, '..', 'dist');

/** The handle over `dist` (default this checkout's dist/; bench --dist measures another build). */
function benchHandle(fastPath, dist = DIST) {
  const rs = require(dist);
  if (rs.detect().sliceExtension.available) return rs.open({ backend: 'native', fastPath });
  const { addonState } = require(path.join(dist, 'addon'));
  const { SliceExtension } = require(path.join(dist, 'extension'));
  const { NativeBackend } = require(path.join(dist, 'native_backend'));
  const { addon, error } = addonState();
  if (!addon) throw new Error(`the native addon did not load: ${error}`);
  addon.areaInfo(false);
  return SliceExtension.fromBackend(new NativeBackend(addon, fastPath === 'javascript'));
}

module.exports = { benchHandle };
