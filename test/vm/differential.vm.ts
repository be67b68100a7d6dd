/**
 * Guest suite, glibc's registration off: `rseq-slice check` against the real kernel. Its ABI
 * transcript (lib/conformance/transcript.ts) is the one source of the differential test.
 */
import { expect } from 'chai';
import { bootDescription, checkSummary, runCheck } from './guest';

describe(`guest, differential test: ${bootDescription()}`, function () {
  this.timeout(120_000);
  it('rseq-slice check: the kernel answers every step as the simulator (enabled), grants conform, exit 0', () => {
    // Every transcript step is a deterministic syscall answer (kernel/rseq.c rseq_register,
    // sys_rseq, rseq_slice_extension_prctl, sys_rseq_slice_yield); the grant scenario's verdicts
    // are kernel invariants (see lib/conformance/check.ts checkGrants).
    const { status, report, stderr } = runCheck();
    console.log(checkSummary(report));
    expect(report.model).to.equal('enabled');
    expect(report.steps).to.be.greaterThan(60);
    expect(report.rules.filter((r) => r.status === 'FAIL'), stderr).to.deep.equal([]);
    for (const rule of ['R1', 'R3', 'R4', 'R5', 'R6', 'R8', 'R10', 'R11', 'R12', 'R13', 'R15', 'R20', 'R23']) {
      expect(report.rules.find((r) => r.rule === rule)!.status, rule).to.equal('pass');
    }
    expect(status).to.equal(0);
  });
});
