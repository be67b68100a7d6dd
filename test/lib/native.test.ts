/**
 * The native addon against the kernel this runs on: area location and registration, ids, prctl
 * and yield errno mapping, and the btrl fast path. Expectations follow what the kernel says it
 * supports, so the same file passes here (6.18, no extension) and in the 7.2 guest.
 */
import { expect } from 'chai';
import * as fs from 'node:fs';
import { detect, open, RseqError } from '../../lib';
import { OFFSET_CPU_ID, OFFSET_GRANTED, OFFSET_MM_CID, OFFSET_NODE_ID, OFFSET_REQUEST } from '../../lib/kernel/abi';
import type { OwnAreaChild } from '../fixtures/own_area_child';
import type { PinnedCpuChild } from '../fixtures/pinned_cpu_child';
import type { SectionsWorker } from '../fixtures/sections_worker';
import { DIST } from '../support/paths';
import { fixtureJson, inWorker, runNodeJson } from '../support/child_node';
import { skipBecause } from '../support/skip';
import { thrownBy } from '../support/thrown_by';
import { loadedAddon } from '../support/addon';

/** The CPU the calling thread last ran on, from /proc/thread-self/stat (field 39). */
function procCpu(): number {
  const stat = fs.readFileSync('/proc/thread-self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[36]);
}

describe("native addon: the thread's rseq area", () => {
  it("finds an area: libc's when glibc registered one, else its own", function () {
    const addon = loadedAddon(this);
    const info = addon.areaInfo(false);
    const d = detect();
    expect(d.rseq.registered).to.equal(true);
    if (info.libcSymbols && info.libcRseqSize > 0) {
      expect(d.rseq.owner).to.equal('libc');
      expect(info.owner).to.equal(1);
    } else {
      expect(d.rseq.owner).to.equal('addon');
    }
    expect(d.rseq.featureSize).to.be.at.least(20);
  });

  it("registers its own area when glibc's registration is off (GLIBC_TUNABLES), in the main thread and a worker", function () {
    loadedAddon(this);
    const r = fixtureJson<OwnAreaChild>('own_area_child.ts', [DIST], {
      env: { GLIBC_TUNABLES: 'glibc.pthread.rseq=0' },
    });
    expect(r.main.owner).to.equal('addon');
    expect(r.worker.owner).to.equal('addon');
    expect(r.main.length).to.be.at.least(32);
  });

  it('sizes and aligns its own registration from AT_RSEQ_FEATURE_SIZE / AT_RSEQ_ALIGN', function () {
    loadedAddon(this);
    const info = runNodeJson<{ length: number; alignment: number; auxFeatureSize: number; auxAlign: number }>(
      `const a = require(require('./dist/addon/addon.js').addonBinaryPath()); console.log(JSON.stringify(a.areaInfo(false)));`,
      { env: { GLIBC_TUNABLES: 'glibc.pthread.rseq=0' } },
    );
    const feature = info.auxFeatureSize || 20;
    const align = Math.max(32, info.auxAlign);
    expect(info.length).to.be.at.least(Math.max(32, feature));
    expect(info.alignment % align).to.equal(0);
    if (feature > 32) {
      expect(info.length % align).to.equal(0);
      expect(info.length).to.be.greaterThan(32);
    } else {
      expect(info.length).to.equal(32);
    }
  });

  it('reads cpu() equal to the CPU the process is pinned to (main thread and worker)', function () {
    loadedAddon(this);
    if (!fs.existsSync('/usr/bin/taskset')) skipBecause(this, 'taskset (util-linux) is not installed');
    for (const cpu of [0, 1]) {
      const r = fixtureJson<PinnedCpuChild>('pinned_cpu_child.ts', [DIST], { prefix: ['taskset', '-c', String(cpu)] });
      expect(r.main, `main thread pinned to ${cpu}`).to.equal(cpu);
      expect(r.sched).to.equal(cpu);
      expect(r.worker, `worker pinned to ${cpu}`).to.equal(cpu);
    }
  });

  it('reads the same cpu_id as /proc/thread-self/stat in this thread', function () {
    const addon = loadedAddon(this);
    // Retry: the thread may migrate between the two reads.
    for (let i = 0; i < 100; i++) {
      const fromArea = addon.readField(OFFSET_CPU_ID);
      if (fromArea === procCpu()) return;
    }
    expect.fail('cpu_id never matched /proc/thread-self/stat in 100 tries');
  });

  it('reads node_id and mm_cid from the area', function () {
    const addon = loadedAddon(this);
    addon.areaInfo(false);
    expect(addon.readField(OFFSET_NODE_ID)).to.be.at.least(0);
    expect(addon.readField(OFFSET_MM_CID)).to.be.at.least(0).and.below(4096);
  });
});

describe("native addon: prctl and yield keep the kernel's errno", () => {
  it('maps prctl(PR_RSEQ_SLICE_EXTENSION) failures to RseqError with the errno name', function () {
    loadedAddon(this);
    const d = detect();
    if (d.sliceExtension.available) {
      const h = open({ backend: 'native' });
      expect(h.backend).to.equal('native');
      expect(h.enabled).to.equal(true);
      return;
    }
    const err = thrownBy(() => open({ backend: 'native' }));
    expect(err).to.be.instanceOf(RseqError);
    const e = err as RseqError;
    expect(e.code).to.equal(d.sliceExtension.errno);
    expect(e.syscall).to.match(/^prctl\(PR_RSEQ_SLICE_EXTENSION_(GET|SET)\)$/);
    if (d.platform.kernelVersion && d.platform.kernelVersion[0] < 7) {
      expect(e.code).to.equal('EINVAL');
      expect(e.errno).to.equal(22);
    }
  });

  it('rejects bad prctl arguments with EINVAL (arg4/arg5 non-zero, unknown op)', function () {
    const addon = loadedAddon(this);
    expect(addon.prctl(1, 0, 1, 0)).to.equal(-22);
    expect(addon.prctl(1, 0, 0, 1)).to.equal(-22);
    expect(addon.prctl(99, 0, 0, 0)).to.equal(-22);
  });

  it('maps the yield syscall: ENOSYS where the kernel lacks it, 0 outside a grant otherwise', function () {
    const addon = loadedAddon(this);
    const rc = addon.sliceYield();
    const d = detect();
    if (d.sliceExtension.yieldSyscall) {
      expect(rc).to.equal(0);
    } else {
      expect(rc).to.equal(-38);
      const h = open({ backend: 'simulator' });
      expect(h.yield()).to.equal(false);
    }
  });
});

describe('native addon: the btrl fast path', () => {
  it('sets request on enter, clears it on exit, and leaves every other byte of the area untouched', function () {
    const addon = loadedAddon(this);
    if (detect().rseq.featureSize! < 32) {
      // Kernels before 7.0 do not serve slice_ctrl, but the bytes are still ours to write: the
      // path is checked here on the area's real memory all the same.
      console.log('      (note: this kernel does not serve slice_ctrl; checking the memory effects only)');
    }
    const buffer = addon.areaView();
    if (typeof buffer === 'number')
      skipBecause(this, 'this runtime refuses external buffers, so the area cannot be inspected');
    const bytes = new Uint8Array(buffer);
    for (let i = 0; i < 1000; i++) {
      const before = Array.from(bytes);
      expect(addon.enter()).to.equal(0);
      const inside = Array.from(bytes);
      const outcome = addon.exit();
      const after = Array.from(bytes);
      expect(inside[OFFSET_REQUEST]).to.equal(1);
      expect(after[OFFSET_REQUEST]).to.equal(0);
      expect(outcome).to.be.oneOf([0, 1, 2, 3]);
      if (after[4] !== before[4] || after[0] !== before[0]) continue; // migrated: ids legitimately changed
      for (let b = 0; b < 32; b++) {
        if (b === OFFSET_REQUEST) continue;
        if (b === OFFSET_GRANTED && outcome !== 0) continue; // the kernel's own byte
        expect(after[b], `byte ${b}`).to.equal(before[b]);
      }
    }
  });

  it('runs sections in a C++ loop and counts outcomes that add up', function () {
    const addon = loadedAddon(this);
    const counts = addon.bench.sectionLoop(10000, 0);
    expect(counts).to.be.an('array');
    const [clean, yielded, raced, revoked] = counts as number[];
    expect(clean! + yielded! + raced! + revoked!).to.equal(10000);
    if (!detect().sliceExtension.enabled) expect(yielded).to.equal(0);
  });

  it('keeps the area view private: nothing exported returns it', function () {
    loadedAddon(this);
    const pkg = require('../../lib') as Record<string, unknown>;
    const h = open();
    const reachable = [...Object.values(pkg), ...Object.values(h)];
    for (const v of reachable) {
      expect(v instanceof ArrayBuffer || ArrayBuffer.isView(v)).to.equal(false);
    }
  });

  it('works in worker threads: each has its own area and handle', async function () {
    loadedAddon(this);
    const r = await inWorker<SectionsWorker>('sections_worker.ts', DIST);
    expect(r.sections).to.equal(1000);
    expect(r.owner).to.be.oneOf(['libc', 'addon']);
  });
});
