/**
 * The benchmark's consumer addon (scripts/header_consumer, for npm run bench's section pair
 * through include/rseq_slice.h): built as a consumer package builds it, its loop counts sections
 * as rseq-slice's own loop counts them, and its arguments are checked.
 */
import { expect } from 'chai';
import { detect, native } from '../../lib';
import { measuredHandle } from '../../lib/lab/bench/handle';
import { HEADER_CONSUMER, type HeaderConsumer } from '../../scripts/consumer_build';
import { freshConsumer } from '../support/fresh_consumer';
import { skipBecause } from '../support/skip';

describe('bench: the section pair through the header (scripts/header_consumer)', () => {
  let consumer: HeaderConsumer;
  before(function () {
    this.timeout(300_000); // node-gyp rebuild
    consumer = freshConsumer<HeaderConsumer>(this, HEADER_CONSUMER);
  });

  it('refuses to run before init, and anything but the table at init', () => {
    expect(() => consumer.sectionLoop(1, 0)).to.throw(/init\(require\('rseq-slice'\)\.native\) first/);
    expect(() => consumer.init(42)).to.throw(/expected require\('rseq-slice'\)\.native/);
    consumer.init(native);
  });

  it("sectionLoop: sections through the header on this thread, counted as the addon's own loop counts them", () => {
    consumer.init(native);
    const counts = consumer.sectionLoop(10_000, 0);
    if (typeof counts === 'number') throw new Error(`sectionLoop failed: errno ${-counts}`);
    expect(counts).to.have.length(4);
    expect(counts.reduce((a, b) => a + b)).to.equal(10_000);
    if (!detect().sliceExtension.available) expect(counts).to.deep.equal([10_000, 0, 0, 0]); // never granted: all clean
    expect(consumer.sectionLoop(0, 0)).to.deep.equal([0, 0, 0, 0]);
    const spun = consumer.sectionLoop(3, 1000);
    expect((spun as number[]).reduce((a, b) => a + b)).to.equal(3);
    expect(() => consumer.sectionLoop(-1, 0)).to.throw(RangeError, /count must be an integer/);
    expect(() => consumer.sectionLoop(1, 0.5)).to.throw(RangeError, /spinNs must be an integer/);
    expect(() => consumer.sectionLoop(1, NaN)).to.throw(RangeError, /spinNs must be an integer/);
    expect(() => consumer.sectionLoop('1' as unknown as number, 0)).to.throw(TypeError, /count must be an integer/);
  });

  it("refuses to run inside a section of this thread (every end would be an inner one), which its depth shares with JavaScript's", function () {
    consumer.init(native);
    // The lab's handle on the native fast path counts its depth in the addon's per-thread state, as
    // open({ backend: 'native' }) does where the kernel grants.
    const h = measuredHandle('javascript');
    if (h.backend !== 'native') skipBecause(this, 'the lab has no native handle here (the addon did not load)');
    h.enter();
    try {
      expect(() => consumer.sectionLoop(1, 0)).to.throw(/call it outside any section of this thread/);
    } finally {
      h.exit();
    }
    const after = consumer.sectionLoop(1, 0);
    expect(
      (after as number[]).reduce((a, b) => a + b),
      'one section once the JavaScript one ended',
    ).to.equal(1);
  });
});
