/**
 * The package as a user gets it: `npm pack`, installed into a fresh project with install scripts
 * disabled (npm 11's default for dependencies), must load its prebuilt addon and work.
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { glibcRuntime } from '../../scripts/other-glibc';
import { aboveFloor, readelfMissing, requiredVersions } from '../support/elf_versions';
import { scan } from '../support/markdown_links';
import { ROOT } from '../support/paths';
import { skipUnlessCi } from '../support/skip';
import {
  packedFiles,
  packedTarball,
  projectWithPackage,
  skipUnlessPacking,
  unpackedTarball,
} from '../support/packed_tarball';

describe('packaging: npm pack → install with scripts disabled → require', function () {
  this.timeout(300_000);
  let project = '';

  before(function () {
    skipUnlessPacking(this);
    project = projectWithPackage('app-ignore-scripts');
  });

  it('ships a prebuilt binary for this platform, no build directory, and binding.gyp only in native/', () => {
    const installed = path.join(project, 'node_modules', 'rseq-slice');
    expect(fs.existsSync(path.join(installed, 'build'))).to.equal(false);
    expect(fs.existsSync(path.join(installed, 'native', 'build'))).to.equal(false);
    // At the root it would make npm (npm ci above all) add an implicit `node-gyp rebuild`.
    expect(fs.existsSync(path.join(installed, 'binding.gyp'))).to.equal(false);
    expect(fs.existsSync(path.join(installed, 'native', 'binding.gyp'))).to.equal(true);
    const dir = path.join(installed, 'prebuilds', `${process.platform}-${process.arch}`);
    expect(fs.readdirSync(dir).some((f) => f.endsWith('.node'))).to.equal(true);
    expect(fs.existsSync(path.join(installed, 'dist', 'index.js'))).to.equal(true);
    expect(fs.existsSync(path.join(installed, 'dist', 'index.d.ts'))).to.equal(true);
  });

  // packedTarball() itself fails when the pack changed the repository's package.json.
  it('the packed manifest has no prepare script (it is for git installs), and postpack left no copy behind', () => {
    const packed = JSON.parse(fs.readFileSync(path.join(unpackedTarball(), 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const own = fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8');
    const ownScripts = (JSON.parse(own) as { scripts: Record<string, string> }).scripts;
    expect(ownScripts.prepare, 'the repository keeps its prepare').to.be.a('string');
    expect(packed.scripts).to.not.have.property('prepare');
    const { prepare: _, ...rest } = ownScripts;
    expect(packed.scripts, 'every other script as it is').to.deep.equal(rest);
    expect(fs.existsSync(path.join(ROOT, 'package.json.prepack')), 'postpack restored the manifest').to.equal(false);
  });

  it('every shipped binary requires no symbol version above glibc 2.28 / GCC 8', function () {
    const missing = readelfMissing();
    if (missing) skipUnlessCi(this, missing);
    const prebuilds = path.join(project, 'node_modules', 'rseq-slice', 'prebuilds');
    const binaries = fs
      .readdirSync(prebuilds)
      .flatMap((d) => fs.readdirSync(path.join(prebuilds, d)).map((f) => path.join(prebuilds, d, f)));
    expect(binaries).to.not.deep.equal([]);
    for (const file of binaries) {
      const versions = requiredVersions(file);
      expect(
        versions.some((v) => v.startsWith('GLIBC_')),
        `${file}: ${versions.join(' ')}`,
      ).to.equal(true);
      expect(aboveFloor(versions), `${file}: ${versions.join(' ')}`).to.deep.equal([]);
    }
  });

  it('loads the prebuilt addon and detect() works in the fresh project', () => {
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        "const r = require('rseq-slice'); const d = r.detect(); const h = r.open(); h.run(() => 1); console.log(JSON.stringify({ d, backend: h.backend, sections: h.stats.sections }))",
      ],
      {
        cwd: project,
        encoding: 'utf8',
      },
    );
    const { d, backend, sections } = JSON.parse(out) as {
      d: { addon: { loaded: boolean; path?: string; error?: string }; rseq: { registered: boolean } };
      backend: string;
      sections: number;
    };
    expect(d.addon, d.addon.error).to.deep.include({ loaded: true });
    expect(d.addon.path).to.equal(
      path.join(
        fs.realpathSync(project),
        'node_modules',
        'rseq-slice',
        'prebuilds',
        `${process.platform}-${process.arch}`,
        'rseq-slice.glibc.node',
      ),
    );
    expect(d.rseq.registered).to.equal(true);
    expect(backend).to.be.oneOf(['native', 'simulator']);
    expect(sections).to.equal(1);
  });

  it("the prebuilt binary loads under Debian 11's glibc 2.31 and registers its own rseq area", function () {
    const rt = glibcRuntime('bullseye', false);
    if (!rt.ok)
      skipUnlessCi(this, `${rt.reason} (.ci/run fetches it: node -r tsx/cjs scripts/other-glibc.ts bullseye --fetch)`);
    const code =
      "const d = require('rseq-slice').detect(); console.log(JSON.stringify({ libc: d.platform.libc, addon: d.addon, owner: d.rseq.owner }))";
    const out = execFileSync(rt.node[0] as string, [...rt.node.slice(1), '-e', code], {
      cwd: project,
      encoding: 'utf8',
    });
    const d = JSON.parse(out) as { libc: string; addon: { loaded: boolean; error?: string }; owner: string | null };
    expect(d.libc).to.equal('glibc 2.31');
    expect(d.addon, d.addon.error).to.deep.include({ loaded: true });
    expect(d.owner).to.equal('addon');
  });

  it('import (ESM) gives the same named exports as require, from one module instance', () => {
    const code = `import * as esm from 'rseq-slice'; import { createRequire } from 'node:module';
      const cjs = createRequire(process.cwd() + '/')('rseq-slice');
      const pkg = createRequire(process.cwd() + '/')('rseq-slice/package.json');
      console.log(JSON.stringify({ esm: Object.keys(esm).sort(), cjs: Object.keys(cjs).sort(), same: esm.open === cjs.open && esm.default === cjs, version: pkg.version }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: project, encoding: 'utf8' });
    const r = JSON.parse(out) as { esm: string[]; cjs: string[]; same: boolean; version: string };
    expect(r.esm).to.deep.equal([...r.cjs, 'default'].sort());
    expect(r.same).to.equal(true);
    expect(r.version).to.equal(
      (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version,
    );
  });

  it('the published .d.ts carries no @internal member', () => {
    const dist = path.join(project, 'node_modules', 'rseq-slice', 'dist');
    const dts = fs.readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.d.ts'));
    expect(dts).to.include('index.d.ts');
    for (const f of dts) expect(fs.readFileSync(path.join(dist, f), 'utf8'), f).to.not.match(/@internal|exitAround/);
  });

  it('every source map in the tarball points at sources the tarball has, and every map comment at a map', () => {
    const files = new Set(packedFiles());
    const maps = [...files].filter((f) => f.endsWith('.map'));
    expect(maps).to.include('dist/index.js.map');
    for (const map of maps) {
      const { sources, sourceRoot } = JSON.parse(fs.readFileSync(path.join(unpackedTarball(), map), 'utf8')) as {
        sources: string[];
        sourceRoot?: string;
      };
      expect(sources, map).to.not.deep.equal([]);
      for (const source of sources) {
        const at = path.posix.normalize(path.posix.join(path.posix.dirname(map), sourceRoot ?? '', source));
        expect(files.has(at), `${map} names ${source} (${at}), which is not in the tarball`).to.equal(true);
      }
    }
    // The other direction: a sourceMappingURL with no map behind it makes debuggers warn.
    for (const js of [...files].filter((f) => /\.[cm]?js$/.test(f))) {
      const url = /^\/\/# sourceMappingURL=(.+)$/m.exec(fs.readFileSync(path.join(unpackedTarball(), js), 'utf8'))?.[1];
      if (url === undefined) continue;
      const at = path.posix.normalize(path.posix.join(path.posix.dirname(js), url.trim()));
      expect(files.has(at), `${js} names ${url}, which is not in the tarball`).to.equal(true);
    }
  });

  it('publint and @arethetypeswrong/cli find no problem in the tarball', () => {
    const bin = path.join(ROOT, 'node_modules', '.bin');
    const lint = spawnSync(path.join(bin, 'publint'), ['run', '--strict', packedTarball()], { encoding: 'utf8' });
    expect(lint.status, `${lint.stdout}${lint.stderr}`).to.equal(0);
    expect(lint.stdout).to.not.match(/Suggestions|Warnings|Errors/);
    const types = spawnSync(path.join(bin, 'attw'), [packedTarball(), '--format', 'ascii'], { encoding: 'utf8' });
    expect(types.status, `${types.stdout}${types.stderr}`).to.equal(0);
    expect(types.stdout).to.contain('No problems found');
  });

  it('the CLI runs from the installed package', () => {
    const out = execFileSync(path.join(project, 'node_modules', '.bin', 'rseq-slice'), ['detect', '--json'], {
      cwd: project,
      encoding: 'utf8',
    });
    expect((JSON.parse(out) as { addon: { loaded: boolean } }).addon.loaded).to.equal(true);
  });

  it('ships examples/ for users to copy, and an example runs from the installed package', () => {
    const examples = path.join(project, 'node_modules', 'rseq-slice', 'examples');
    const shipped = fs.readdirSync(examples).sort();
    expect(shipped).to.deep.equal(fs.readdirSync(path.join(ROOT, 'examples')).sort());
    // require('rseq-slice') inside the installed package resolves to itself (its name and exports).
    const r = spawnSync(process.execPath, [path.join(examples, 'worker-pool-counters.js'), '2', '1000'], {
      cwd: project,
      encoding: 'utf8',
    });
    expect(r.status, `${r.stdout}${r.stderr}`).to.equal(0);
    expect(r.stdout).to.match(/^ {2}total: 2000 \(sum of keys 2000, expected 2000\): exact$/m);
  });

  it("ships the documentation's pages and charts, not the raw data: docs/ under 300 KB, every relative link inside the tarball", () => {
    const files = packedFiles();
    const docs = files.filter((f) => f.startsWith('docs/'));
    const bytes = docs.reduce((sum, f) => sum + fs.statSync(path.join(unpackedTarball(), f)).size, 0);
    console.log(`      docs/ in the tarball: ${docs.length} files, ${(bytes / 1000).toFixed(0)} KB`);
    expect(bytes).to.be.below(300_000);
    expect(
      docs.filter((f) => f.endsWith('.json')),
      'raw benchmark data',
    ).to.deep.equal([]);
    // Every page ships, and the default run's charts; not the raw data, nor the charts of the
    // 2-vCPU -icount run, a QEMU mode docs/benefit.md explains it did not choose (its table ships).
    const pages = docs.filter((f) => f.endsWith('.md'));
    expect(pages.length).to.be.greaterThan(10);
    const shipped = new Set(files);
    const dirs = new Set(
      files.flatMap((f) =>
        f
          .split('/')
          .slice(0, -1)
          .map((_, i, a) => a.slice(0, i + 1).join('/')),
      ),
    );
    const broken = [...pages, 'README.md', 'examples/README.md'].flatMap((page) =>
      scan(fs.readFileSync(path.join(unpackedTarball(), page), 'utf8')).links.flatMap((l) => {
        if (/^[a-z]+:/i.test(l.href) || l.href.startsWith('#')) return [];
        const target = path.posix.normalize(
          path.posix.join(path.posix.dirname(page), decodeURIComponent(l.href.split('#')[0] as string)),
        );
        return shipped.has(target) || dirs.has(target.replace(/\/$/, '')) ? [] : [`${page}: ${l.href}`];
      }),
    );
    expect(broken, 'relative links to files the tarball lacks').to.deep.equal([]);
  });

  it('without any loadable binary the package still loads and falls back to the simulator', () => {
    const installed = path.join(project, 'node_modules', 'rseq-slice');
    fs.rmSync(path.join(installed, 'prebuilds'), { recursive: true });
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        "const r = require('rseq-slice'); const d = r.detect(); console.log(JSON.stringify({ d, backend: r.open().backend }))",
      ],
      {
        cwd: project,
        encoding: 'utf8',
      },
    );
    const { d, backend } = JSON.parse(out) as {
      d: { addon: { loaded: boolean; error?: string }; sliceExtension: { reason?: string } };
      backend: string;
    };
    expect(d.addon.loaded).to.equal(false);
    expect(d.addon.error).to.be.a('string').and.not.equal('');
    expect(d.sliceExtension.reason).to.contain('the native addon did not load');
    expect(backend).to.equal('simulator');
  });
});
