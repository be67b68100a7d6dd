/**
 * Guest suite, glibc's registration off: `rseq-slice check` against the real kernel. Its ABI
 * transcript (lib/conformance/transcript.ts) is the one source of the differential test.
 */
import { expect } from 'chai';
import { bootDescription, expectCheckConforms } from './guest';

describe(`guest, differential test: ${bootDescription()}`, function () {
  this.timeout(120_000);
  it('rseq-slice check: the kernel answers every step as the simulator (enabled), grants conform, exit 0', () => {
    const report = expectCheckConforms('enabled', ['R1', 'R3', 'R4', 'R5', 'R6', 'R8', 'R10', 'R11', 'R12', 'R13', 'R15', 'R20', 'R23']);
    expect(report.steps).to.be.greaterThan(60);
  });
});
