/**
 * detect()'s one table of prctl refusals (lib/detect.ts SLICE_REFUSALS): each errno and condition
 * of GET and SET gives its reason and remedy. The real kernels give these answers in the guest
 * (legacy.vm.ts, boot-disabled.vm.ts) and on this host (EINVAL); here every row is reached.
 */
import { expect } from 'chai';
import { ENOTSUPP } from '../lib/abi';
import { explainRefusal, type RseqDetection, type SliceRefusal } from '../lib/detect';
import { errnoNumber } from '../lib/errors';

function rseq(owner: RseqDetection['owner'], mode: RseqDetection['mode']): RseqDetection {
  return {
    registered: owner !== null,
    owner,
    featureSize: null,
    mode,
    length: null,
    kernelFeatureSize: null,
    kernelAlignment: null,
    libcRseqSize: null,
  };
}

const EINVAL = errnoNumber('EINVAL') as number;
const ENXIO = errnoNumber('ENXIO') as number;
const EPERM = errnoNumber('EPERM') as number;
const optimized: SliceRefusal = { call: 'SET', rseq: rseq('addon', 'optimized'), bootParam: null };

describe('detect(): why prctl PR_RSEQ_SLICE_EXTENSION said no, one table for GET and SET', () => {
  it('GET EINVAL: a kernel before the feature, with the kernel to run', () => {
    const e = explainRefusal(EINVAL, { ...optimized, call: 'GET' });
    expect(e.errno).to.equal('EINVAL');
    expect(e.reason).to.match(/predates the slice extension/);
    expect(e.remedy).to.match(/CONFIG_RSEQ_SLICE_EXTENSION=y/);
  });

  it('ENOTSUPP with rseq_slice_ext=0 on the command line: disabled at boot, for GET and SET alike', () => {
    for (const call of ['GET', 'SET'] as const) {
      const e = explainRefusal(ENOTSUPP, { call, rseq: rseq('libc', 'legacy'), bootParam: '0' });
      expect(e.errno).to.equal('ENOTSUPP');
      expect(e.reason).to.equal(
        'the slice extension is disabled at boot (rseq_slice_ext=0 on the kernel command line)',
      );
      expect(e.remedy).to.equal('remove rseq_slice_ext= from the kernel command line');
    }
  });

  it('GET ENOTSUPP otherwise: built without the feature, even with a legacy area', () => {
    const e = explainRefusal(ENOTSUPP, { call: 'GET', rseq: rseq('libc', 'legacy'), bootParam: null });
    expect(e.reason).to.match(/built without CONFIG_RSEQ_SLICE_EXTENSION/);
    expect(e.remedy).to.match(/^run Linux 7\.0/);
  });

  it("SET ENOTSUPP on a legacy area: libc's names glibc and rseq-slice exec; the addon's says legacy", () => {
    const libc = explainRefusal(ENOTSUPP, { call: 'SET', rseq: rseq('libc', 'legacy'), bootParam: '1' });
    expect(libc.reason).to.match(/^libc registered a legacy 32-byte rseq area/);
    expect(libc.remedy).to.match(/rseq-slice exec -- COMMAND/);
    const own = explainRefusal(ENOTSUPP, { call: 'SET', rseq: rseq('addon', 'legacy'), bootParam: null });
    expect(own.reason).to.equal('the rseq area is a legacy 32-byte registration, which gets no extension');
  });

  it('SET ENXIO: no registration; anything else names the call and the errno, with no remedy', () => {
    expect(explainRefusal(ENXIO, optimized).reason).to.equal(
      'the kernel sees no rseq registration for this thread (ENXIO)',
    );
    expect(explainRefusal(ENOTSUPP, optimized)).to.deep.equal({
      errno: 'ENOTSUPP',
      reason: 'prctl(PR_RSEQ_SLICE_EXTENSION_SET) failed with ENOTSUPP',
    });
    expect(explainRefusal(ENXIO, { ...optimized, call: 'GET' }).reason).to.equal(
      'prctl(PR_RSEQ_SLICE_EXTENSION_GET) failed with ENXIO',
    );
    expect(explainRefusal(EINVAL, optimized)).to.deep.equal({
      errno: 'EINVAL',
      reason: 'prctl(PR_RSEQ_SLICE_EXTENSION_SET) failed with EINVAL',
    });
    expect(explainRefusal(EPERM, { ...optimized, call: 'GET' })).to.deep.equal({
      errno: 'EPERM',
      reason: 'prctl(PR_RSEQ_SLICE_EXTENSION_GET) failed with EPERM',
    });
  });
});
