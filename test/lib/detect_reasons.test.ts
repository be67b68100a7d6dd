/**
 * detect()'s one table of prctl refusals (lib/detect.ts SLICE_REFUSALS): each errno and condition
 * of GET and SET gives its reason and remedy, per architecture and kernel version (passed in, as
 * platformInfo() would give them). The real kernels give these answers in the guest
 * (legacy.vm.ts, boot-disabled.vm.ts), on this host (EINVAL) and under qemu-user (arm64.test.ts);
 * here every row is reached. Also the remedy when the addon did not load, and that path on a
 * simulated linux-arm64.
 */
import { expect } from 'chai';
import { ENOTSUPP } from '../../lib/kernel/abi';
import {
  addonRemedy,
  explainRefusal,
  type ExplainPlatform,
  type RseqDetection,
  type SliceRefusal,
} from '../../lib/detect';
import { errnoNumber } from '../../lib/errors';
import { detect, explainThreadError } from '../../lib';
import type { Outcome } from '../fixtures/environment_probe';
import { DIST } from '../support/paths';
import { fixtureJson } from '../support/child_node';

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
const ENOSYS = errnoNumber('ENOSYS') as number;
const x64at = (kernelVersion: ExplainPlatform['kernelVersion']): ExplainPlatform => ({ arch: 'x64', kernelVersion });
const X64_6 = x64at([6, 18, 44]);
const X64_7 = x64at([7, 2, 13]);
const optimized: SliceRefusal = { call: 'SET', rseq: rseq('addon', 'optimized'), bootParam: null, platform: X64_7 };

