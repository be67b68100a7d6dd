/**
 * scripts/bench-vm's own argument handling, without booting (--dry-run): where the guest writes
 * `--report DIR` so that the report arrives where asked (the guest's /tmp is a scratch dir of
 * its own; only the project tree is shared read-write), and the refusals before a boot.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from '../support/paths';

const BENCH_VM = path.join(ROOT, 'scripts', 'bench-vm');

function dryRun(args: string[], cwd = ROOT): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(BENCH_VM, ['--dry-run', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, RSEQ_SLICE_KERNEL: '/nonexistent/bzImage' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The guest command's --report value, from the dry run's `guest:` line. */
function guestReport(stdout: string): string | undefined {
  const guest = /^guest: (.*)$/m.exec(stdout)?.[1] ?? '';
  return /--report (\S+)/.exec(guest)?.[1];
}

describe('bench:vm --report (scripts/bench-vm --dry-run)', () => {
  const root = fs.realpathSync(ROOT);
  let outside: string;
  beforeEach(() => {
    outside = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'rseq-bench-vm-')));
  });
  afterEach(() => fs.rmSync(outside, { recursive: true, force: true }));

  it('a directory outside the project (the guest cannot write it): staged in the project, copied after', () => {
    const dir = path.join(outside, 'x');
    const r = dryRun(['--report', dir, '--scenario', 'quick']);
    expect(r.status, r.stderr).to.equal(0);
    const staged = guestReport(r.stdout);
    expect(staged).to.match(new RegExp(`^${root}/\\.vm-scratch/bench-report\\.`));
    expect(r.stdout).to.contain(`report: ${dir} (the guest writes ${staged}, copied here after it exits)`);
    expect(r.stdout).to.match(
      /^guest: node dist\/cli\/main\.js bench --extension-nsec 50000 --scenario quick --report /m,
    );
  });

  it('--report=DIR, relative: resolved against the caller, then staged the same way', () => {
    const r = dryRun(['--report=rel'], outside);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.contain(`report: ${path.join(outside, 'rel')} (the guest writes `);
    expect(fs.statSync(path.join(outside, 'rel')).isDirectory()).to.equal(true);
  });

  it('a directory inside the project: the guest writes it in place', () => {
    const dir = path.join(root, '.vm-scratch', `test-report-${process.pid}`);
    try {
      const r = dryRun(['--report', dir]);
      expect(r.status, r.stderr).to.equal(0);
      expect(guestReport(r.stdout)).to.equal(dir);
      expect(r.stdout).to.contain(`report: ${dir}\n`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refused before a boot: a directory this host cannot write, or no directory at all', () => {
    const file = path.join(outside, 'file');
    fs.writeFileSync(file, '');
    const r = dryRun(['--report', path.join(file, 'sub')]);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain(`bench-vm: --report ${path.join(file, 'sub')}: not a writable directory on this host`);
    const missing = dryRun(['--report']);
    expect(missing.status).to.equal(2);
    expect(missing.stderr).to.contain('bench-vm: --report needs a directory');
  });

  it('without --report: the arguments pass through unchanged', () => {
    const r = dryRun(['--rounds', '2']);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.not.contain('report:');
    expect(r.stdout).to.match(/^guest: node dist\/cli\/main\.js bench --extension-nsec 50000 --rounds 2$/m);
  });
});
