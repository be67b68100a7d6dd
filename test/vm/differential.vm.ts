/** Guest suite, glibc's registration off: the simulator's ABI transcript against the real kernel's. */
import { expect } from 'chai';
import { abiTranscript, nativeTarget, simulatorTarget } from '../../scripts/abi-transcript';
import { bootDescription } from './guest';

describe(`guest, differential test: ${bootDescription()}`, () => {
  it('registration (none, legacy, optimized, default-on, lengths), every prctl case, flags and yield: identical transcripts', () => {
    // Every step is a deterministic syscall answer (kernel/rseq.c rseq_register, sys_rseq,
    // rseq_slice_extension_prctl, sys_rseq_slice_yield); no step depends on timing.
    const kernel = abiTranscript(nativeTarget());
    const simulator = abiTranscript(simulatorTarget());
    expect(kernel.length).to.be.greaterThan(60);
    expect(kernel).to.deep.equal(simulator);
  });
});
