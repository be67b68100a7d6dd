/**
 * scripts/build-test-kernel --check: the fragment's required options stop the script, conveniences
 * and symbols a tree does not know do not. Runs on a fake .config and symbol list (no kernel tree).
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from '../support/paths';

const SCRIPT = path.join(ROOT, 'scripts', 'build-test-kernel');
const FRAGMENT = fs.readFileSync(path.join(ROOT, 'test', 'vm', 'kernel.config'), 'utf8');

interface Option {
  name: string;
  want: string;
  required: boolean;
}

function fragmentOptions(): Option[] {
  const out: Option[] = [];
  let required = true;
  for (const line of FRAGMENT.split('\n')) {
    if (line === '#@ required') required = true;
    else if (line === '#@ convenience') required = false;
    const set = /^CONFIG_(\w+)=(.*)$/.exec(line);
    const unset = /^# CONFIG_(\w+) is not set/.exec(line);
    if (set) out.push({ name: set[1]!, want: set[2]!, required });
    else if (unset) out.push({ name: unset[1]!, want: '', required });
  }
  return out;
}

describe('scripts/build-test-kernel --check', () => {
  const options = fragmentOptions();
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rseq-btk-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  // A .config with every option as the fragment asks, minus `drop`; symbols known minus `unknown`.
  function check(drop: string[] = [], unknown: string[] = []) {
    const config = options
      .filter((o) => !drop.includes(o.name))
      .map((o) => (o.want ? `CONFIG_${o.name}=${o.want}` : `# CONFIG_${o.name} is not set`))
      .join('\n');
    fs.writeFileSync(path.join(dir, '.config'), `${config}\n`);
    fs.writeFileSync(
      path.join(dir, 'symbols'),
      `${options
        .map((o) => o.name)
        .filter((n) => !unknown.includes(n))
        .join('\n')}\n`,
    );
    return spawnSync(SCRIPT, ['--check', path.join(dir, '.config'), '--symbols', path.join(dir, 'symbols')], {
      encoding: 'utf8',
    });
  }

  it('the fragment marks the feature and what the guest needs as required, the rest as conveniences', () => {
    const required = options.filter((o) => o.required).map((o) => o.name);
    expect(required).to.include.members([
      'RSEQ_SLICE_EXTENSION',
      'RSEQ_STATS',
      'DEBUG_FS',
      'NET_9P_VIRTIO',
      '9P_FS',
      'DEVTMPFS',
      'VIRTIO_PCI',
    ]);
    expect(options.filter((o) => !o.required).map((o) => o.name)).to.include.members(['PROC_SYSCTL', 'IKCONFIG']);
  });

  it('passes a .config with every option as asked', () => {
    const r = check();
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stderr).to.match(/every required option of kernel\.config is set \(0 convenience\(s\) differ, 0 unknown/);
  });

  it('stops (exit 1) for a missing required option and names it', () => {
    const r = check(['RSEQ_STATS']);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.contain('CONFIG_RSEQ_STATS (required): wanted y, got not set');
  });

  it('stops for a required symbol the tree does not know', () => {
    const r = check(['RSEQ_SLICE_EXTENSION'], ['RSEQ_SLICE_EXTENSION']);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.contain('CONFIG_RSEQ_SLICE_EXTENSION (required): this tree has no such symbol');
  });

  it('reports a renamed convenience (7.3: PROC_SYSCTL → SYSCTL) and goes on', () => {
    const r = check(['PROC_SYSCTL'], ['PROC_SYSCTL']);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stderr).to.contain(
      'CONFIG_PROC_SYSCTL (convenience): this tree has no such symbol (renamed or removed), skipped',
    );
    expect(r.stderr).to.contain('1 unknown to this tree skipped');
  });

  it('reports a convenience set otherwise and goes on', () => {
    const r = check(['IKCONFIG']);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stderr).to.contain('CONFIG_IKCONFIG (convenience): wanted y, got not set; going on');
  });

  it('rejects bad usage with exit 2', () => {
    const r = spawnSync(SCRIPT, ['--check', '/nonexistent/.config', '--symbols', '/dev/null'], { encoding: 'utf8' });
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain('not a readable .config file');
    expect(spawnSync(SCRIPT, ['--bogus'], { encoding: 'utf8' }).status).to.equal(2);
  });
});
