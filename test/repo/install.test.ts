/**
 * An install never compiles and never warns: the packed tarball installed into a fresh project by
 * `npm install` and by `npm ci` (from a lockfile made by npm 10 and by npm 11), with npm 10, npm 11
 * as bundled with this node and the newest npm 11 (npm 12 needs Node 22), with install scripts on,
 * allowed, blocked and strict, with a C++ toolchain and without one (a PATH of node and sh only),
 * and with a prebuilt binary that fits and one that does not (LIBC=musl: node-gyp-build then
 * looks for a musl build). The package has no install script and no binding.gyp at its root (it is
 * in native/), so npm neither runs nor invents one. Every cell must exit 0, print no install-script
 * warning or node-gyp output, compile nothing and load: the prebuilt binary where one fits (which
 * file detect() names), else the simulator with detect() saying how to build.
 */
import { expect } from 'chai';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../support/paths';
import { skipBecause } from '../support/skip';
import { freshProject, packedTarball, skipUnlessPacking } from '../support/packed_tarball';

/** npm 11 as bundled with this node. */
const NPM11 = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');

interface Detected {
  addon: { loaded: boolean; path?: string; error?: string };
  sliceExtension: { reason?: string; remedy?: string };
  backend: string;
}

function run(argv: string[], cwd: string, env: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  return spawnSync(argv[0] as string, argv.slice(1), { cwd, env, encoding: 'utf8', timeout: 240_000 });
}

/** require('rseq-slice') in the project: detect() and the backend open() picks. */
function requireInProject(project: string, env: NodeJS.ProcessEnv): Detected & { opened: string } {
  const code =
    "const r = require('rseq-slice'); const d = r.detect(); console.log(JSON.stringify({ ...d, opened: r.open().backend }))";
  const r = run([process.execPath, '-e', code], project, env);
  expect(r.status, r.stderr).to.equal(0);
  return JSON.parse(r.stdout) as Detected & { opened: string };
}

/** An npm to install with: its label, its npm-cli.js (empty when it could not be had) and why not. */
interface Npm {
  readonly label: string;
  readonly major: 10 | 11;
  cli: string;
  missing?: string;
}

/** Script modes: npm 11 knows allowScripts; npm 10 only runs scripts or ignores them. */
const MODES: Record<10 | 11, Array<[string, string[]]>> = {
  11: [
    ['scripts on, unlisted ones warned (default)', []],
    ['all scripts allowed', ['--dangerously-allow-all-scripts']],
    ['--strict-allow-scripts', ['--strict-allow-scripts']],
    ['--ignore-scripts', ['--ignore-scripts']],
  ],
  10: [
    ['scripts on (default)', []],
    ['--ignore-scripts', ['--ignore-scripts']],
  ],
};

const COMMON = ['--prefer-offline', '--no-audit', '--no-fund'];

