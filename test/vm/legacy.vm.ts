/** Guest suite, glibc's registration on (a legacy 32-byte area): no extension, and detect() says why. */
import { expect } from 'chai';
import { detect, open, RseqError } from '../../lib';
import { bootDescription, expectCheckConforms, requireLegacyGlibc } from './guest';

describe(`guest, glibc registration on: ${bootDescription()}`, function () {
  before(function () {
    requireLegacyGlibc(this);
  });
  // Deterministic ABI facts, each from the kernel source (Debian linux-source 7.2.13 / 7.3-rc7).
  it('detect() says legacy mode and gives the remedy', () => {
    // kernel/rseq.c rseq_register: a 32-byte area is v1 (no AVAILABLE flag); the auxv feature size
    // is 33 (the struct's size with slice_ctrl); rseq_slice_extension_prctl: SET on a v1
    // registration → ENOTSUPP (!rseq_v2), while the yield syscall exists (answers 0).
    const d = detect();
    expect(d.rseq.owner).to.equal('libc');
    expect(d.rseq.mode).to.equal('legacy');
    expect(d.rseq.length).to.equal(32);
    expect(d.rseq.kernelFeatureSize).to.equal(33);
    expect(d.sliceExtension.available).to.equal(false);
    expect(d.sliceExtension.errno).to.equal('ENOTSUPP');
    expect(d.sliceExtension.reason).to.match(/legacy 32-byte rseq area/);
    expect(d.sliceExtension.remedy).to.match(
      /rseq-slice exec -- COMMAND.*GLIBC_TUNABLES=glibc\.pthread\.rseq=0.*glibc 2\.41 or later/,
    );
    expect(d.sliceExtension.yieldSyscall).to.equal(true);
    expect(d.sliceExtension.flags.available).to.equal(false);
    expect(d.backend).to.equal('simulator');
  });

  it('open() falls back to the simulator and says why', () => {
    const h = open();
    expect(h.backend).to.equal('simulator');
    expect(h.fallbackReason).to.match(/ENOTSUPP/);
  });

  it("open({ backend: 'native' }) throws RseqError ENOTSUPP", () => {
    // kernel/rseq.c rseq_slice_extension_prctl: !rseq_v2(current) → -ENOTSUPP.
    expect(() => open({ backend: 'native' }))
      .to.throw(RseqError)
      .that.satisfies(
        (e: RseqError) =>
          e.code === 'ENOTSUPP' && e.errno === 524 && e.syscall === 'prctl(PR_RSEQ_SLICE_EXTENSION_SET)',
      );
  });

  it("rseq-slice check conforms here too: its probes run with glibc's registration off", function () {
    this.timeout(120_000);
    expectCheckConforms('enabled');
  });
});