describe('detect(): why prctl PR_RSEQ_SLICE_EXTENSION said no, one table for GET and SET', () => {
  it('GET EINVAL on a kernel before 7.0 (or of unknown version): it predates the feature, with the kernel to run', () => {
    for (const platform of [X64_6, x64at(null)]) {
      const e = explainRefusal(EINVAL, { ...optimized, call: 'GET', platform });
      expect(e.errno).to.equal('EINVAL');
      expect(e.reason).to.equal(
        'this kernel predates the slice extension (prctl PR_RSEQ_SLICE_EXTENSION answers EINVAL)',
      );
      expect(e.remedy).to.equal('run Linux 7.0 or later built with CONFIG_RSEQ_SLICE_EXTENSION=y');
    }
  });

  it('GET EINVAL on 7.x: not "predates" (7.0+ answers ENOTSUPP without the option), so something refuses the call', () => {
    const e = explainRefusal(EINVAL, { ...optimized, call: 'GET', platform: X64_7 });
    expect(e.errno).to.equal('EINVAL');
    expect(e.reason).to.not.match(/predates/);
    expect(e.reason).to.match(
      /^this 7\.2 kernel answers prctl PR_RSEQ_SLICE_EXTENSION with EINVAL, which a 7\.0\+ kernel never answers/,
    );
    expect(e.reason).to.contain('seccomp filter');
    expect(e.remedy).to.match(/^allow prctl in the seccomp profile, or run Linux 7\.0 or later/);
  });

  it('SET ENOTSUPP with rseq_slice_ext=0 on the command line: disabled at boot', () => {
    const e = explainRefusal(ENOTSUPP, { ...optimized, rseq: rseq('libc', 'legacy'), bootParam: '0' });
    expect(e.errno).to.equal('ENOTSUPP');
    expect(e.reason).to.equal('the slice extension is disabled at boot (rseq_slice_ext=0 on the kernel command line)');
    expect(e.remedy).to.equal('remove rseq_slice_ext= from the kernel command line');
  });

  it('GET ENOTSUPP: built without the option (a stock distribution kernel), even with rseq_slice_ext=0 or a legacy area', () => {
    // With the option GET never fails but for arg3, so its ENOTSUPP is the compiled-out stub's.
    for (const bootParam of [null, '0']) {
      const e = explainRefusal(ENOTSUPP, { call: 'GET', rseq: rseq('libc', 'legacy'), bootParam, platform: X64_7 });
      expect(e.errno).to.equal('ENOTSUPP');
      expect(e.reason).to.equal(
        "this kernel was built without CONFIG_RSEQ_SLICE_EXTENSION, as many distributions' stock kernels are (Debian's 7.2 amd64, for one): prctl PR_RSEQ_SLICE_EXTENSION answers ENOTSUPP",
      );
      expect(e.remedy).to.match(/^run a kernel built with CONFIG_RSEQ_SLICE_EXTENSION=y: /);
      expect(e.remedy).to.contain('`scripts/config --enable RSEQ_SLICE_EXTENSION`, `make olddefconfig`');
    }
  });

  it('arm64: every GET refusal, whatever the errno and kernel version, says no arm64 kernel offers it', () => {
    for (const kernelVersion of [[6, 18, 44], [7, 2, 13], null] as const) {
      for (const errno of [EINVAL, ENOTSUPP, EPERM, ENOSYS]) {
        const platform: ExplainPlatform = { arch: 'arm64', kernelVersion: kernelVersion && [...kernelVersion] };
        for (const bootParam of [null, '0']) {
          const e = explainRefusal(errno, { call: 'GET', rseq: rseq('libc', 'legacy'), bootParam, platform });
          const name = e.errno;
          expect(e.reason).to.equal(
            `arm64 kernels do not offer the slice extension yet (CONFIG_RSEQ_SLICE_EXTENSION needs GENERIC_ENTRY, which arm64 does not select as of Linux 7.2); prctl PR_RSEQ_SLICE_EXTENSION answers ${name}`,
          );
          // Never "rebuild with the option": arm64 cannot select it.
          expect(e.remedy).to.equal(
            'sections still run (on the simulator) and cost almost nothing here; grants need an x86-64 kernel (or s390, riscv or loongarch, which have GENERIC_ENTRY) built with CONFIG_RSEQ_SLICE_EXTENSION=y',
          );
          expect(e.remedy).to.not.match(/^run |scripts\/config|olddefconfig/);
        }
      }
    }
  });

  it('arm64 SET refusals (only after a GET that worked, so a kernel with the option) use the ordinary rows', () => {
    const platform: ExplainPlatform = { arch: 'arm64', kernelVersion: [7, 9, 0] };
    expect(explainRefusal(ENXIO, { ...optimized, platform }).reason).to.equal(
      'the kernel sees no rseq registration for this thread (ENXIO)',
    );
    expect(explainRefusal(ENOTSUPP, { ...optimized, platform, bootParam: '0' }).reason).to.match(/disabled at boot/);
  });

  it("SET ENOTSUPP on a legacy area: libc's names glibc and rseq-slice exec; the addon's says legacy", () => {
    const libc = explainRefusal(ENOTSUPP, { ...optimized, rseq: rseq('libc', 'legacy'), bootParam: '1' });
    expect(libc.reason).to.match(/^libc registered a legacy 32-byte rseq area/);
    expect(libc.remedy).to.match(/rseq-slice exec -- COMMAND/);
    const own = explainRefusal(ENOTSUPP, { ...optimized, rseq: rseq('addon', 'legacy') });
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

describe('detect(): the remedy when the addon did not load, per architecture', () => {
  const BUILD = 'build the addon from source with `npx rseq-slice build` (needs a C++17 compiler, make and python3)';

  it('x64 (and any other architecture but arm64): load the addon, by the way its error names', () => {
    expect(addonRemedy('No native build was found for platform=linux arch=x64', X64_7)).to.equal(BUILD);
    expect(addonRemedy('disabled by RSEQ_SLICE_DISABLE_ADDON=1', X64_7)).to.equal('unset RSEQ_SLICE_DISABLE_ADDON');
    expect(
      addonRemedy('no native binary for linux-riscv64 … (RSEQ_SLICE_PLATFORM simulates that platform)', X64_7),
    ).to.equal('unset RSEQ_SLICE_PLATFORM');
  });

  it('arm64: no promise of grants after a build; the arm64 truth first, then how to load the addon', () => {
    const arm64: ExplainPlatform = { arch: 'arm64', kernelVersion: [7, 2, 13] };
    const r = addonRemedy('No native build was found for platform=linux arch=arm64 libc=musl', arm64);
    expect(r).to.match(/^no remedy brings grants: arm64 kernels do not offer the slice extension yet \(/);
    expect(r).to.contain('grants need an x86-64 kernel');
    expect(r).to.match(
      /For cpu\(\) from the kernel's rseq area, build the addon from source with `npx rseq-slice build`/,
    );
  });

  it('a simulated linux-arm64 (RSEQ_SLICE_PLATFORM): the addon-not-loaded reason, the arm64 remedy', () => {
    const r = fixtureJson<Outcome>('environment_probe.ts', [DIST], { env: { RSEQ_SLICE_PLATFORM: 'linux-arm64' } });
    const slice = r.detection.sliceExtension;
    expect(r.detection.platform).to.include({ os: 'linux', arch: 'arm64' });
    expect(r.detection.addon.loaded).to.equal(false);
    expect(slice.reason).to.match(/^the native addon did not load \(no native binary for linux-arm64 can load/);
    expect(slice.remedy).to.match(/^no remedy brings grants: arm64 kernels do not offer the slice extension yet/);
    expect(slice.remedy).to.match(/, unset RSEQ_SLICE_PLATFORM$/);
    expect(r.backend).to.equal('simulator');
    expect(r.sections).to.equal(100);
  });
});

describe("explainThreadError: a native thread's thread_error in detect()'s words", () => {
  it("takes detect()'s reason and remedy for the errno detect() met, SET's row otherwise", () => {
    const d = detect().sliceExtension;
    if (d.errno !== undefined) {
      const errno = errnoNumber(d.errno) as number;
      expect(explainThreadError(errno, 'prctl(PR_RSEQ_SLICE_EXTENSION, SET)')).to.deep.equal({
        step: 'prctl(PR_RSEQ_SLICE_EXTENSION, SET)',
        errno: d.errno,
        reason: d.reason,
        ...(d.remedy === undefined ? {} : { remedy: d.remedy }),
      });
    }
    const other = d.errno === 'ENXIO' ? EPERM : ENXIO;
    expect(explainThreadError(other, 'prctl(PR_RSEQ_SLICE_EXTENSION, SET)')?.reason).to.equal(
      explainRefusal(other, { ...optimized, platform: X64_7 }).reason,
    );
    expect(explainThreadError(0, null)).to.equal(null);
    expect(explainThreadError(EPERM, 'rseq registration')).to.deep.equal({
      step: 'rseq registration',
      errno: 'EPERM',
      reason: 'registering rseq is forbidden, usually by a seccomp filter (EPERM)',
    });
    expect(explainThreadError(ENOSYS, 'rseq registration')?.reason).to.match(/no rseq system call/);
  });

  it('refuses what thread_error() cannot have answered, saying what it accepts', () => {
    expect(() => explainThreadError(-22, 'rseq registration')).to.throw(RangeError, /non-negative integer; got -22/);
    expect(() => explainThreadError(1.5, 'rseq registration')).to.throw(RangeError, /non-negative integer/);
    expect(() => explainThreadError('22' as unknown as number, null)).to.throw(TypeError, /a number; got string/);
    expect(() => explainThreadError(22, null)).to.throw(
      TypeError,
      /one of "rseq registration", "prctl\(PR_RSEQ_SLICE_EXTENSION, SET\)"; got null/,
    );
    expect(() => explainThreadError(22, 'prctl')).to.throw(TypeError, /got "prctl"/);
  });
});
