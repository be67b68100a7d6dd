/**
 * An install never fails: the packed tarball installed by npm 11 (bundled with this node) and by
 * npm 10 (what Node 20 and 22 bundle), with install scripts on, blocked and off, with a C++
 * toolchain and without one. The package has no install script (and `gypfile: false` stops npm
 * from inventing `node-gyp rebuild`), so every variant must exit 0, compile nothing, and load:
 * the prebuilt binary where one fits, else the simulator with detect() saying how to build.
 * Where no prebuild fits is simulated with LIBC=musl (node-gyp-build then looks for a musl build).
 */
import { expect } from 'chai';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, skipBecause } from './helpers';
import { freshProject, packedTarball } from './packed';

/** npm 11 as bundled with this node. */
const NPM11 = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');

interface Detected {
  addon: { loaded: boolean; error?: string };
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

describe('install never fails: npm 10 and 11 × scripts × toolchain', function () {
  this.timeout(600_000);
  let npm10 = '';
  let npm10Missing = '';
  /** A PATH holding node and sh but no compiler, make or python: a slim container image. */
  let bareBin = '';

  before(function () {
    if (process.env.RSEQ_SLICE_SKIP_PACK === '1') skipBecause(this, 'RSEQ_SLICE_SKIP_PACK=1');
    if (!fs.existsSync(NPM11)) skipBecause(this, `no npm bundled beside this node (${NPM11})`);
    const tarball = packedTarball();
    // npm 10 once, from the cache when it is there (the registry otherwise).
    const tools = path.join(path.dirname(tarball), 'npm10');
    fs.mkdirSync(tools);
    const got = run(
      [process.execPath, NPM11, 'install', '--prefix', tools, '--prefer-offline', '--no-audit', '--no-fund', 'npm@10'],
      tools,
      process.env,
    );
    npm10 = path.join(tools, 'node_modules', 'npm', 'bin', 'npm-cli.js');
    if (got.status !== 0 || !fs.existsSync(npm10))
      npm10Missing = `npm@10 could not be installed: ${got.stderr.trim().split('\n').pop()}`;
    bareBin = path.join(path.dirname(tarball), 'bare-bin');
    fs.mkdirSync(bareBin);
    fs.symlinkSync(process.execPath, path.join(bareBin, 'node'));
    fs.symlinkSync('/bin/sh', path.join(bareBin, 'sh'));
  });

  const npms: Array<['11' | '10', Array<[string, string[]]>]> = [
    [
      '11',
      [
        ['scripts blocked by default (allowScripts)', []],
        ['all scripts allowed', ['--dangerously-allow-all-scripts']],
        ['--ignore-scripts', ['--ignore-scripts']],
      ],
    ],
    [
      '10',
      [
        ['scripts on', []],
        ['--ignore-scripts', ['--ignore-scripts']],
      ],
    ],
  ];
  let n = 0;
  for (const [version, modes] of npms) {
    for (const [mode, flags] of modes) {
      for (const toolchain of [true, false]) {
        for (const fits of [true, false]) {
          const where = `${toolchain ? 'with' : 'without'} a C++ toolchain, ${fits ? 'a prebuild fits' : 'no prebuild fits (LIBC=musl)'}`;
          it(`npm ${version}, ${mode}, ${where}: exits 0, builds nothing, loads`, function () {
            if (version === '10' && npm10Missing) skipBecause(this, npm10Missing);
            const env: NodeJS.ProcessEnv = {
              ...process.env,
              ...(toolchain ? {} : { PATH: bareBin, CXX: '/bin/false' }),
              ...(fits ? {} : { LIBC: 'musl' }),
            };
            const project = freshProject(`app-${++n}`);
            const cli = version === '11' ? NPM11 : npm10;
            const r = run(
              [
                process.execPath,
                cli,
                'install',
                ...flags,
                '--prefer-offline',
                '--no-audit',
                '--no-fund',
                packedTarball(),
              ],
              project,
              env,
            );
            expect(r.status, `${r.stdout}\n${r.stderr}`).to.equal(0);
            // npm lists a tarball's `prepare` (it never runs it for a tarball, and never lists it
            // for a registry install); an install script or an implicit node-gyp rebuild would show.
            expect(r.stderr).to.not.match(/rseq-slice@[^ ]+ \((pre|post)?install:/);
            const installed = path.join(project, 'node_modules', 'rseq-slice');
            expect(fs.existsSync(path.join(installed, 'build')), 'nothing is compiled at install').to.equal(false);

            const d = requireInProject(project, env);
            if (fits) {
              expect(d.addon, d.addon.error).to.deep.include({ loaded: true });
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

  /** npm 11 installs the packed tarball into `project`, scripts on. */
  function installTarball(project: string): void {
    const argv = [process.execPath, NPM11, 'install', '--prefer-offline', '--no-audit', '--no-fund', packedTarball()];
    const r = run(argv, project, process.env);
    expect(r.status, r.stderr).to.equal(0);
  }

  describe('rseq-slice build: a source build when asked for', () => {
    it('rejects options it does not know (exit 2, with its help)', () => {
      const r = run([process.execPath, path.join(ROOT, 'dist', 'cli.js'), 'build', '--force'], ROOT, process.env);
      expect(r.status).to.equal(2);
      expect(r.stderr).to.contain("Unknown option '--force'").and.contain('Usage: rseq-slice build');
    });

    it('without a toolchain: exits 1 and names what is missing', function () {
      const project = freshProject('app-build-bare');
      installTarball(project);
      const env = { ...process.env, PATH: bareBin, CXX: '/bin/false' };
      const r = run(
        [process.execPath, path.join(project, 'node_modules', 'rseq-slice', 'dist', 'cli.js'), 'build'],
        project,
        env,
      );
      expect(r.status, r.stderr).to.equal(1);
      expect(r.stderr).to.contain('missing: a C++17 compiler (CXX=/bin/false does not run); make; python3');
      expect(fs.existsSync(path.join(project, 'node_modules', 'rseq-slice', 'build'))).to.equal(false);
    });

    it('with a toolchain: builds build/Release, which then loads where no prebuild fits (LIBC=musl)', function () {
      if (spawnSync('g++', ['--version']).status !== 0 || spawnSync('make', ['--version']).status !== 0)
        skipBecause(this, 'no g++ or make here');
      const project = freshProject('app-build');
      installTarball(project);
      const r = run(
        [process.execPath, path.join(project, 'node_modules', 'rseq-slice', 'dist', 'cli.js'), 'build'],
        project,
        process.env,
      );
      expect(r.status, `${r.stdout}\n${r.stderr}`).to.equal(0);
      // Progress: make's compile lines on stderr, without node-gyp's gyp info chatter.
      expect(r.stderr).to.match(/CXX\(target\) \S+\/addon\.o\n/);
      expect(r.stderr).not.to.match(/^gyp info /m);
      expect(r.stdout).to.contain('the native addon loads');
      expect(
        fs.existsSync(path.join(project, 'node_modules', 'rseq-slice', 'build', 'Release', 'rseq_slice.node')),
      ).to.equal(true);
      const d = requireInProject(project, { ...process.env, LIBC: 'musl' });
      expect(d.addon, d.addon.error).to.deep.include({ loaded: true });
    });
  });
});
