/**
 * node under Debian trixie's glibc 2.41 on this machine (scripts/other-glibc.ts; .ci/run fetches
 * the packages first). glibc 2.41 registers its own rseq area of AT_RSEQ_FEATURE_SIZE bytes: on a
 * kernel without the slice extension (this host, 6.x) that is a legacy-size area, and detect()
 * must say the kernel predates the extension (EINVAL) — the guest's glibc-2.41 variant covers the
 * optimized area on a kernel that has it.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { detect } from '../../lib';
import { glibcRuntime } from '../../scripts/other-glibc';
import type { GlibcAnswer } from '../fixtures/glibc_answer_child';
import { allowedCpus } from '../support/cpus';
import { DIST, FIXTURES, ROOT } from '../support/paths';
import { skipBecause, skipUnlessCi } from '../support/skip';
import { TSX_EXEC_ARGV } from '../support/child_node';

describe("node under glibc 2.41 (Debian trixie's loader) on this kernel", () => {
  it("detect(): libc's legacy-size area and the EINVAL reason; cpu() from libc's area on each pinned CPU", function () {
    if (process.platform !== 'linux') skipBecause(this, `glibc runs only on Linux (this is ${process.platform})`);
    const here = detect();
    if (here.sliceExtension.errno !== 'EINVAL') {
      skipBecause(
        this,
        `this kernel is not one that predates the slice extension (prctl answers ${here.sliceExtension.errno ?? 'success'}); the guest's glibc-2.41 variant covers kernels that have it`,
      );
    }
    if (here.rseq.kernelFeatureSize === null)
      skipBecause(this, 'this kernel has no AT_RSEQ_FEATURE_SIZE (before 6.3): the legacy-size check needs it');
    const rt = glibcRuntime('trixie', false);
    if (!rt.ok)
      skipUnlessCi(this, `${rt.reason} (fetch it with: node -r tsx/cjs scripts/other-glibc.ts trixie --fetch)`);
    const taskset = fs.existsSync('/usr/bin/taskset');
    for (const cpu of taskset ? allowedCpus().slice(0, 4) : [allowedCpus()[0] ?? 0]) {
      const child = [...TSX_EXEC_ARGV, path.join(FIXTURES, 'glibc_answer_child.ts'), DIST];
      const argv = [...(taskset ? ['taskset', '-c', String(cpu)] : []), ...rt.node, ...child];
      const env = { ...process.env };
      delete env.GLIBC_TUNABLES;
      delete env.RSEQ_SLICE_BACKEND;
      const r = spawnSync(argv[0] as string, argv.slice(1), { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).to.equal(0);
      const a = JSON.parse(r.stdout.trim().split('\n').pop() as string) as GlibcAnswer;
      expect(a.glibc).to.equal('2.41');
      const d = a.detection;
      expect(d.platform.libc).to.equal('glibc 2.41');
      expect(d.rseq.owner).to.equal('libc');
      // glibc 2.41 registers AT_RSEQ_FEATURE_SIZE bytes (28 on 6.x kernels): a legacy-size area.
      expect(d.rseq.kernelFeatureSize).to.be.below(33);
      expect(d.rseq.mode).to.equal('legacy');
      expect(d.rseq.length).to.be.at.most(32);
      expect(d.rseq.libcRseqSize).to.equal(d.rseq.length);
      expect(d.sliceExtension.available).to.equal(false);
      expect(d.sliceExtension.errno).to.equal('EINVAL');
      expect(d.sliceExtension.reason).to.match(/predates the slice extension/);
      expect(d.backend).to.equal('simulator');
      expect(a.backend).to.equal('simulator');
      if (taskset) expect(a.cpu, `pinned to CPU ${cpu}`).to.equal(cpu);
    }
  });
});
