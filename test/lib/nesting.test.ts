/**
 * One section per thread: every handle over the same area (the native thread's, or one simulated
 * thread's) shares one nesting depth, so an inner handle's exit() never ends the outer section.
 */
import { expect } from 'chai';
import { OFFSET_GRANTED, OFFSET_REQUEST } from '../../lib/kernel/abi';
import { AREA_OWNER, addonState } from '../../lib/addon/addon';
import { SliceExtension } from '../../lib/extension';
import { NativeBackend } from '../../lib/addon/native_backend';
import { SimulatedKernel } from '../../lib/simulator/simulator';
import { SimulatorBackend } from '../../lib/simulator/simulator_backend';
import { detect, open } from '../../lib';
import type { NestingWorker } from '../fixtures/nesting_worker';
import { inWorker } from '../support/child_node';
import { skipBecause } from '../support/skip';

describe('nesting is per thread, across handles', () => {
  it('two handles over one simulated thread nest as one section: the inner exit leaves request set, the outer settles once', () => {
    const kernel = new SimulatedKernel({ seed: 7 });
    const thread = kernel.createThread();
    thread.registerRseq({ defaultOn: true });
    const a = SliceExtension.fromBackend(new SimulatorBackend(kernel, thread, 0, undefined));
    const b = SliceExtension.fromBackend(new SimulatorBackend(kernel, thread, 0, undefined));
    a.enter();
    b.enter();
    expect(a.depthLevel).to.equal(2);
    expect(b.depthLevel).to.equal(2);
    expect(b.exit()).to.equal('clean');
    expect(thread.area[OFFSET_REQUEST]).to.equal(1); // the outer section still asks
    b.enter();
    // A reschedule while `request` is set: the kernel grants, replacing request by granted.
    thread.interrupt();
    expect(thread.area[OFFSET_GRANTED]).to.equal(1);
    expect(b.exit()).to.equal('clean');
    // The outer section still runs: the grant is neither yielded nor cleared by the inner exit.
    expect(thread.area[OFFSET_GRANTED]).to.equal(1);
    expect(thread.grantExpiry).to.not.equal(null);
    expect(() => b.disable()).to.throw(/disable\(\) inside a critical section/);
    expect(a.exit()).to.equal('yielded');
    expect(thread.area[OFFSET_GRANTED]).to.equal(0);
    expect(a.depthLevel).to.equal(0);
    expect(b.depthLevel).to.equal(0);
    expect(a.stats).to.deep.equal({ sections: 1, clean: 0, yielded: 1, raced: 0, revoked: 0 });
    expect(b.stats.sections).to.equal(0);
    expect(() => b.exit()).to.throw(/exit\(\) without a matching enter\(\)/);
  });

  it('run() of one handle around run() of another on the same simulated thread counts one section', () => {
    const kernel = new SimulatedKernel();
    const thread = kernel.createThread();
    thread.registerRseq({ defaultOn: true });
    const a = SliceExtension.fromBackend(new SimulatorBackend(kernel, thread, 0, undefined));
    const b = SliceExtension.fromBackend(new SimulatorBackend(kernel, thread, 0, undefined));
    const inner = a.run(() => b.run(() => thread.area[OFFSET_REQUEST]));
    expect(inner).to.equal(1);
    expect(a.stats.sections + b.stats.sections).to.equal(1);
    expect(a.stats.clean).to.equal(1);
  });

  it('handles over different simulated threads or kernels stay independent', () => {
    const kernel = new SimulatedKernel();
    const a = open({ backend: 'simulator', simulator: { kernel } });
    const b = open({ backend: 'simulator', simulator: { kernel } }); // a second thread of that kernel
    const c = open({ backend: 'simulator' }); // another kernel
    a.enter();
    expect(b.depthLevel).to.equal(0);
    expect(c.depthLevel).to.equal(0);
    b.enter();
    expect(b.exit()).to.equal('clean');
    expect(b.stats.sections).to.equal(1);
    expect(a.depthLevel).to.equal(1);
    expect(a.exit()).to.equal('clean');
    expect(a.stats.sections).to.equal(1);
  });

  it('two handles on the real area share the depth: the inner exit leaves the real request byte set', function () {
    const { addon } = addonState();
    if (!addon) skipBecause(this, 'the native addon did not load');
    // open({ backend: 'native' }) where the kernel grants; elsewhere the same native fast path over
    // the real area (never granted), which is what the byte test needs.
    const native = (): SliceExtension => {
      if (detect().sliceExtension.available) return open({ backend: 'native' });
      if (addon.areaInfo(false).owner === AREA_OWNER.none) skipBecause(this, 'no rseq area for this thread');
      return SliceExtension.fromBackend(new NativeBackend(addon, true));
    };
    const request = (): number => (addon.readField(OFFSET_REQUEST)! >>> 0) & 0xff; // the slice_ctrl word, little-endian
    const a = native();
    const b = native();
    expect(a.depthLevel).to.equal(0);
    a.enter();
    expect(b.depthLevel).to.equal(1);
    const before = { a: a.stats.sections, b: b.stats.sections };
    b.run(() => {
      expect(request()).to.equal(1);
    });
    expect(request()).to.equal(1); // still the outer section's request
    expect(a.depthLevel).to.equal(1);
    expect(() => b.enable()).to.throw(/enable\(\) inside a critical section/);
    a.exit();
    expect(request()).to.equal(0);
    expect(a.stats.sections - before.a).to.equal(1);
    expect(b.stats.sections - before.b).to.equal(0);
  });

  it("a worker thread has its own depth: the parent's open section is not its section", async function () {
    const { addon } = addonState();
    if (!addon || addon.areaInfo(false).owner === AREA_OWNER.none) skipBecause(this, 'no native area here');
    const h = SliceExtension.fromBackend(new NativeBackend(addon, true));
    h.enter();
    try {
      const r = await inWorker<NestingWorker>('nesting_worker.ts', null);
      expect(r).to.deep.equal({ before: 0, inside: 1, after: 0 });
      expect(h.depthLevel).to.equal(1);
    } finally {
      h.exit();
    }
  });
});
