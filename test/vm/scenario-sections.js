// The section loop of the selftest scenario, shared by the main thread and the workers: request,
// spin, exit path; on the native path the whole loop runs in C++ (the btrl fast path).
'use strict';

function runSections(rs, path, spinNs, seconds) {
  const hr = process.hrtime.bigint;
  const deadline = hr() + BigInt(Math.round(seconds * 1e9));
  if (path === 'native-loop') {
    const addon = require(require('node:path').join(__dirname, '..', '..', 'dist', 'addon', 'addon.js')).addonState()
      .addon;
    rs.open({ backend: 'native' }); // registers and enables this thread
    const total = [0, 0, 0, 0];
    while (hr() < deadline) {
      const c = addon.bench.sectionLoop(200, spinNs);
      if (typeof c === 'number') throw new Error(`sectionLoop failed: ${c}`);
      for (let i = 0; i < 4; i++) total[i] += c[i];
    }
    const [clean, yielded, raced, revoked] = total;
    return { sections: clean + yielded + raced + revoked, clean, yielded, raced, revoked };
  }
  const h = rs.open({ backend: 'native', fastPath: path });
  const spinBig = BigInt(spinNs);
  while (hr() < deadline) {
    for (let i = 0; i < 200; i++) {
      h.enter();
      const end = hr() + spinBig;
      while (hr() < end);
      h.exit();
    }
  }
  return h.stats;
}

module.exports = { runSections };
