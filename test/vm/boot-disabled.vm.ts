/** Guest suite, booted with rseq_slice_ext=0 (and glibc's registration off). */
import { expect } from 'chai';
import { OFFSET_FLAGS } from '../../lib/kernel/abi';
import { addonState } from '../../lib/addon/addon';
import { detect, open, RseqError } from '../../lib';
import { bootDescription, expectCheckConforms } from './guest';

describe(`guest, booted with rseq_slice_ext=0: ${bootDescription()}`, () => {
  it('rseq-slice check: every step answered as the simulator with bootEnabled: false, exit 0', function () {
    this.timeout(120_000);
    expectCheckConforms('disabled at boot', ['R3', 'R5', 'R8', 'R9', 'R10', 'R11']);
  });

  it('ENOTSUPP, AVAILABLE clear, and detect() names the boot parameter', () => {
    // kernel/rseq.c rseq_slice_cmdline disables rseq_slice_extension_key; then rseq_register
    // writes no AVAILABLE flag and rseq_slice_extension_prctl SET answers -ENOTSUPP first.
    const d = detect();
    expect(d.rseq.mode).to.equal('optimized');
    expect(addonState().addon!.readField(OFFSET_FLAGS)).to.equal(0);
    expect(d.sliceExtension.flags.available).to.equal(false);
    expect(d.sliceExtension.available).to.equal(false);
    expect(d.sliceExtension.errno).to.equal('ENOTSUPP');
    expect(d.sliceExtension.bootParam).to.equal('0');
    expect(d.sliceExtension.reason).to.contain('rseq_slice_ext=0');
    expect(() => open({ backend: 'native' }))
      .to.throw(RseqError)
      .with.property('code', 'ENOTSUPP');
  });
});
