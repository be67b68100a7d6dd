// What scripts/bench.ts takes from the build it measures (this checkout's dist/, or another
// build's with --dist): the slice handle and the addon's benchmark entries. Plain JavaScript, so
// that it loads any dist as it is.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

// Where a module of lib/ compiled to in `dist`: grouped by family (lib/addon/) since 0.4, flat
// before; bench --dist measures builds of either layout.
const FAMILY = { addon: 'addon' };

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

/**
 * The handle over `dist`: open({ backend: 'native' }) where the kernel grants; elsewhere the lab's
 * handle factory (lib/lab/bench/handle.ts, lab-only), which builds the native fast path over the
 * real area. A build without that factory can be measured only where the kernel grants.
 */
function benchHandle(fastPath, dist) {
  const rs = require(dist);
  if (rs.detect().sliceExtension.available) return rs.open({ backend: 'native', fastPath });
  const factory = path.join(dist, 'lab', 'bench', 'handle.js');
  if (!fs.existsSync(factory))
    throw new Error(
      `${dist} has no lab/bench/handle.js (the lab's handle factory, since the lab's one benchmark): ` +
        'on a kernel without the slice extension only a build that has it can be measured; measure this build on a kernel that grants, or a newer one',
    );
  return require(factory).measuredHandle(fastPath);
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
