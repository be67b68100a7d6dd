/** Guest suite, booted with rseq_debug=1 (strict checks): a million sections per path, no SIGSEGV. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { bootDescription, expectCheckConforms } from './guest';

const ROOT = path.join(__dirname, '..', '..');
const COUNT = Number(process.env.RSEQ_SLICE_VM_DEBUG_SECTIONS ?? 1_000_000);

describe(`guest, strict checks: ${bootDescription()}`, function () {
  this.timeout(900_000);
  // Each path in its own process, with a noise thread, so a SIGSEGV shows as the child's signal.
  const program = (p: string): string => `
    const { Worker } = require('node:worker_threads');
    const rs = require('./dist');
    const stop = new SharedArrayBuffer(4);
    const noise = new Worker(${JSON.stringify(path.join(__dirname, 'scenario-worker.js'))}, { workerData: { role: 'noise', dist: '', stop } });
    noise.once('message', () => {
      let stats;
      if (${JSON.stringify(p)} === 'native-loop') {
        rs.open({ backend: 'native' });
        const c = require('node-gyp-build')(process.cwd()).sectionLoop(${COUNT}, 200);
        stats = { sections: c[0] + c[1] + c[2] + c[3], clean: c[0], yielded: c[1], raced: c[2], revoked: c[3] };
      } else if (${JSON.stringify(p)} === 'contended SliceMutex') {
        // Three threads on one mutex: unlock() wakes waiters (a futex syscall) after sections
        // whose grants may have been revoked; it must never do so with request set.
        const m = rs.SliceMutex.create({ slice: null });
        const code = "const { workerData, parentPort } = require('node:worker_threads'); const rs = require(" + JSON.stringify(process.cwd() + '/dist') + "); const h = rs.open({ backend: 'native' }); const m = new rs.SliceMutex(workerData, 0, { slice: h, spin: 0 }); const hr = process.hrtime.bigint; for (let i = 0; i < ${COUNT / 10}; i++) { m.lock(); const end = hr() + 2000n; while (hr() < end); m.unlock(); } parentPort.postMessage(h.stats);";
        const ws = [0, 1, 2].map(() => new Worker(code, { eval: true, workerData: m.buffer }));
        Promise.all(ws.map((w) => new Promise((r) => w.once('message', r)))).then((all) => {
          stats = all.reduce((t, x) => { for (const k in t) t[k] += x[k]; return t; }, { sections: 0, clean: 0, yielded: 0, raced: 0, revoked: 0 });
          Atomics.store(new Int32Array(stop), 0, 1);
          noise.once('message', () => { console.log(JSON.stringify(stats)); process.exit(0); });
        });
        return;
      } else if (${JSON.stringify(p)} === 'SliceMutex') {
        const h = rs.open({ backend: 'native' });
        const m = rs.SliceMutex.create({ slice: h });
        for (let i = 0; i < ${COUNT}; i++) { m.lock(); m.unlock(); }
        stats = h.stats;
      } else {
        const h = rs.open({ backend: 'native' });
        for (let i = 0; i < ${COUNT}; i++) { h.enter(); h.exit(); }
        stats = h.stats;
      }
      Atomics.store(new Int32Array(stop), 0, 1);
      noise.once('message', () => { console.log(JSON.stringify(stats)); process.exit(0); });
    });`;
  for (const p of ['native-loop', 'javascript', 'SliceMutex', 'contended SliceMutex']) {
    it(`${p === 'contended SliceMutex' ? `3 threads x ${COUNT / 10}` : COUNT} sections on the ${p} path${p.includes('SliceMutex') ? ' (lock/unlock)' : ''}`, () => {
      const r = spawnSync(process.execPath, ['-e', program(p)], { cwd: ROOT, encoding: 'utf8', env: process.env });
      // With rseq_debug=1, kernel/rseq.c rseq_slice_validate_ctrl (at every syscall after a grant)
      // and rseq_set_ids_get_csaddr (ids) send SIGSEGV on any user-space misuse, whatever the
      // timing: a child that ends by a signal means our exit path broke an ABI rule.
      expect(r.signal, r.stderr).to.equal(null);
      expect(r.status, r.stderr).to.equal(0);
      const stats = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { sections: number };
      console.log(`      ${p}: ${JSON.stringify(stats)}`);
      expect(stats.sections).to.equal(p === 'contended SliceMutex' ? 3 * (COUNT / 10) : COUNT);
    });
  }

  it('rseq-slice check conforms with strict checks on (its probes never break an ABI rule)', () => {
    expectCheckConforms('enabled');
  });
});
