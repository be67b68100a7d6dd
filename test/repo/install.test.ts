/**
 * An install never compiles and never warns: the packed tarball installed into a fresh project by
 * `npm install` and by `npm ci` (from a lockfile made by npm 10 and by npm 11), with npm 10, npm 11
 * as bundled with this node, the newest npm 11 and the newest npm 12 (run by Node 24 from
 * scripts/other-node.ts: npm 12 needs Node 22.22 or later), with install scripts on,
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
import { skipBecause, skipUnlessCi } from '../support/skip';
import { freshProject, packedTarball, skipUnlessPacking } from '../support/packed_tarball';
import { otherNode } from '../../scripts/other-node';

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

/** require('rseq-slice') in the project under `node`: detect() and the backend open() picks. */
function requireInProject(
  project: string,
  env: NodeJS.ProcessEnv,
  node: string = process.execPath,
): Detected & { opened: string } {
  const code =
    "const r = require('rseq-slice'); const d = r.detect(); console.log(JSON.stringify({ ...d, opened: r.open().backend }))";
  const r = run([node, '-e', code], project, env);
  expect(r.status, r.stderr).to.equal(0);
  return JSON.parse(r.stdout) as Detected & { opened: string };
}

type NpmMajor = 10 | 11 | 12;

/**
 * An npm to install with: its label, the node that runs it (and loads what it installed), its
 * npm-cli.js (empty when it could not be had) and why not.
 */
interface Npm {
  readonly label: string;
  readonly major: NpmMajor;
  node: string;
  cli: string;
  missing?: string;
}

/** Script modes: npm 11 and 12 know allowScripts (12 blocks unlisted scripts); npm 10 only runs scripts or ignores them. */
const ALLOW_SCRIPTS_MODES: Array<[string, string[]]> = [
  ['all scripts allowed', ['--dangerously-allow-all-scripts']],
  ['--strict-allow-scripts', ['--strict-allow-scripts']],
  ['--ignore-scripts', ['--ignore-scripts']],
];
const MODES: Record<NpmMajor, Array<[string, string[]]>> = {
  12: [['unlisted scripts blocked (default)', []], ...ALLOW_SCRIPTS_MODES],
  11: [['scripts on, unlisted ones warned (default)', []], ...ALLOW_SCRIPTS_MODES],
  10: [
    ['scripts on (default)', []],
    ['--ignore-scripts', ['--ignore-scripts']],
  ],
};

const COMMON = ['--prefer-offline', '--no-audit', '--no-fund'];

