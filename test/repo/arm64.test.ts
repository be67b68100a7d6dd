/**
 * linux-arm64 on this x86-64 host: the section entry and exit (include/rseq_slice.h, the portable
 * path arm64 builds) cross-compiled with Debian's g++-aarch64-linux-gnu and run under
 * qemu-aarch64-static, and the package's linux-arm64 prebuild loaded by Debian's arm64 Node 18
 * under qemu-user (scripts/arm64-node.ts). qemu-user implements no rseq, so this shows the
 * binary loads and its N-API surface works on arm64; grants on arm64 are not shown (no arm64
 * kernel can give them as of 7.2, and detect() says that: the host kernel answers its prctl).
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { arm64Node } from '../../scripts/arm64-node';
import { readelfMissing } from '../support/elf_versions';
import { ROOT } from '../support/paths';
import { skipUnlessCi } from '../support/skip';
import { projectWithPackage, skipUnlessPacking } from '../support/packed_tarball';

const CROSS = 'aarch64-linux-gnu-g++';

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

describe('linux-arm64: cross-compiled, run under qemu-user', function () {
  this.timeout(300_000);

  it('the fast-path check built for arm64 passes under qemu-aarch64-static (portable path)', function () {
    if (!has(CROSS)) skipUnlessCi(this, `no ${CROSS} (Debian package g++-aarch64-linux-gnu)`);
    if (!has('qemu-aarch64-static')) skipUnlessCi(this, 'no qemu-aarch64-static (Debian package qemu-user-static)');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rseq-arm64-'));
    try {
      const exe = path.join(dir, 'fast-path-check');
      const sources = [
        path.join(ROOT, 'test', 'native', 'fast_path_check.cc'),
        path.join(ROOT, 'native', 'slice_syscalls.cc'),
      ];
      execFileSync(CROSS, ['-std=c++17', '-O2', '-Wall', '-Wextra', '-Werror', '-static', '-o', exe, ...sources]);
      const r = spawnSync('qemu-aarch64-static', [exe], { encoding: 'utf8' });
      expect(r.stdout, r.stdout).to.not.contain('FAIL');
      expect(r.status, `${r.stdout}${r.stderr}`).to.equal(0);
      expect(r.stdout).to.contain('path: portable');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('the packed linux-arm64 prebuild', () => {
    let project = '';
    let binary = '';
    before(function () {
      skipUnlessPacking(this);
      project = projectWithPackage('app-arm64');
      const dir = path.join(project, 'node_modules', 'rseq-slice', 'prebuilds', 'linux-arm64');
      if (!fs.existsSync(dir))
        skipUnlessCi(this, `the tarball has no prebuilds/linux-arm64 (npm pack had no ${CROSS}; scripts/prebuild)`);
      binary = path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.node')) ?? '');
    });

    it('is an AArch64 shared object', function () {
      const missing = readelfMissing();
      if (missing) skipUnlessCi(this, missing);
      expect(execFileSync('readelf', ['-h', binary], { encoding: 'utf8' })).to.match(/Machine:\s+AArch64/);
    });

    it("loads in Debian's arm64 Node 18 under qemu-user; detect() gives the arm64 reason, and a section runs", function () {
      const n = arm64Node(false);
      if (!n.ok) skipUnlessCi(this, `${n.reason} (.ci/run fetches it: node -r tsx/cjs scripts/arm64-node.ts --fetch)`);
      const code =
        "const r = require('rseq-slice'); const d = r.detect(); const h = r.open(); h.run(() => 1); " +
        'console.log(JSON.stringify({ arch: process.arch, napi: process.versions.napi, addon: d.addon, rseq: d.rseq, slice: d.sliceExtension, backend: h.backend, sections: h.stats.sections }))';
      const r = spawnSync(n.node[0] as string, [...n.node.slice(1), '-e', code], {
        cwd: project,
        encoding: 'utf8',
        timeout: 240_000,
      });
      expect(r.status, r.stderr).to.equal(0);
      const out = JSON.parse(r.stdout) as {
        arch: string;
        napi: string;
        addon: { loaded: boolean; btrl: boolean; path?: string; error?: string };
        rseq: { reason?: string };
        slice: { errno?: string; reason?: string; remedy?: string };
        backend: string;
        sections: number;
      };
      console.log(
        `      arm64 node: N-API ${out.napi}, addon ${JSON.stringify(out.addon)}, rseq: ${out.rseq.reason ?? 'registered'}`,
      );
      expect(out.arch).to.equal('arm64');
      expect(out.addon, out.addon.error).to.deep.include({ loaded: true, btrl: false });
      expect(out.addon.path).to.match(/\/prebuilds\/linux-arm64\/rseq-slice\.glibc\.node$/);
      expect(out.sections).to.equal(1);
      // The addon loaded and asked the kernel (the x86-64 host's, through qemu-user): whatever it
      // answered, on arm64 the reason is the architecture's, and the remedy no kernel rebuild.
      console.log(`      arm64 detect(): ${out.slice.errno ?? 'no errno'}: ${out.slice.reason ?? ''}`);
      expect(out.slice.reason).to.match(/^arm64 kernels do not offer the slice extension yet \(/);
      expect(out.slice.remedy).to.match(/grants need an x86-64 kernel/);
      expect(out.backend).to.equal('simulator');
    });
  });
});
