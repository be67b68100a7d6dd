/** `rseq-slice exec`: the GLIBC_TUNABLES merge, PATH search, exit status and signals passed through. */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { addonState } from '../../lib/addon/addon';
import { execFailureStatus } from '../../lib/cli/commands/exec';
import { mergeTunable } from '../../lib/kernel/glibc_tunables';
import { execCheck, searchPath } from '../../lib/cli/replace_process';
import { DIST, ROOT } from '../support/paths';
import { skipBecause } from '../support/skip';

const CLI = path.join(DIST, 'cli', 'main.js');
// A file no one may execute (mode 0644: execve wants an x bit even from root).
const NOT_EXECUTABLE = path.join(os.tmpdir(), `rseq-slice-exec-test-${process.pid}`);
before(() => fs.writeFileSync(NOT_EXECUTABLE, 'data\n', { mode: 0o644 }));
after(() => fs.rmSync(NOT_EXECUTABLE, { force: true }));

function cli(args: string[], env: NodeJS.ProcessEnv = {}, input?: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    input,
    timeout: 30_000,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, pid: r.pid };
}

describe('mergeTunable (GLIBC_TUNABLES)', () => {
  const cases: Array<[string | undefined, string, string[]]> = [
    [undefined, 'glibc.pthread.rseq=0', []],
    ['', 'glibc.pthread.rseq=0', []],
    ['glibc.malloc.check=3', 'glibc.malloc.check=3:glibc.pthread.rseq=0', []],
    ['glibc.malloc.check=3:glibc.mem.tagging=1', 'glibc.malloc.check=3:glibc.mem.tagging=1:glibc.pthread.rseq=0', []],
    ['glibc.pthread.rseq=1:glibc.malloc.check=3', 'glibc.malloc.check=3:glibc.pthread.rseq=0', ['1']],
    ['glibc.pthread.rseq=0', 'glibc.pthread.rseq=0', []],
    ['glibc.pthread.rseq=1:a.b=2:glibc.pthread.rseq=', 'a.b=2:glibc.pthread.rseq=0', ['1', '']],
    ['::a.b=2:', 'a.b=2:glibc.pthread.rseq=0', []],
    [
      'glibc.pthread.rseq.x=1:xglibc.pthread.rseq=1',
      'glibc.pthread.rseq.x=1:xglibc.pthread.rseq=1:glibc.pthread.rseq=0',
      [],
    ],
    ['not-a-tunable', 'not-a-tunable:glibc.pthread.rseq=0', []],
  ];
  for (const [current, value, replaced] of cases) {
    it(`${JSON.stringify(current)} → ${JSON.stringify(value)}${replaced.length ? `, replacing ${JSON.stringify(replaced)}` : ''}`, () => {
      expect(mergeTunable(current, 'glibc.pthread.rseq', '0')).to.deep.equal({ value, replaced });
    });
  }

  it('rejects a name or value glibc could not parse back', () => {
    expect(() => mergeTunable('', 'a:b', '0')).to.throw(TypeError, /tunable name is dotted words/);
    expect(() => mergeTunable('', 'a.b', '0:1')).to.throw(TypeError, /cannot contain ':' or '='/);
  });
});

