/** SliceMutex: correctness under contention across workers, misuse, and the slice request it holds. */
import { expect } from 'chai';
import { threadId } from 'node:worker_threads';
import { open, RseqError, SliceExtension, SliceMutex, SLICE_MUTEX_BYTES } from '../../lib';
import { knownErrno } from '../../lib/errors';
import type { SliceBackend } from '../../lib/backend';
import { defaultSlice } from '../../lib/slice_mutex';
import type { CountUnderLock } from '../fixtures/count_under_lock_worker';
import { DIST } from '../support/paths';
import { fixtureWorker, runNodeJson } from '../support/child_node';
import { loadedAddon } from '../support/addon';

describe('SliceMutex', () => {
  it('holds a slice request exactly while locked (outermost section = lock hold)', () => {
    const slice = open({ backend: 'simulator' });
    const m = SliceMutex.create({ slice });
    m.lock();
    expect(m.held).to.equal(true);
    expect(slice.depthLevel).to.equal(1);
    m.unlock();
    expect(m.held).to.equal(false);
    expect(slice.depthLevel).to.equal(0);
    expect(slice.stats.sections).to.equal(1);
    expect(m.withLock(() => 'v')).to.equal('v');
    expect(slice.stats.sections).to.equal(2);
  });

  it('tryLock takes a free lock and refuses a held one', () => {
    const shared = new SharedArrayBuffer(SLICE_MUTEX_BYTES);
    const a = new SliceMutex(shared, 0, { slice: null });
    expect(a.tryLock()).to.equal(true);
    a.unlock();
    const view = new Int32Array(shared);
    Atomics.store(view, 0, (999 << 3) | 1); // another thread holds it
    expect(a.tryLock()).to.equal(false);
    Atomics.store(view, 0, 0);
  });

  it('misuse throws: unlocking an unlocked mutex, unlock by a non-owner, relocking by the holder', () => {
    const m = SliceMutex.create({ slice: null });
    expect(() => m.unlock()).to.throw(/unlock\(\) of an unlocked mutex/);
    m.lock();
    expect(() => m.lock()).to.throw(/would deadlock/);
    expect(() => m.tryLock()).to.throw(/not recursive/);
    m.unlock();
    const shared = new SharedArrayBuffer(SLICE_MUTEX_BYTES);
    const view = new Int32Array(shared);
    Atomics.store(view, 0, (12345 << 3) | 1);
    expect(() => new SliceMutex(shared, 0, { slice: null }).unlock()).to.throw(/does not hold the lock/);
  });

  it('withLock releases on throw and rejects thenables', () => {
    const m = SliceMutex.create({ slice: null });
    expect(() =>
      m.withLock(() => {
        throw new Error('x');
      }),
    ).to.throw('x');
    expect(m.held).to.equal(false);
    expect(() => m.withLock(() => Promise.resolve())).to.throw(TypeError, /thenable/);
    expect(m.held).to.equal(false);
    expect(() => m.withLock(5 as never)).to.throw(TypeError, /fn must be a function/);
  });

  it('rejects bad construction arguments', () => {
    expect(() => new SliceMutex(new ArrayBuffer(8) as never)).to.throw(TypeError, /must be a SharedArrayBuffer/);
    expect(() => new SliceMutex(new SharedArrayBuffer(2))).to.throw(RangeError, /needs 4 bytes/);
    expect(() => new SliceMutex(new SharedArrayBuffer(16), 2)).to.throw(RangeError, /multiple of 4/);
    expect(() => new SliceMutex(new SharedArrayBuffer(8), 0, { spin: -1 })).to.throw(RangeError, /spin/);
    expect(() => new SliceMutex(new SharedArrayBuffer(8), 0, { spinn: 1 } as never)).to.throw(
      TypeError,
      /unknown option "spinn"/,
    );
  });

  it('checks the slice option at construction, not at the first lock()', () => {
    for (const bad of [{}, 1, 'open', { enter() {}, exit() {} }]) {
      expect(() => new SliceMutex(new SharedArrayBuffer(4), 0, { slice: bad as never })).to.throw(
        TypeError,
        /options\.slice must be a handle from open\(\), null \(no requests\) or undefined .*; got /,
      );
    }
  });

  it('gives the lock back when the section cannot start (lock() and tryLock() never throw holding it)', () => {
    // A handle whose enter() fails, as the native-call path does for a thread without an area.
    const failing: SliceBackend = {
      kind: 'native',
      clock: null,
      nesting: new Int32Array(1),
      sections: {
        kind: 'native-call',
        enter: () => {
          throw new RseqError('enter', knownErrno('ENXIO'));
        },
        exit: () => 'clean',
      },
      sliceYield: () => 0,
      disarm: () => {},
      prctl: () => 0,
      readField: () => 0,
    };
    const m = SliceMutex.create({ slice: SliceExtension.fromBackend(failing) });
    expect(() => m.lock()).to.throw(RseqError, /ENXIO/);
    expect(m.held).to.equal(false);
    expect(() => m.tryLock()).to.throw(RseqError, /ENXIO/);
    expect(new Int32Array(m.buffer)[0]).to.equal(0);
  });

  it('makes no requests by default where the kernel cannot grant; uses the handle where it is chosen', () => {
    const auto = open();
    if (auto.fallbackReason !== undefined) expect(defaultSlice()).to.equal(null);
    else expect(defaultSlice()).to.be.instanceOf(SliceExtension);
    // A chosen backend is no fallback: its handle is used.
    const chosen = runNodeJson<{ requests: boolean; depth: number }>(
      `const { SliceMutex } = require(${JSON.stringify(DIST)}); const { defaultSlice } = require(${JSON.stringify(`${DIST}/slice_mutex`)});
       const m = SliceMutex.create(); m.lock(); const h = defaultSlice(); const depth = h ? h.depthLevel : -1; m.unlock();
       console.log(JSON.stringify({ requests: h !== null, depth }));`,
      { env: { RSEQ_SLICE_BACKEND: 'simulator' } },
    );
    expect(chosen).to.deep.equal({ requests: true, depth: 1 });
  });

  it('the addon watches one thread id per thread', function () {
    const addon = loadedAddon(this);
    SliceMutex.create({ slice: null }); // watches this thread
    expect(addon.watchThread(threadId)).to.equal(0);
    expect(addon.watchThread(threadId + 1)).to.be.below(0); // -EEXIST
    expect(addon.threadEnded(threadId)).to.equal(false);
  });

  it('loses no update: 4 workers increment a shared counter under contention', async function () {
    this.timeout(120_000);
    const shared = new SharedArrayBuffer(16); // the mutex word, then a counter at byte 8
    const WORKERS = 4;
    const ROUNDS = 20000;
    await Promise.all(
      Array.from({ length: WORKERS }, () => {
        const data: CountUnderLock = { dist: DIST, shared, rounds: ROUNDS };
        const w = fixtureWorker('count_under_lock_worker.ts', data);
        return new Promise<void>((resolve, reject) => {
          w.once('message', () => resolve());
          w.once('error', reject);
        });
      }),
    );
    expect(new Int32Array(shared, 8, 1)[0]).to.equal(WORKERS * ROUNDS);
  });
});
