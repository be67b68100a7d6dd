/**
 * Guest suite: JavaScript and native sections of one thread nest as one section, on the native
 * backend of a kernel that grants (test/support/js_native_nesting.ts, through the consumer addon of
 * test/native/consumer, built on the host before the guest boots). Repeated, so grants and revocations
 * land inside nested sections too: the checks are the nesting rules, which hold whatever the
 * kernel did to the outer section.
 */
import { expect } from 'chai';
import * as fs from 'node:fs';
import { detect, native } from '../../lib';
import { TEST_CONSUMER, type ConsumerAddon } from '../support/consumer';
import { checkJsNativeNesting } from '../support/js_native_nesting';
import { bootDescription } from './guest';

const BINARY = TEST_CONSUMER.binary;
const ROUNDS = 2000;

describe(`guest, JavaScript and native sections nest as one: ${bootDescription()}`, function () {
  this.timeout(600_000);

  it('the native backend is in use and the consumer addon is built', () => {
    expect(detect().backend).to.equal('native');
    expect(fs.existsSync(BINARY), `${BINARY} (built on the host by the guest runner)`).to.equal(true);
  });

  it(`${ROUNDS} rounds of JavaScript-in-native and native-in-JavaScript sections on the main thread`, () => {
    const consumer = require(BINARY) as ConsumerAddon;
    consumer.init(native);
    expect(consumer.whyNot().whyNot, 'the extension is enabled for this thread').to.equal(0);
    for (let i = 0; i < ROUNDS; i++) checkJsNativeNesting(consumer);
  });
});
