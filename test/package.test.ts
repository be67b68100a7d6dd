/**
 * The package as a user gets it: `npm pack`, installed into a fresh project with install scripts
 * disabled (npm 11's default for dependencies), must load its prebuilt addon and work.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, skipBecause } from './helpers';

describe('packaging: npm pack → install with scripts disabled → require', function () {
  this.timeout(300_000);
  let project = '';
  let tarball = '';

  before(function () {
    if (process.env.RSEQ_SLICE_SKIP_PACK === '1') skipBecause(this, 'RSEQ_SLICE_SKIP_PACK=1');
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rseq-slice-pack-'));
    // prepack (tsc + prebuildify) prints to stdout too, so find the tarball on disk instead.
    execFileSync('npm', ['pack', '--pack-destination', work], { cwd: ROOT, stdio: 'ignore' });
    const packed = fs.readdirSync(work).filter((f) => f.endsWith('.tgz'));
    expect(packed).to.have.lengthOf(1);
    tarball = path.join(work, packed[0]!);
    project = path.join(work, 'app');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    execFileSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', tarball], { cwd: project, stdio: 'ignore' });
  });

  it('ships a prebuilt binary for this platform and no build directory', () => {
    const installed = path.join(project, 'node_modules', 'rseq-slice');
    expect(fs.existsSync(path.join(installed, 'build'))).to.equal(false);
    const dir = path.join(installed, 'prebuilds', `${process.platform}-${process.arch}`);
    expect(fs.readdirSync(dir).some((f) => f.endsWith('.node'))).to.equal(true);
    expect(fs.existsSync(path.join(installed, 'dist', 'index.js'))).to.equal(true);
    expect(fs.existsSync(path.join(installed, 'dist', 'index.d.ts'))).to.equal(true);
  });

  it('loads the prebuilt addon and detect() works in the fresh project', () => {
    const out = execFileSync(process.execPath, ['-e', "const r = require('rseq-slice'); const d = r.detect(); const h = r.open(); h.run(() => 1); console.log(JSON.stringify({ d, backend: h.backend, sections: h.stats.sections }))"], {
      cwd: project,
      encoding: 'utf8',
    });
    const { d, backend, sections } = JSON.parse(out) as { d: { addon: { loaded: boolean; error?: string }; rseq: { registered: boolean } }; backend: string; sections: number };
    expect(d.addon, d.addon.error).to.deep.include({ loaded: true });
    expect(d.rseq.registered).to.equal(true);
    expect(backend).to.be.oneOf(['native', 'simulator']);
    expect(sections).to.equal(1);
  });

  it('the CLI runs from the installed package', () => {
    const out = execFileSync(path.join(project, 'node_modules', '.bin', 'rseq-slice'), ['detect', '--json'], { cwd: project, encoding: 'utf8' });
    expect((JSON.parse(out) as { addon: { loaded: boolean } }).addon.loaded).to.equal(true);
  });

  it('without any loadable binary the package still loads and falls back to the simulator', () => {
    const installed = path.join(project, 'node_modules', 'rseq-slice');
    fs.rmSync(path.join(installed, 'prebuilds'), { recursive: true });
    const out = execFileSync(process.execPath, ['-e', "const r = require('rseq-slice'); const d = r.detect(); console.log(JSON.stringify({ d, backend: r.open().backend }))"], {
      cwd: project,
      encoding: 'utf8',
    });
    const { d, backend } = JSON.parse(out) as { d: { addon: { loaded: boolean; error?: string }; sliceExtension: { reason?: string } }; backend: string };
    expect(d.addon.loaded).to.equal(false);
    expect(d.addon.error).to.be.a('string').and.not.equal('');
    expect(d.sliceExtension.reason).to.contain('the native addon did not load');
    expect(backend).to.equal('simulator');
  });

  after(() => {
    if (tarball) fs.rmSync(path.dirname(tarball), { recursive: true, force: true });
  });
});
