/**
 * The section entry and exit outside Node (include/rseq_slice.h, which the addon and consumer
 * addons run): the x86-64 btrl path and the portable path other architectures build, each compiled
 * with the addon's warning flags and run, from C++ and as C11.
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from '../support/paths';
import { skipBecause } from '../support/skip';

const SOURCE = path.join(ROOT, 'test', 'native', 'fast_path_check.cc');
const SOURCES = [SOURCE, path.join(ROOT, 'native', 'slice_syscalls.cc')];
/** The same checks through the public header, from C11 (include/rseq_slice.h). */
const C11_SOURCE = path.join(ROOT, 'test', 'native', 'rseq_slice_c11_check.c');

describe('native fast path, compiled standalone', () => {
  let dir = '';
  before(function () {
    if (process.platform !== 'linux') skipBecause(this, 'the fast path is Linux-only');
    if (spawnSync('g++', ['--version']).status !== 0) skipBecause(this, 'no g++ to compile the check');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rseq-fast-path-'));
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const variants: Array<[string, string[], string]> = [
    ['the btrl path (x86-64)', [], 'btrl'],
    ['the portable path (other architectures)', ['-DRSEQ_SLICE_PORTABLE_FAST_PATH'], 'portable'],
  ];
  for (const [name, defines, expected] of variants) {
    it(`${name}: clean, revoked and granted exits, no stray writes`, function () {
      if (expected === 'btrl' && process.arch !== 'x64')
        skipBecause(this, `btrl exists only on x86-64 (this is ${process.arch})`);
      const exe = path.join(dir, `check-${expected}`);
      execFileSync('g++', ['-std=c++17', '-O2', '-Wall', '-Wextra', '-Werror', ...defines, '-o', exe, ...SOURCES]);
      const r = spawnSync(exe, { encoding: 'utf8' });
      expect(r.stdout, r.stdout).to.not.contain('FAIL');
      expect(r.status, r.stdout).to.equal(0);
      expect(r.stdout).to.contain(`path: ${expected}`);
    });

    it(`${name}: the public header from C11, a NULL area a no-op, errno kept`, function () {
      if (expected === 'btrl' && process.arch !== 'x64')
        skipBecause(this, `btrl exists only on x86-64 (this is ${process.arch})`);
      if (spawnSync('gcc', ['--version']).status !== 0) skipBecause(this, 'no gcc to compile the C check');
      const exe = path.join(dir, `c11-check-${expected}`);
      execFileSync('gcc', [
        '-std=c11',
        '-O2',
        '-Wall',
        '-Wextra',
        '-Wpedantic',
        '-Werror',
        ...defines,
        '-o',
        exe,
        C11_SOURCE,
      ]);
      const r = spawnSync(exe, { encoding: 'utf8' });
      expect(r.stdout, r.stdout).to.not.contain('FAIL');
      expect(r.status, r.stdout).to.equal(0);
      expect(r.stdout).to.contain(`path: ${expected}`);
    });
  }
});
