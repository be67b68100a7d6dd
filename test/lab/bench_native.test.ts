/** The benchmark's native control loop (native/bench_loop.cc): argument checks and what it records. */
import { expect } from 'chai';
import { type NativeAddon } from '../../lib/addon/addon';
import { loadedAddon } from '../support/addon';

describe('bench: native spin-lock loop', function () {
  let addon: NativeAddon;
  before(function () {
    addon = loadedAddon(this);
  });

  const arrays = (n: number) => [new Float64Array(n), new Float64Array(n), new Float64Array(n)] as const;

  it('rejects wrong types and ranges with TypeError and RangeError', () => {
    const word = new Int32Array(new SharedArrayBuffer(4));
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const [a, r, w] = arrays(1);
    const call =
      (...args: unknown[]) =>
      () =>
        (addon.bench.spinLockLoop as (...x: unknown[]) => unknown)(...args);
    expect(call(new Float64Array(1), stop, false, 0, 0, 1, 0n, a, r, w)).to.throw(
      TypeError,
      'spinLockLoop: word must be an Int32Array of at least 1 element; got a typed array',
    );
    expect(call(word, stop, 'yes', 0, 0, 1, 0n, a, r, w)).to.throw(
      TypeError,
      'spinLockLoop: request must be a boolean; got "yes"',
    );
    expect(call(word, stop, false, 0, 0, 1, 0, a, r, w)).to.throw(
      TypeError,
      'spinLockLoop: baseNs must be a bigint from 0n to 18446744073709551615n; got 0',
    );
    expect(call(word, stop, false, 0, 0, 1, -1n, a, r, w)).to.throw(
      RangeError,
      'spinLockLoop: baseNs must be a bigint from 0n to 18446744073709551615n; got -1n',
    );
    expect(call(word, stop, false, 10, 5, 1, 0n, a, r, w)).to.throw(
      RangeError,
      'spinLockLoop: need minNs <= maxNs; got minNs 10, maxNs 5',
    );
    expect(call(word, stop, false, -1, 5, 1, 0n, a, r, w)).to.throw(
      RangeError,
      'spinLockLoop: minNs must be an integer from 0 to 10000000000; got -1',
    );
    expect(call(word, stop, false, 0, NaN, 1, 0n, a, r, w)).to.throw(
      TypeError,
      'spinLockLoop: maxNs must be an integer from 0 to 10000000000; got NaN',
    );
    expect(call(word, stop, false, 0, 0, -1, 0n, a, r, w)).to.throw(
      RangeError,
      'spinLockLoop: seed must be an integer from 0 to 9007199254740991; got -1',
    );
    expect(call(word, stop, false, 0, 0, 1, 0n, a, r, new Int32Array(1))).to.throw(
      TypeError,
      'spinLockLoop: waits must be a Float64Array; got a typed array',
    );
    expect(call(new Int32Array(0), stop, false, 0, 0, 1, 0n, a, r, w)).to.throw(
      RangeError,
      'spinLockLoop: word must be an Int32Array of at least 1 element; got a typed array',
    );
    expect(call(word)).to.throw(
      TypeError,
      'spinLockLoop: stop must be an Int32Array of at least 1 element; got undefined',
    );
  });

  it('stopped before it starts: no section', () => {
    const stop = new Int32Array(new SharedArrayBuffer(4));
    stop[0] = 1;
    const [a, r, w] = arrays(4);
    expect(
      addon.bench.spinLockLoop(new Int32Array(new SharedArrayBuffer(4)), stop, false, 0, 0, 1, 0n, a, r, w),
    ).to.deep.equal([0, 0, 0, 0, 0, 0]);
  });

  it('records ordered hold windows of at least the section length, up to the arrays’ room, and leaves the lock free', () => {
    const control = new SharedArrayBuffer(4);
    const stop = new Int32Array(control);
    const word = new Int32Array(new SharedArrayBuffer(4));
    // Another thread ends the loop after 50 ms (the loop blocks this one).
    const { Worker } = require('node:worker_threads') as typeof import('node:worker_threads');
    const stopper = new Worker(
      'const f = new Int32Array(require("node:worker_threads").workerData); Atomics.wait(f, 0, 0, 50); Atomics.store(f, 0, 1);',
      { eval: true, workerData: control },
    );
    const [a, r, w] = arrays(100);
    const base = process.hrtime.bigint();
    const out = addon.bench.spinLockLoop(word, stop, false, 2000, 4000, 7, base, a, r, w);
    void stopper.terminate();
    if (typeof out === 'number') throw new Error(`errno ${-out}`);
    const [sections, recorded, ...outcomes] = out;
    expect(sections).to.be.greaterThan(0);
    expect(recorded).to.equal(Math.min(100, sections));
    expect(outcomes).to.deep.equal([0, 0, 0, 0]); // request off: no section outcomes
    for (let i = 0; i < recorded; i++) {
      expect(r[i]! - a[i]!).to.be.at.least(2000);
      if (i > 0) expect(a[i]!).to.be.greaterThan(r[i - 1]!);
      expect(w[i]!).to.be.at.least(0);
    }
    expect(a[0]!).to.be.greaterThan(0);
    expect(word[0]).to.equal(0);
  });
});

describe('bench: a measurement end to end on the simulator', () => {
  it('workers contend, every section is recorded with its window, outcomes only with requests on', async function () {
    this.timeout(30_000);
    const { ScenarioWorkers } = require('../../dist/lab/bench/measure') as typeof import('../../lib/lab/bench/measure');
    const { resolveScenario, SCENARIOS } =
      require('../../dist/lab/bench/scenarios') as typeof import('../../lib/lab/bench/scenarios');
    const { summarizeMeasurement } =
      require('../../dist/lab/bench/summary') as typeof import('../../lib/lab/bench/summary');
    const s = resolveScenario(
      SCENARIOS.find((x) => x.name === 'spin-js-2x-under')!,
      1,
      50_000,
    );
    const workers = new ScenarioWorkers(s, 'simulator');
    try {
      for (const request of [true, false]) {
        const m = await workers.measure(request, 0.2, 1, null);
        expect(m.threads).to.have.length(2);
        expect(m.sections).to.equal(m.threads.reduce((n, t) => n + t.sections, 0));
        expect(m.trace).to.equal(null);
        if (request) expect(m.outcomes!.sections).to.equal(m.sections);
        else expect(m.outcomes).to.equal(null);
        // Windows: ordered per thread, never overlapping across threads (one lock), at least the section long.
        const all = m.threads
          .flatMap((t) => Array.from(t.acquired, (a, i) => [a, t.released[i]!] as const))
          .sort((x, y) => x[0] - y[0]);
        for (let i = 0; i < all.length; i++) {
          expect(all[i]![1] - all[i]![0]).to.be.at.least(s.minSectionNs - 2000); // calibration slack of the clock offset
          if (i > 0) expect(all[i]![0]).to.be.at.least(all[i - 1]![1] - 2000);
        }
        const sum = summarizeMeasurement(m, 1e12);
        expect(sum.recorded).to.equal(all.length);
        expect(sum.longHolds).to.equal(0);
      }
    } finally {
      await workers.close();
    }
  });
});
