/** The rseq-slice CLI: human and JSON output, exit codes. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { detect } from '../lib';
import { COMMANDS } from '../lib/cli';
import { DIST, ROOT } from './helpers';

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(DIST, 'cli.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: process.env,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

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
    expect(v.stdout.trim()).to.equal((require('../package.json') as { version: string }).version);
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
});
