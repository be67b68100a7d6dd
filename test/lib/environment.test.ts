/**
 * Environments the package does not control, simulated in child processes: no addon, another
 * platform, a malformed override. The package must load, detect() must say what is wrong, open()
 * must fall back, and nothing may crash.
 */
import { expect } from 'chai';
import type { Outcome } from '../fixtures/environment_probe';
import { DIST } from '../support/paths';
import { fixtureJson, runNode } from '../support/child_node';

function probe(env: NodeJS.ProcessEnv): Outcome {
  return fixtureJson<Outcome>('environment_probe.ts', [DIST], { env });
}

describe('environments: the addon missing', () => {
  it('loads, reports addon.loaded false with the error, and runs on the simulator', () => {
    const r = probe({ RSEQ_SLICE_DISABLE_ADDON: '1' });
    expect(r.detection.addon).to.deep.equal({ loaded: false, error: 'disabled by RSEQ_SLICE_DISABLE_ADDON=1' });
    expect(r.detection.rseq.registered).to.equal(false);
    expect(r.detection.sliceExtension.reason).to.contain('the native addon did not load');
    expect(r.detection.backend).to.equal('simulator');
    expect(r.backend).to.equal('simulator');
    expect(r.fallbackReason).to.contain('the native addon did not load');
    expect(r.sections).to.equal(100);
    expect(r.nativeError).to.deep.equal({ name: 'RseqError', code: 'ELIBACC', syscall: 'dlopen' });
  });
});

describe('environments: another platform (RSEQ_SLICE_PLATFORM)', () => {
  it('darwin-arm64: loads, says rseq exists only on Linux, simulator works', () => {
    const r = probe({ RSEQ_SLICE_PLATFORM: 'darwin-arm64' });
    expect(r.detection.platform).to.include({ os: 'darwin', arch: 'arm64' });
    expect(r.detection.addon.loaded).to.equal(false);
    expect(r.detection.addon.error).to.contain('rseq exists only on Linux');
    expect(r.detection.sliceExtension.reason).to.equal('rseq exists only on Linux');
    expect(r.backend).to.equal('simulator');
    expect(r.sections).to.equal(100);
    expect(r.nativeError.code).to.equal('ELIBACC');
  });

  it('another Linux architecture (riscv64, no binary for it): says no native binary loads, simulator works', () => {
    const r = probe({ RSEQ_SLICE_PLATFORM: 'linux-riscv64' });
    expect(r.detection.platform).to.include({ os: 'linux', arch: 'riscv64' });
    expect(r.detection.addon.error).to.contain('no native binary for linux-riscv64 can load');
    expect(r.backend).to.equal('simulator');
  });

  it('a malformed value is reported, not ignored, and nothing throws from detect()', () => {
    const r = probe({ RSEQ_SLICE_PLATFORM: 'not a platform' });
    expect(r.detection.addon.loaded).to.equal(false);
    expect(r.detection.addon.error).to.contain('env RSEQ_SLICE_PLATFORM must look like os-arch');
    expect(r.backend).to.equal('simulator');
  });

  it('the CLI reports it too and exits 0 (1 with --require)', () => {
    const ok = runNode(`process.argv = ['node', 'rseq-slice', 'detect']; require('./dist/cli/main').main(['detect'])`, {
      env: { RSEQ_SLICE_PLATFORM: 'darwin-x64' },
    });
    expect(ok.status).to.equal(0);
    expect(ok.stdout).to.contain('rseq exists only on Linux');
    const req = runNode(`process.exitCode = require('./dist/cli/main').main(['detect', '--require'])`, {
      env: { RSEQ_SLICE_PLATFORM: 'darwin-x64' },
    });
    expect(req.status).to.equal(1);
  });
});
