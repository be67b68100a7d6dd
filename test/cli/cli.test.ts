/** The rseq-slice CLI: human and JSON output, exit codes. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { detect } from '../../lib';
import { COMMANDS, main } from '../../lib/cli/main';
import type { CliError } from '../../lib/cli/commands/command';
import { runNodeGyp } from '../../lib/cli/commands/build';
import { statsCommand } from '../../lib/cli/commands/stats';
import { DIST, ROOT } from '../support/paths';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Run {
  return cliWith({}, ...args);
}

/** The CLI with `env` added to this process's environment. */
function cliWith(env: NodeJS.ProcessEnv, ...args: string[]): Run {
  const r = spawnSync(process.execPath, [path.join(DIST, 'cli', 'main.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The `error` member of a --json failure's stdout (one line when it stands alone). */
function jsonError(r: Run): CliError {
  const parsed = JSON.parse(r.stdout) as { error?: CliError };
  expect(parsed.error, r.stdout).to.be.an('object');
  const e = parsed.error as CliError;
  expect(e.code).to.be.a('string').and.not.equal('');
  expect(e.message).to.be.a('string').and.not.equal('');
  return e;
}

/** An environment in which the addon does not load, so the kernel cannot grant on any host. */
const NO_ADDON = { RSEQ_SLICE_DISABLE_ADDON: '1' };

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('rseq-slice CLI', () => {
  it('detect prints a readable report with the verdict, the reason and the remedy', () => {
    const r = cli('detect');
    expect(r.status).to.equal(0);
    const d = detect();
    expect(r.stdout).to.match(/^rseq-slice \d+\.\d+\.\d+/);
    expect(r.stdout).to.contain(`kernel ${d.platform.kernel}`);
    expect(r.stdout).to.contain(
      d.sliceExtension.available ? 'slice extension AVAILABLE' : 'slice extension NOT AVAILABLE',
    );
    if (d.sliceExtension.reason) expect(r.stdout).to.contain(`why not       ${d.sliceExtension.reason}`);
    if (d.sliceExtension.remedy) expect(r.stdout).to.contain(`what to do    ${d.sliceExtension.remedy}`);
    expect(r.stdout).to.contain(`backend         ${d.backend}`);
  });

  it('no command means detect', () => {
    expect(cli().stdout).to.equal(cli('detect').stdout);
  });

  it('--json prints detect() as JSON', () => {
    const r = cli('detect', '--json');
    expect(r.status).to.equal(0);
    const parsed = JSON.parse(r.stdout) as ReturnType<typeof detect>;
    expect(parsed).to.deep.equal(JSON.parse(JSON.stringify(detect())));
  });

  it('--require exits 1 with the reason when the kernel cannot grant, 0 when it can', () => {
    const r = cli('detect', '--require');
    const d = detect();
    if (d.sliceExtension.available) {
      expect(r.status).to.equal(0);
    } else {
      expect(r.status).to.equal(1);
      expect(r.stderr).to.contain(`cannot grant slice extensions here: ${d.sliceExtension.reason}`);
    }
  });

  it('--help and --version exit 0', () => {
    const h = cli('--help');
    expect(h.status).to.equal(0);
    expect(h.stdout).to.contain('Usage: rseq-slice detect [--json] [--require]');
    const v = cli('--version');
    expect(v.status).to.equal(0);
    expect(v.stdout.trim()).to.equal((require('../../package.json') as { version: string }).version);
  });

  it('--help lists every command with its usage line and its one-line summary', () => {
    const h = cli('--help');
    expect(h.status).to.equal(0);
    expect(COMMANDS.map((c) => c.name)).to.include.members([
      'detect',
      'bench',
      'check',
      'stats',
      'exec',
      'build',
      'help',
    ]);
    for (const c of COMMANDS) {
      expect(c.summary, c.name)
        .to.match(/^\S.*\S$/)
        .and.not.contain('\n');
      expect(h.stdout).to.contain(`rseq-slice ${c.synopsis}\n`);
      expect(h.stdout).to.match(new RegExp(`^  ${c.name} +${escapeRegExp(c.summary)}$`, 'm'));
    }
    expect(h.stdout).to.contain('rseq-slice help [COMMAND]');
  });

  it("help prints the top-level help; help COMMAND prints that command's help, as COMMAND --help does", () => {
    const top = cli('help');
    expect(top.status).to.equal(0);
    expect(top.stdout).to.equal(cli('--help').stdout);
    for (const c of COMMANDS) {
      const h = cli('help', c.name);
      expect(h.status, c.name).to.equal(0);
      expect(h.stdout, c.name).to.equal(`${c.help}\n`);
      expect(h.stdout, c.name).to.equal(cli(c.name, '--help').stdout);
    }
  });

  it('help with an unknown command, an option or two commands exits 2 and names the commands', () => {
    const r = cli('help', 'nosuch');
    expect(r.status).to.equal(2);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.contain(`unknown command "nosuch"; the commands are ${COMMANDS.map((c) => c.name).join(', ')}`);
    expect(cli('help', '--bogus').status).to.equal(2);
    expect(cli('help', 'detect', 'stats').status).to.equal(2);
  });

  it('unknown flags and commands print a message and exit 2', () => {
    const f = cli('detect', '--bogus');
    expect(f.status).to.equal(2);
    expect(f.stderr).to.contain("Unknown option '--bogus'");
    expect(f.stderr).to.contain('Usage:');
    const c = cli('launch');
    expect(c.status).to.equal(2);
    expect(c.stderr).to.contain('unknown command "launch"');
    const v = cli('detect', '--json=yes');
    expect(v.status).to.equal(2);
  });

  describe('--json on failure: {"error": {command, code, message, remedy?}} on stdout, same exit status', () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rseq-cli-json-'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('stats: unreadable counters (an empty directory for debugfs): ENOENT, exit 1 as without --json', () => {
      const env = { RSEQ_SLICE_DEBUGFS_RSEQ: dir };
      const human = cliWith(env, 'stats');
      expect(human.status).to.equal(1);
      expect(human.stdout).to.equal('');
      const r = cliWith(env, 'stats', '--json');
      expect(r.status).to.equal(human.status);
      expect(r.stdout.trim().split('\n')).to.have.lengthOf(1);
      const e = jsonError(r);
      expect(e).to.include({ command: 'stats', code: 'ENOENT' });
      expect(e.remedy).to.contain('CONFIG_RSEQ_STATS');
      // The human message is unchanged, on stderr, and says the same.
      expect(r.stderr).to.equal(human.stderr);
      expect(r.stderr.trim()).to.equal(`rseq-slice stats: ${e.message}`);
    });

    it('stats: a malformed stats file: code malformed, exit 1; --watch fails the same way', () => {
      const bad = path.join(dir, 'malformed');
      fs.mkdirSync(bad, { recursive: true });
      fs.writeFileSync(path.join(bad, 'stats'), 'nothing the parser knows\n');
      const env = { RSEQ_SLICE_DEBUGFS_RSEQ: bad };
      for (const args of [
        ['stats', '--json'],
        ['stats', '--json', '--watch', '0.1', '--count', '1'],
      ]) {
        const r = cliWith(env, ...args);
        expect(r.status, args.join(' ')).to.equal(1);
        expect(jsonError(r)).to.include({ command: 'stats', code: 'malformed' });
      }
    });

    it("stats on this host's debugfs: a non-zero exit comes with an error, a zero one with the counters", () => {
      const human = cliWith({ RSEQ_SLICE_DEBUGFS_RSEQ: '' }, 'stats');
      const r = cliWith({ RSEQ_SLICE_DEBUGFS_RSEQ: '' }, 'stats', '--json');
      expect(r.status).to.equal(human.status);
      const parsed = JSON.parse(r.stdout) as Record<string, unknown>;
      if (r.status === 0) expect(parsed).to.have.keys('counters', 'extensionNsec');
      else expect(jsonError(r).code).to.match(/^(E[A-Z]+|malformed)$/);
    });

    it('bad usage with --json: code usage, exit 2, for every command that takes --json', () => {
      const cases: Array<[string, string[]]> = [
        ['detect', ['detect', '--json', '--bogus']],
        ['detect', ['--json', '--bogus']],
        ['detect', ['detect', '--json=yes']],
        ['check', ['check', '--json', '--seconds', '0']],
        ['check', ['check', '--json', '--nope']],
        ['stats', ['stats', '--json', '--watch', '0']],
        ['stats', ['stats', '--json', '--count', '2']],
        ['bench', ['bench', '--json', '--rounds', '0']],
        ['bench', ['bench', '--json', 'extra']],
        ['rseq-slice', ['nosuch', '--json']],
      ];
      for (const [command, args] of cases) {
        const r = cli(...args);
        expect(r.status, args.join(' ')).to.equal(2);
        expect(jsonError(r), args.join(' ')).to.deep.include({ command, code: 'usage' });
        expect(r.stderr, args.join(' ')).to.contain('rseq-slice');
        // Without --json the same mistake leaves stdout empty.
        const plain = cli(...args.filter((a) => !a.startsWith('--json')));
        if (!args.includes('--json=yes')) expect(plain.stdout, args.join(' ')).to.equal('');
      }
      // A command without --json does not answer in JSON.
      expect(cli('build', '--json').stdout).to.equal('');
    });

    it('detect --json --require where the kernel cannot grant: the detection plus an error member, exit 1', () => {
      // No addon: cannot grant on any host.
      const r = cliWith(NO_ADDON, 'detect', '--json', '--require');
      expect(r.status).to.equal(1);
      const { error, ...detection } = JSON.parse(r.stdout) as ReturnType<typeof detect> & { error: CliError };
      expect(error).to.deep.equal({
        command: 'detect',
        code: 'ELIBACC',
        message: `the kernel cannot grant slice extensions here: ${detection.sliceExtension.reason}`,
        remedy: 'unset RSEQ_SLICE_DISABLE_ADDON',
      });
      expect(detection.sliceExtension.available).to.equal(false);
      expect(JSON.parse(cliWith(NO_ADDON, 'detect', '--json').stdout)).to.deep.equal(detection);
      expect(r.stderr).to.contain('cannot grant slice extensions here');
    });

    it('detect --json --require on this host: an error member exactly when the exit is 1, code the errno', () => {
      const d = detect();
      const r = cli('detect', '--json', '--require');
      const parsed = JSON.parse(r.stdout) as { error?: CliError };
      if (d.sliceExtension.available) {
        expect(r.status).to.equal(0);
        expect(parsed).not.to.have.property('error');
      } else {
        expect(r.status).to.equal(1);
        expect(parsed.error?.code).to.equal(d.sliceExtension.errno ?? (d.addon.loaded ? 'unavailable' : 'ELIBACC'));
        expect(parsed.error?.remedy).to.equal(d.sliceExtension.remedy);
      }
    });

    it('bench and check where they cannot run (no addon): an error line, exit 1 as without --json', () => {
      const bench = cliWith(NO_ADDON, 'bench', '--json', '--scenario', 'quick');
      expect(bench.status)
        .to.equal(cliWith(NO_ADDON, 'bench', '--scenario', 'quick').status)
        .and.equal(1);
      expect(jsonError(bench)).to.include({ command: 'bench', code: 'ELIBACC' });
      const check = cliWith(NO_ADDON, 'check', '--json');
      expect(check.status).to.equal(1);
      expect(jsonError(check)).to.include({ command: 'check', code: 'unavailable' });
      expect(check.stderr).to.contain('rseq-slice check: cannot check this kernel');
    });

    it('an exception under --json: the error line on stdout, then the exception as ever (sync and async)', async () => {
      const saved = statsCommand.run;
      const out: string[] = [];
      const io = { out: (l: string) => out.push(l), err: () => undefined };
      const boom = (): Error => Object.assign(new Error('boom'), { code: 'EIO' });
      try {
        statsCommand.run = () => {
          throw boom();
        };
        expect(() => main(['stats', '--json'], io)).to.throw('boom');
        statsCommand.run = () => Promise.reject(boom());
        let rejected: unknown;
        await Promise.resolve(main(['stats', '--json'], io)).catch((e: unknown) => (rejected = e));
        expect(rejected).to.be.an('error').with.property('message', 'boom');
        // Without --json, nothing on stdout: the rejection as it is.
        let plain: unknown;
        await Promise.resolve(main(['stats'], io)).catch((e: unknown) => (plain = e));
        expect(plain).to.be.an('error').with.property('message', 'boom');
      } finally {
        statsCommand.run = saved;
      }
      const expected = JSON.stringify({ error: { command: 'stats', code: 'EIO', message: 'boom' } });
      expect(out).to.deep.equal([expected, expected]);
    });
  });

  describe('build: node-gyp progress on stderr as it comes', () => {
    let dir: string;
    let fakeNodeGyp: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rseq-cli-gyp-'));
      fakeNodeGyp = path.join(dir, 'node-gyp.js');
      // What node-gyp rebuild prints, in two bursts 600 ms apart; argv: rebuild STATUS. The last
      // line has no newline.
      fs.writeFileSync(
        fakeNodeGyp,
        `process.stderr.write('gyp info it worked if it ends with ok\\n');
process.stdout.write('  CXX(target) Release/obj.target/rseq_slice/native/addon.o\\n');
setTimeout(() => {
  process.stderr.write('native/addon.cc:1:1: warning: something\\ngyp info ok \\n');
  process.stdout.write('  COPY Release/rseq_slice.node');
  process.exit(Number(process.argv[3]));
}, 600);
`,
      );
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('passes each line but gyp info on before node-gyp ends, and keeps all the output', async () => {
      const t0 = Date.now();
      const lines: Array<{ line: string; at: number }> = [];
      const run = await runNodeGyp(fakeNodeGyp, ['rebuild', '0'], { cwd: dir, env: process.env }, (line) =>
        lines.push({ line, at: Date.now() - t0 }),
      );
      const ended = Date.now() - t0;
      expect(run).to.include({ status: 0, signal: null });
      expect(run).not.to.have.property('error');
      expect(lines.map((l) => l.line)).to.deep.equal([
        '  CXX(target) Release/obj.target/rseq_slice/native/addon.o',
        'native/addon.cc:1:1: warning: something',
        '  COPY Release/rseq_slice.node',
      ]);
      // The first line arrived while node-gyp was still running, not with the rest at the end.
      expect((lines[0] as { at: number }).at).to.be.below(ended - 400);
      expect(run.output).to.contain('gyp info it worked').and.contain('gyp info ok').and.contain('COPY');
    });

    it("a failed build: its status, and the output for the failure message's tail", async () => {
      const run = await runNodeGyp(fakeNodeGyp, ['rebuild', '3'], { cwd: dir, env: process.env }, () => undefined);
      expect(run).to.include({ status: 3, signal: null });
      expect(run.output).to.contain('warning: something');
    });
  });
});