describe('searchPath (what execvp would run)', () => {
  let dir = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rseq-slice-path-'));
    fs.writeFileSync(path.join(dir, 'runnable'), '#!/bin/sh\n', { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'plain'), 'data\n', { mode: 0o644 });
    fs.mkdirSync(path.join(dir, 'adir'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('finds an executable file in PATH, skipping directories of the same name', () => {
    fs.mkdirSync(path.join(dir, 'first'));
    fs.mkdirSync(path.join(dir, 'first', 'runnable'));
    expect(searchPath('runnable', `${dir}/first:/nonexistent:${dir}`)).to.deep.equal({
      file: path.join(dir, 'runnable'),
    });
  });

  it('ENOENT when nothing of that name exists', () => {
    expect(searchPath('no-such-command-zz', dir)).to.deep.equal({ errno: 'ENOENT' });
  });

  it('takes a name with a slash as it is, and an empty PATH entry as the current directory', () => {
    expect(searchPath('./x/y', '/bin')).to.deep.equal({ file: './x/y' });
    expect(searchPath('runnable', '')).to.deep.equal({ errno: 'ENOENT' });
  });

  it('EACCES when only a non-executable file or a directory has the name (even for root)', () => {
    expect(searchPath('plain', dir)).to.deep.equal({ errno: 'EACCES' });
    expect(searchPath('adir', dir)).to.deep.equal({ errno: 'EACCES' });
  });
});

describe('execCheck (what execve would answer, asked before process.execve)', () => {
  let dir = '';
  const file = (name: string, text: string, mode: number): string => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text, { mode });
    return f;
  };
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rseq-slice-execve-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs an ELF executable and a script whose interpreter exists', () => {
    expect(execCheck(process.execPath)).to.deep.equal({});
    expect(execCheck(file('script', '#! /bin/sh -e\necho\n', 0o755))).to.deep.equal({});
  });

  it('ENOENT for a missing file or #! interpreter, ENOTDIR through a file, EACCES for a directory or no x bit', () => {
    expect(execCheck(path.join(dir, 'missing'))).to.deep.equal({ errno: 'ENOENT' });
    expect(execCheck(file('orphan', '#!/no/such/interpreter\n', 0o755))).to.deep.equal({ errno: 'ENOENT' });
    expect(execCheck(path.join(NOT_EXECUTABLE, 'x'))).to.deep.equal({ errno: 'ENOTDIR' });
    expect(execCheck(dir)).to.deep.equal({ errno: 'EACCES' });
    expect(execCheck(NOT_EXECUTABLE)).to.deep.equal({ errno: 'EACCES' });
    expect(execCheck(file('dir-interpreter', `#!${dir}\n`, 0o755))).to.deep.equal({ errno: 'EACCES' });
  });

  it('an executable with neither an ELF header nor a #! interpreter goes to /bin/sh, as execvp does after ENOEXEC', () => {
    expect(execCheck(file('bare', 'echo hi\n', 0o755))).to.deep.equal({ shell: true });
    expect(execCheck(file('empty-line', '#!\necho hi\n', 0o755))).to.deep.equal({ shell: true });
  });
});