/** The npm installs that a compile or an install script of ours would show in. */
const SCRIPT_TRACE =
  /install-scripts|allowScripts|ESTRICTALLOWSCRIPTS|gyp (info|ERR)|CXX\(target\)|rseq-slice@[^ ]+ \(/;

describe('install never compiles, never warns: npm install and npm ci × npm 10/11 × scripts × toolchain × prebuild', function () {
  this.timeout(900_000);
  const npms: Npm[] = [
    { label: 'npm 11 (bundled)', major: 11, cli: NPM11 },
    { label: 'npm 11 (newest)', major: 11, cli: '' },
    { label: 'npm 10 (newest)', major: 10, cli: '' },
  ];
  /** Lockfiles (with their package.json) made by each npm major, for the npm ci cells. */
  const lockDirs: Partial<Record<10 | 11, string>> = {};
  /** A PATH holding node and sh but no compiler, make or python: a slim container image. */
  let bareBin = '';

  before(function () {
    skipUnlessPacking(this);
    if (!fs.existsSync(NPM11)) skipBecause(this, `no npm bundled beside this node (${NPM11})`);
    const tarball = packedTarball();
    const work = path.dirname(tarball);
    // The newest npm 10 and 11 in one install, from the cache when they are there.
    const tools = path.join(work, 'npms');
    fs.mkdirSync(tools);
    const got = run(
      [process.execPath, NPM11, 'install', '--prefix', tools, ...COMMON, 'npm11@npm:npm@11', 'npm10@npm:npm@10'],
      tools,
      process.env,
    );
    for (const [npm, name] of [
      [npms[1], 'npm11'],
      [npms[2], 'npm10'],
    ] as const) {
      const cli = path.join(tools, 'node_modules', name, 'bin', 'npm-cli.js');
      if (got.status === 0 && fs.existsSync(cli)) npm.cli = cli;
      else npm.missing = `${name} could not be installed: ${got.stderr.trim().split('\n').pop()}`;
    }
    // Which npms these are today, for the log (the newest ones change with the registry).
    const versions = npms.map((npm) =>
      npm.cli === ''
        ? `${npm.label}: missing`
        : `${npm.label}: ${run([process.execPath, npm.cli, '--version'], work, process.env).stdout.trim()}`,
    );
    console.log(`      install matrix with ${versions.join(', ')}`);
    // One lockfile per npm major, as a user's repository would hold (npm 10 from its newest).
    for (const npm of [npms[0], npms[2]] as Npm[]) {
      if (npm.cli === '') continue;
      const dir = path.join(work, `lock-by-npm${npm.major}`);
      fs.mkdirSync(dir);
      fs.writeFileSync(
        path.join(dir, 'package.json'),
        JSON.stringify({
          name: 'app',
          version: '1.0.0',
          private: true,
          dependencies: { 'rseq-slice': `file:../${path.basename(tarball)}` },
        }),
      );
      const locked = run([process.execPath, npm.cli, 'install', '--package-lock-only', ...COMMON], dir, process.env);
      expect(locked.status, locked.stderr).to.equal(0);
      lockDirs[npm.major] = dir;
    }
    bareBin = path.join(work, 'bare-bin');
    fs.mkdirSync(bareBin);
    fs.symlinkSync(process.execPath, path.join(bareBin, 'node'));
    fs.symlinkSync('/bin/sh', path.join(bareBin, 'sh'));
  });

  let n = 0;
  for (const [i, { label: npmLabel, major }] of npms.entries()) {
    const commands: Array<['install' | 'ci', 10 | 11 | null]> = [
      ['install', null],
      ['ci', 10],
      ['ci', 11],
    ];
    for (const [command, lockBy] of commands) {
      for (const [mode, flags] of MODES[major]) {
        for (const toolchain of [true, false]) {
          for (const fits of [true, false]) {
            const what = command === 'install' ? 'npm install TARBALL' : `npm ci (lockfile by npm ${lockBy})`;
            const where = `${toolchain ? 'toolchain' : 'no toolchain'}, ${fits ? 'a prebuild fits' : 'no prebuild fits'}`;
            it(`${npmLabel}: ${what}, ${mode}, ${where}`, function () {
              const npm = npms[i] as Npm; // filled in by before()
              if (npm.missing) skipBecause(this, npm.missing);
              const env: NodeJS.ProcessEnv = {
                ...process.env,
                ...(toolchain ? {} : { PATH: bareBin, CXX: '/bin/false' }),
                ...(fits ? {} : { LIBC: 'musl' }),
              };
              const project = freshProject(`app-${++n}`);
              let argv: string[];
              if (command === 'install')
                argv = [process.execPath, npm.cli, 'install', ...flags, ...COMMON, packedTarball()];
              else {
                const locks = lockDirs[lockBy as 10 | 11];
                if (locks === undefined) return skipBecause(this, `no lockfile by npm ${lockBy}`);
                for (const f of ['package.json', 'package-lock.json'])
                  fs.copyFileSync(path.join(locks, f), path.join(project, f));
                argv = [process.execPath, npm.cli, 'ci', ...flags, ...COMMON];
              }
              const r = run(argv, project, env);
              const output = `${r.stdout}\n${r.stderr}`;
              expect(r.status, output).to.equal(0);
              expect(output, 'no install-script warning, no compile').to.not.match(SCRIPT_TRACE);
              const installed = path.join(project, 'node_modules', 'rseq-slice');
              expect(fs.existsSync(path.join(installed, 'native', 'build')), 'nothing compiled').to.equal(false);
              expect(fs.existsSync(path.join(installed, 'build')), 'nothing compiled').to.equal(false);

              const d = requireInProject(project, env);
              if (fits) {
                expect(d.addon, d.addon.error).to.deep.include({ loaded: true });
                expect(d.addon.path).to.equal(
                  path.join(
                    fs.realpathSync(installed),
                    'prebuilds',
                    `${process.platform}-${process.arch}`,
                    'rseq-slice.glibc.node',
                  ),
                );
                return;
              }
              expect(d.addon.loaded).to.equal(false);
              expect(d.addon.error).to.match(/No native build was found for .*libc=musl/);
              expect(d.sliceExtension.reason).to.contain('the native addon did not load');
              expect(d.sliceExtension.remedy).to.contain('npx rseq-slice build');
              expect(d.opened).to.equal('simulator');
            });
          }
        }
      }
    }
  }

  /** npm 11 installs the packed tarball into `project`, scripts on. */
  function installTarball(project: string): void {
    const argv = [process.execPath, NPM11, 'install', ...COMMON, packedTarball()];
    const r = run(argv, project, process.env);
    expect(r.status, r.stderr).to.equal(0);
  }

  describe('rseq-slice build: a source build when asked for', () => {
    it('rejects options it does not know (exit 2, with its help)', () => {
      const r = run(
        [process.execPath, path.join(ROOT, 'dist', 'cli', 'main.js'), 'build', '--force'],
        ROOT,
        process.env,
      );
      expect(r.status).to.equal(2);
      expect(r.stderr).to.contain("Unknown option '--force'").and.contain('Usage: rseq-slice build');
    });

    it('without a toolchain: exits 1 and names what is missing', function () {
      const project = freshProject('app-build-bare');
      installTarball(project);
      const env = { ...process.env, PATH: bareBin, CXX: '/bin/false' };
      const r = run(
        [process.execPath, path.join(project, 'node_modules', 'rseq-slice', 'dist', 'cli', 'main.js'), 'build'],
        project,
        env,
      );
      expect(r.status, r.stderr).to.equal(1);
      expect(r.stderr).to.contain('missing: a C++17 compiler (CXX=/bin/false does not run); make; python3');
      expect(fs.existsSync(path.join(project, 'node_modules', 'rseq-slice', 'native', 'build'))).to.equal(false);
    });

    it('with a toolchain: builds native/build/Release, which then loads where no prebuild fits (LIBC=musl)', function () {
      if (spawnSync('g++', ['--version']).status !== 0 || spawnSync('make', ['--version']).status !== 0)
        skipBecause(this, 'no g++ or make here');
      const project = freshProject('app-build');
      installTarball(project);
      const r = run(
        [process.execPath, path.join(project, 'node_modules', 'rseq-slice', 'dist', 'cli', 'main.js'), 'build'],
        project,
        process.env,
      );
      expect(r.status, `${r.stdout}\n${r.stderr}`).to.equal(0);
      // Progress: make's compile lines on stderr, without node-gyp's gyp info chatter.
      expect(r.stderr).to.match(/CXX\(target\) \S+\/addon\.o\n/);
      expect(r.stderr).not.to.match(/^gyp info /m);
      expect(r.stdout).to.contain('the native addon loads');
      expect(
        fs.existsSync(
          path.join(project, 'node_modules', 'rseq-slice', 'native', 'build', 'Release', 'rseq_slice.node'),
        ),
      ).to.equal(true);
      const d = requireInProject(project, { ...process.env, LIBC: 'musl' });
      expect(d.addon, d.addon.error).to.deep.include({ loaded: true });
      expect(d.addon.path).to.match(/native\/build\/Release\/rseq_slice\.node$/);
    });
  });
});
