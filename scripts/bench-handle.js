// The native handle the benchmarks measure, shared by scripts/bench.ts and the contention
// workers (plain JavaScript, so workers need no TypeScript loader). Where the kernel grants, it
// is open({ backend: 'native' }); where it does not, the same native fast path built over the
// thread's real area, never granted, so the figures show the cost of asking.
'use strict';
const path = require('node:path');

const DIST = path.join(__dirname, '..', 'dist');

// Where a module of lib/ compiled to in `dist`: grouped by family (lib/addon/, lib/simulator/)
// since 0.4, flat before; bench --dist measures builds of either layout.
const FAMILY = { addon: 'addon', native_backend: 'addon', random: 'simulator' };

/** A compiled lib/ module of `dist` by its file name, in either layout. */
function distModule(dist, name) {
  const grouped = FAMILY[name] === undefined ? null : path.join(dist, FAMILY[name], name);
  if (grouped !== null) {
    try {
      return require(grouped);
    } catch (err) {
      if (err.code !== 'MODULE_NOT_FOUND') throw err;
    }
  }
  return require(path.join(dist, name));
}

/** The handle over `dist` (default this checkout's dist/; bench --dist measures another build). */
function benchHandle(fastPath, dist = DIST) {
  const rs = require(dist);
  if (rs.detect().sliceExtension.available) return rs.open({ backend: 'native', fastPath });
  const { addonState } = distModule(dist, 'addon');
  const { SliceExtension } = distModule(dist, 'extension');
  const { NativeBackend } = distModule(dist, 'native_backend');
  const { addon, error } = addonState();
  if (!addon) throw new Error(`the native addon did not load: ${error}`);
  addon.areaInfo(false);
  return SliceExtension.fromBackend(new NativeBackend(addon, fastPath === 'javascript'));
}

/**
 * The addon's benchmark entries (sectionLoop, spinLockLoop, schedGetcpu): its `bench` object
 * since 0.4; a build before that exported them among the others, and bench --dist still measures
 * such a build. Throws naming what the addon lacks when it has neither.
 */
function addonBench(addon) {
  if (addon.bench !== undefined) return addon.bench;
  const flat = ['sectionLoop', 'spinLockLoop', 'schedGetcpu'];
  const missing = flat.filter((name) => typeof addon[name] !== 'function');
  if (missing.length > 0)
    throw new Error(`the measured addon has no bench object and no flat ${missing.join(', ')}: too old to measure`);
  return Object.fromEntries(flat.map((name) => [name, addon[name].bind(addon)]));
}

module.exports = { addonBench, benchHandle, distModule };