describe('rseq-slice exec', () => {
  it('exit status 126 for a command that cannot run, 127 for one that is not found (as shells)', () => {
    expect(execFailureStatus('ENOENT')).to.equal(127);
    expect(execFailureStatus('EACCES')).to.equal(126);
    expect(execFailureStatus('ENOEXEC')).to.equal(126);
  });

  // The same behaviour whichever way the process is replaced or run: the addon's execvp, and
  // without the addon the child fallback (or Node's own process.execve where it exists).
  for (const how of ['addon execvp', 'without the addon'] as const) {
    const env: NodeJS.ProcessEnv = how === 'addon execvp' ? {} : { RSEQ_SLICE_DISABLE_ADDON: '1' };
    describe(how, () => {
      before(function () {
        if (how === 'addon execvp' && !addonState().addon)
          skipBecause(this, `the native addon did not load: ${addonState().error}`);
      });

      it("passes the command's exit status through (sh -c 'exit 7' → 7)", () => {
        const r = cli(['exec', '--', 'sh', '-c', 'exit 7'], env);
        expect(r.stderr).to.equal('');
        expect(r.status).to.equal(7);
      });

      it('dies of the signal that ended the command (SIGTERM)', () => {
        const r = cli(['exec', '--', 'sh', '-c', 'kill -TERM $$; sleep 5'], env);
        expect(r.signal).to.equal('SIGTERM');
      });

      it('merges glibc.pthread.rseq=0 into GLIBC_TUNABLES, keeps the others, and says so in one line when it replaces a value', () => {
        const r = cli(['exec', 'sh', '-c', 'printf %s "$GLIBC_TUNABLES"'], {
          ...env,
          GLIBC_TUNABLES: 'glibc.pthread.rseq=1:glibc.malloc.check=3',
        });
        expect(r.status).to.equal(0);
        expect(r.stdout).to.equal('glibc.malloc.check=3:glibc.pthread.rseq=0');
        expect(r.stderr).to.equal(
          'rseq-slice exec: GLIBC_TUNABLES had glibc.pthread.rseq=1; replaced with glibc.pthread.rseq=0\n',
        );
        const quiet = cli(['exec', 'sh', '-c', 'printf %s "$GLIBC_TUNABLES"'], { ...env, GLIBC_TUNABLES: undefined });
        expect(quiet.stdout).to.equal('glibc.pthread.rseq=0');
        expect(quiet.stderr).to.equal('');
      });

      it('gives the command stdin and stdout, and its arguments after the first operand untouched (--help too)', () => {
        expect(cli(['exec', 'cat'], env, 'through stdin\n').stdout).to.equal('through stdin\n');
        expect(cli(['exec', 'printf', '%s,', '--help', '-h', '--'], env).stdout).to.equal('--help,-h,--,');
      });

      it('runs an executable without a #! line with /bin/sh, as execvp does; 127 ENOENT when a #! interpreter is missing', () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rseq-slice-exec-scripts-'));
        try {
          const bare = path.join(dir, 'bare');
          fs.writeFileSync(bare, 'printf "%s," "$@"\n', { mode: 0o755 });
          const r = cli(['exec', '--', bare, 'a b', '-c'], env);
          expect(r.stderr).to.equal('');
          expect(r.stdout).to.equal('a b,-c,');
          expect(r.status).to.equal(0);
          const orphan = path.join(dir, 'orphan');
          fs.writeFileSync(orphan, '#!/no/such/interpreter\n', { mode: 0o755 });
          const missing = cli(['exec', '--', orphan], env);
          expect(missing.stderr).to.match(/^rseq-slice exec: cannot run ".*orphan": ENOENT /);
          expect(missing.status).to.equal(127);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });

      it('127 with ENOENT named for a command that does not exist, 126 with EACCES for one that is not executable', () => {
        const missing = cli(['exec', 'no-such-command-zz', 'arg'], env);
        expect(missing.status).to.equal(127);
        expect(missing.stderr).to.equal(
          'rseq-slice exec: cannot run "no-such-command-zz": ENOENT (command not found)\n',
        );
        const plain = cli(['exec', '--', NOT_EXECUTABLE], env);
        expect(plain.status).to.equal(126);
        expect(plain.stderr).to.equal(
          `rseq-slice exec: cannot run ${JSON.stringify(NOT_EXECUTABLE)}: EACCES (permission denied)\n`,
        );
      });
    });
  }

  it('replaces the CLI process: the command has its pid and default signal dispositions (SIGPIPE not ignored)', function () {
    if (!addonState().addon) skipBecause(this, `the native addon did not load: ${addonState().error}`);
    const r = cli(['exec', 'sh', '-c', 'echo $$; grep -E "^SigIgn" /proc/$$/status']);
    expect(r.status).to.equal(0);
    const [pid, ign] = r.stdout.trim().split('\n');
    expect(Number(pid)).to.equal(r.pid);
    expect(ign).to.match(/^SigIgn:\s+0+$/);
  });

  it('forwards SIGTERM to the command when it runs as a child (no addon) and exits with its status', async function () {
    const child = spawn(
      process.execPath,
      [CLI, 'exec', 'sh', '-c', 'trap "exit 42" TERM; echo ready; while :; do sleep 0.05; done'],
      {
        cwd: ROOT,
        env: { ...process.env, RSEQ_SLICE_DISABLE_ADDON: '1' },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGTERM');
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.once('exit', (c, s) => resolve([c, s])),
    );
    expect([code, signal]).to.deep.equal([42, null]);
  });

  it('no command, or an option before it, is bad usage: exit 2 with the help', () => {
    for (const args of [['exec'], ['exec', '--'], ['exec', '--bogus', 'sh']]) {
      const r = cli(args);
      expect(r.status, args.join(' ')).to.equal(2);
      expect(r.stderr).to.contain('Usage: rseq-slice exec [--] COMMAND [ARGS...]');
    }
    const h = cli(['exec', '--help']);
    expect(h.status).to.equal(0);
    expect(h.stdout).to.contain('runs as a child instead');
  });
});

describe("the addon's execvp boundary", () => {
  it('names the argument of the wrong type, and returns -errno (keeping SIGPIPE ignored) when the exec fails', function () {
    const { addon, error } = addonState();
    if (!addon) skipBecause(this, `the native addon did not load: ${error}`);
    const call = (...a: unknown[]) => (addon.execvp as unknown as (...x: unknown[]) => number)(...a);
    expect(() => call(1, [], [])).to.throw(TypeError, /execvp: file must be a string/);
    expect(() => call('sh', 'sh', [])).to.throw(TypeError, /execvp: argv must be an array of strings/);
    expect(() => call('sh', ['sh', 2], [])).to.throw(TypeError, /execvp: argv\[1\] must be a string/);
    expect(() => call('sh', ['sh'], [null])).to.throw(TypeError, /execvp: env\[0\] must be a string/);
    expect(() => call('sh', ['sh'])).to.throw(TypeError, /execvp: env must be an array of strings/);
    expect(() => call('sh', ['a\0b'], [])).to.throw(TypeError, /execvp: argv\[0\] contains a NUL byte/);
    const ignoredBefore = /^SigIgn:\s+(\S+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
    expect(call('/nonexistent-dir-zz/cmd', ['cmd'], ['A=1'])).to.equal(-(os.constants.errno.ENOENT as number));
    expect(call(NOT_EXECUTABLE, ['x'], [])).to.equal(-(os.constants.errno.EACCES as number));
    const ignoredAfter = /^SigIgn:\s+(\S+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
    expect(ignoredAfter).to.equal(ignoredBefore);
    expect(BigInt(`0x${ignoredAfter}`) & (1n << 12n), 'SIGPIPE (13) still ignored by this process').to.not.equal(0n);
  });
});
