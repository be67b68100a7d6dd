/**
 * detect() leaves no trace: the thread's rseq registration (as the kernel sees it), prctl GET, the
 * area's flags and the addon's own-area count are the same after it as before, with glibc's area,
 * with none (GLIBC_TUNABLES turns glibc's off, so detect() registers one and releases it), in a
 * worker, and next to an open handle. On this host the kernel has no extension (GET answers
 * EINVAL); the guest's glibc-off variant checks the same on an extension kernel (optimized.vm.ts).
 */
import { expect } from 'chai';
import { addonState } from '../../lib/addon/addon';
import { fixtureJson } from '../support/child_node';
import { skipBecause } from '../support/skip';
import { expectDetectLeftNoTrace, type DetectEffects, type ProbeEffects } from '../fixtures/detect_effects';

const GLIBC_OFF = { GLIBC_TUNABLES: 'glibc.pthread.rseq=0' };

/** Runs test/fixtures/detect_effects.ts in a fresh node (flags: --worker, --probes). */
function runDetectEffects<T>(flags: string[], env: NodeJS.ProcessEnv = {}): T {
  return fixtureJson<T>('detect_effects.ts', flags, { env });
}

function needAddon(ctx: Mocha.Context): void {
  if (process.platform !== 'linux') skipBecause(ctx, `rseq exists only on Linux (this is ${process.platform})`);
  const { addon, error } = addonState();
  if (!addon) skipBecause(ctx, `the native addon did not load: ${error}`);
}

describe('detect() leaves the thread as it found it', () => {
  it("with the registration this host's libc makes", function () {
    needAddon(this);
    const r = runDetectEffects<DetectEffects>([]);
    expectDetectLeftNoTrace(r);
    if (r.fresh.kernelRegistered) {
      expect(r.detectOwner).to.equal('libc');
      expect(r.fresh.ownAreas).to.equal(0);
      expect(r.opened.ownAreas, "open() on libc's area registers none of its own").to.equal(0);
    }
  });

  it("with glibc's registration off: registers its own area to ask, then unregisters it", function () {
    needAddon(this);
    const r = runDetectEffects<DetectEffects>([], GLIBC_OFF);
    expect(r.fresh.kernelRegistered).to.equal(false);
    expect(r.fresh.ownAreas).to.equal(0);
    expectDetectLeftNoTrace(r);
  });

  it("in a worker with glibc's registration off, and the worker's exit unregisters what open() registered", function () {
    needAddon(this);
    const r = runDetectEffects<{ worker: DetectEffects; ownAreasAfterExit: number }>(['--worker'], GLIBC_OFF);
    expect(r.worker.fresh.kernelRegistered).to.equal(false);
    expectDetectLeftNoTrace(r.worker);
    expect(r.ownAreasAfterExit).to.equal(0);
  });

  it("the addon's area probe: releases only what it registered, nested or thrown through, and keeps an area it made a view of", function () {
    needAddon(this);
    const r = runDetectEffects<ProbeEffects>(['--probes'], GLIBC_OFF);
    expect(r.owner).to.equal(2); // the addon's own
    expect(r.releasedPlain, 'the probe released the area it registered').to.equal(1);
    expect(r.afterPlain).to.equal(0);
    expect(r.insideNested).to.equal(1);
    expect([r.releasedInner, r.releasedOuter], 'only the outer probe releases').to.deep.equal([0, 1]);
    expect(r.afterNested).to.equal(0);
    expect(r.thrown).to.equal('Error: thrown inside the probe');
    expect(r.afterThrow).to.equal(0);
    expect(r.badArgument).to.equal('TypeError: withThreadArea: fn must be a function; got 5');
    expect(r.afterView).to.equal(1);
    expect(r.releasedView, 'an area with a view is kept').to.equal(0);
    expect(r.viewCpuId, 'the kept view is over a live registration').to.be.at.least(0);
  });
});