/** The npm installs that a compile or an install script of ours would show in. */
const SCRIPT_TRACE =
  /install-scripts|allowScripts|ESTRICTALLOWSCRIPTS|gyp (info|ERR)|CXX\(target\)|rseq-slice@[^ ]+ \(/;

/** Node 24 for npm 12 (which needs Node 22.22 or later), or why it is not at hand. */
const NODE24 = otherNode(24, false);

/**
 * The newest npm 10, 11 and 12 in one install, from npm's cache when they are there, into `dir`:
 * the npm-cli.js of each, or why it could not be had.
 */
function newestNpms(dir: string): Record<NpmMajor, { cli: string } | { missing: string }> {
  fs.mkdirSync(dir, { recursive: true });
  const specs = ([10, 11, 12] as const).map((m) => `npm${m}@npm:npm@${m}`);
  // npm 12's manifest asks for Node 22.22+; the npm that fetches it only unpacks it.
  const got = run(
    [process.execPath, NPM11, 'install', '--prefix', dir, '--engine-strict=false', ...COMMON, ...specs],
    dir,
    process.env,
  );
  const each = (m: NpmMajor): { cli: string } | { missing: string } => {
    const cli = path.join(dir, 'node_modules', `npm${m}`, 'bin', 'npm-cli.js');
    return got.status === 0 && fs.existsSync(cli)
      ? { cli }
      : { missing: `npm ${m} could not be installed: ${got.stderr.trim().split('\n').pop()}` };
  };
  return { 10: each(10), 11: each(11), 12: each(12) };
}

/** A PATH directory holding `node` and sh but no compiler, make or python. */
function bareBinFor(dir: string, node: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.symlinkSync(node, path.join(dir, 'node'));
  fs.symlinkSync('/bin/sh', path.join(dir, 'sh'));
  return dir;
}

/** What a source build would use: compilers, make, python (and another node or npm than the one given). */
const BUILD_TOOL = /^(g\+\+|gcc|c\+\+|cc|cpp|clang|ld|make|gmake|python|[a-z0-9_]+-linux-gnu-|node|npm|npx)/;

/**
 * A PATH directory like a slim container image (node:*-slim with git added): every command of
 * /usr/bin and /bin (git and the coreutils its scripts use) but no compiler, make or python, and
 * `node` the given one.
 */
function slimBinFor(dir: string, node: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.symlinkSync(node, path.join(dir, 'node'));
  for (const from of ['/usr/bin', '/bin'])
    for (const name of fs.readdirSync(from))
      if (!BUILD_TOOL.test(name) && !fs.existsSync(path.join(dir, name)))
        fs.symlinkSync(path.join(from, name), path.join(dir, name));
  return dir;
}

describe('install never compiles, never warns: npm install and npm ci × npm 10/11/12 × scripts × toolchain × prebuild', function () {
  this.timeout(900_000);
  const npms: Npm[] = [
    { label: 'npm 11 (bundled)', major: 11, node: process.execPath, cli: NPM11 },
    { label: 'npm 11 (newest)', major: 11, node: process.execPath, cli: '' },
    { label: 'npm 10 (newest)', major: 10, node: process.execPath, cli: '' },
    { label: 'npm 12 (newest, on Node 24)', major: 12, node: NODE24.ok ? NODE24.node : '', cli: '' },
  ];
  /** Lockfiles (with their package.json) made by each npm major, for the npm ci cells. */
  const lockDirs: Partial<Record<10 | 11, string>> = {};
  /** For each node an npm runs on: a PATH of that node and sh only. */
  const bareBins = new Map<string, string>();

  before(function () {
    skipUnlessPacking(this);
    if (!fs.existsSync(NPM11)) skipBecause(this, `no npm bundled beside this node (${NPM11})`);
    const tarball = packedTarball();
    const work = path.dirname(tarball);
    const newest = newestNpms(path.join(work, 'npms'));
    for (const npm of npms.slice(1)) {
      const got = newest[npm.major];
      if ('cli' in got) npm.cli = got.cli;
      else npm.missing = got.missing;
    }
    const npm12 = npms[3] as Npm;
    if (!NODE24.ok) {
      npm12.missing = NODE24.reason;
      if (process.env.CI === 'true') throw new Error(`CI must run the npm 12 cells, but: ${NODE24.reason}`);
    }
    // Which npms these are today, for the log (the newest ones change with the registry).
    const versions = npms.map((npm) =>
      npm.cli === '' || npm.missing
        ? `${npm.label}: missing`
        : `${npm.label}: ${run([npm.node, npm.cli, '--version'], work, process.env).stdout.trim()}`,
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
      lockDirs[npm.major as 10 | 11] = dir;
    }
    for (const [i, npm] of npms.entries())
      if (npm.node !== '' && !bareBins.has(npm.node))
        bareBins.set(npm.node, bareBinFor(path.join(work, `bare-bin-${i}`), npm.node));
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
                ...(toolchain ? {} : { PATH: bareBins.get(npm.node), CXX: '/bin/false' }),
                ...(fits ? {} : { LIBC: 'musl' }),
              };
              const project = freshProject(`app-${++n}`);
              let argv: string[];
              if (command === 'install') argv = [npm.node, npm.cli, 'install', ...flags, ...COMMON, packedTarball()];
              else {
                const locks = lockDirs[lockBy as 10 | 11];
                if (locks === undefined) return skipBecause(this, `no lockfile by npm ${lockBy}`);
                for (const f of ['package.json', 'package-lock.json'])
                  fs.copyFileSync(path.join(locks, f), path.join(project, f));
                argv = [npm.node, npm.cli, 'ci', ...flags, ...COMMON];
              }
              const r = run(argv, project, env);
              const output = `${r.stdout}\n${r.stderr}`;
              expect(r.status, output).to.equal(0);
              expect(output, 'no install-script warning, no compile').to.not.match(SCRIPT_TRACE);
              const installed = path.join(project, 'node_modules', 'rseq-slice');
              expect(fs.existsSync(path.join(installed, 'native', 'build')), 'nothing compiled').to.equal(false);
              expect(fs.existsSync(path.join(installed, 'build')), 'nothing compiled').to.equal(false);

              const d = requireInProject(project, env, npm.node);
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

  describe('installs from git (git+file:// of a clone of this tree): prepare builds dist/ and, with a toolchain, the addon', () => {
    /** A git repository holding this working tree's files (tracked, and new ones not ignored), committed. */
    let clone = '';
    before(function () {
      if (spawnSync('git', ['--version']).status !== 0) skipUnlessCi(this, 'no git here');
      clone = path.join(path.dirname(packedTarball()), 'git-clone');
      const files = run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], ROOT, process.env);
      expect(files.status, files.stderr).to.equal(0);
      for (const f of files.stdout.split('\0').filter((f) => f !== '' && fs.existsSync(path.join(ROOT, f)))) {
        fs.mkdirSync(path.dirname(path.join(clone, f)), { recursive: true });
        fs.copyFileSync(path.join(ROOT, f), path.join(clone, f));
      }
      const git = (...args: string[]): void => {
        const r = run(['git', '-c', 'user.name=test', '-c', 'user.email=test@invalid', ...args], clone, process.env);
        expect(r.status, r.stderr).to.equal(0);
      };
      git('init', '-q');
      git('add', '-A');
      git('commit', '-q', '-m', 'this tree');
    });

    for (const i of [2, 0, 3]) {
      for (const toolchain of [true, false]) {
        it(`${(npms[i] as Npm).label}: ${toolchain ? 'with a toolchain: dist/ and the addon' : 'without one (a slim image: git, no compiler, make or python): dist/ and the simulator'}`, function () {
          const npm = npms[i] as Npm;
          if (npm.missing) skipBecause(this, npm.missing);
          const spec = `git+file://${clone}`;
          const project = freshProject(`app-git-${i}-${toolchain}`);
          // npm 11 and 12 list a git dependency's prepare in their install-scripts warning (npm 11
          // fails it under --strict-allow-scripts) until the project allows it, by its git URL;
          // npm 12 fetches git dependencies only when told to.
          if (npm.major >= 11) {
            const manifest = JSON.parse(fs.readFileSync(path.join(project, 'package.json'), 'utf8')) as object;
            fs.writeFileSync(
              path.join(project, 'package.json'),
              JSON.stringify({ ...manifest, allowScripts: { [spec]: true } }),
            );
          }
          const slimBin = path.join(path.dirname(packedTarball()), `slim-bin-${i}`);
          if (!toolchain && !fs.existsSync(slimBin)) slimBinFor(slimBin, npm.node);
          const env: NodeJS.ProcessEnv = { ...process.env, ...(toolchain ? {} : { PATH: slimBin, CXX: '/bin/false' }) };
          const flags = npm.major === 12 ? ['--allow-git=root'] : [];
          const r = run([npm.node, npm.cli, 'install', ...flags, ...COMMON, spec], project, env);
          const output = `${r.stdout}\n${r.stderr}`;
          expect(r.status, output).to.equal(0);
          expect(output, 'the allowed prepare is not warned about').to.not.match(/install-scripts|ESTRICTALLOWSCRIPTS/);
          const installed = path.join(project, 'node_modules', 'rseq-slice');
          expect(fs.existsSync(path.join(installed, 'dist', 'index.js')), 'dist/ built by prepare').to.equal(true);
          const prebuild = path.join(
            installed,
            'prebuilds',
            `${process.platform}-${process.arch}`,
            'rseq-slice.glibc.node',
          );
          const d = requireInProject(project, env, npm.node);
          if (toolchain) {
            expect(d.addon, d.addon.error).to.deep.include({ loaded: true });
            expect(d.addon.path).to.equal(fs.realpathSync(prebuild));
            return;
          }
          expect(fs.existsSync(prebuild), 'nothing compiled without a toolchain').to.equal(false);
          expect(d.addon.loaded).to.equal(false);
          expect(d.sliceExtension.remedy).to.contain('npx rseq-slice build');
          expect(d.opened).to.equal('simulator');
        });
      }
    }
  });

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
      const env = { ...process.env, PATH: bareBins.get(process.execPath), CXX: '/bin/false' };
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
