/**
 * JavaScript and native sections of one thread nest as one section (include/rseq_slice.h
 * `rseq_slice_thread.depth` is the depth the native backend's handles count in): the inner end of
 * either kind never ends the outer one. Needs the native backend (a kernel that grants) and the
 * consumer addon initialised with the table; test/lib/consumer.test.ts runs it where the host grants,
 * test/vm/native-nesting.vm.ts in the guest.
 */
import { expect } from 'chai';
import { open } from '../../lib';
import type { ConsumerAddon } from './consumer';

/** include/rseq_slice.h RSEQ_SLICE_NESTED: the outcome of an inner section's end. */
export const RSEQ_SLICE_NESTED = 4;
/** The outcomes of an outermost end (clean, yielded, raced, revoked). */
const OUTCOMES = [0, 1, 2, 3];

export function checkJsNativeNesting(consumer: ConsumerAddon): void {
  const h = open({ backend: 'native' });
  expect(h.depthLevel).to.equal(0);
  expect(consumer.depth(), 'the table and JavaScript see one depth').to.equal(0);

  // JavaScript outside, native inside: the native end is the inner one and touches nothing; the
  // JavaScript exit is the outermost and counts the section.
  const before = h.stats.sections;
  h.enter();
  expect(consumer.depth(), "JavaScript's enter counts in the table's depth").to.equal(1);
  expect(consumer.nativeSection(), 'the inner native end').to.equal(RSEQ_SLICE_NESTED);
  expect(h.depthLevel, 'the outer JavaScript section is still open').to.equal(1);
  expect(() => h.disable(), 'a section is open').to.throw(/inside a critical section/);
  h.exit();
  expect(h.stats.sections - before, 'one section, counted by the outermost exit').to.equal(1);
  expect(h.depthLevel).to.equal(0);

  // Native outside, JavaScript inside: the JavaScript exit is the inner one ('clean', uncounted);
  // the native end is the outermost and reports a real outcome.
  const [outer, inner] = consumer.nativeAround(() => {
    const depth = h.depthLevel;
    h.enter();
    const nested = h.depthLevel;
    const outcome = h.exit();
    return { depth, nested, outcome, sections: h.stats.sections, after: h.depthLevel };
  });
  expect(inner).to.deep.equal({ depth: 1, nested: 2, outcome: 'clean', sections: before + 1, after: 1 });
  expect(OUTCOMES, 'the outermost (native) end').to.include(outer);
  expect(h.depthLevel).to.equal(0);
  expect(consumer.depth()).to.equal(0);

  // The same through run() and SliceMutex-style callbacks: a throw inside still unwinds both.
  expect(() => consumer.nativeAround(() => h.run(() => consumer.nativeAround(() => h.depthLevel)))).to.not.throw();
  expect(() =>
    consumer.nativeAround(() =>
      h.run(() => {
        throw new Error('inside');
      }),
    ),
  ).to.throw('inside');
  expect(h.depthLevel, 'every section unwound').to.equal(0);
}
