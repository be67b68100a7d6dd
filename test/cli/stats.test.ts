/** debugfs rseq/stats: the shared parser, and `rseq-slice stats` (error path here, watch mode on a fake file). */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseRseqStats, countersDelta } from '../../lib/kernel/rseq_stats';
import { rseqDebugfsFiles, STATS_FILE } from '../../lib/kernel/knobs';
import { DIST, ROOT } from '../support/paths';

// The format of kernel/rseq.c rseq_stats_show (7.2.13), figures from a guest run.
function statsText(c: { sgrant: number; sexpir: number; srevok: number; syield: number; sabort: number }): string {
  const line = (name: string, n: number): string => `${`${name}:`.padEnd(8)}${String(n).padStart(16)}\n`;
  return (
    line('exit', 918273) +
    line('signal', 12) +
    line('slowp', 3321) +
    line('fastp', 900001) +
    line('ids', 4410) +
    line('cs', 0) +
    line('clear', 0) +
    line('fixup', 0) +
    line('sgrant', c.sgrant) +
    line('sexpir', c.sexpir) +
    line('srevok', c.srevok) +
    line('syield', c.syield) +
    line('sabort', c.sabort)
  );
}

describe('rseq stats', () => {
  it("parses the slice counters of the kernel's rseq/stats text", () => {
    const c = parseRseqStats(statsText({ sgrant: 9337, sexpir: 50, srevok: 60, syield: 9277, sabort: 0 }));
    expect(c).to.deep.equal({ sgrant: 9337, sexpir: 50, srevok: 60, syield: 9277, sabort: 0 });
    expect(countersDelta(c, { ...c, sgrant: 9400, syield: 9300 })).to.deep.equal({
      sgrant: 63,
      sexpir: 0,
      srevok: 0,
      syield: 23,
      sabort: 0,
    });
  });

  it('a stats file without slice counters (a kernel without the extension) is an error naming the line', () => {
    const text = statsText({ sgrant: 1, sexpir: 0, srevok: 0, syield: 1, sabort: 0 })
      .split('\n')
      .filter((l) => !l.startsWith('s'))
      .join('\n');
    expect(() => parseRseqStats(text, 'fixture')).to.throw(
      /fixture has no sgrant line: the kernel lacks CONFIG_RSEQ_SLICE_EXTENSION/,
    );
  });

  describe('rseq-slice stats', () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rseq-stats-'));
      fs.writeFileSync(rseqDebugfsFiles(dir).extensionNsec, '50000\n');
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const A = { sgrant: 100, sexpir: 1, srevok: 10, syield: 90, sabort: 0 };
    const B = { sgrant: 1100, sexpir: 6, srevok: 60, syield: 1040, sabort: 0 };
    const cli = path.join(DIST, 'cli', 'main.js');
    // Replaced by rename, so the child never reads a half-written file.
    const writeStats = (c: typeof A): void => {
      fs.writeFileSync(path.join(dir, 'stats.tmp'), statsText(c));
      fs.renameSync(path.join(dir, 'stats.tmp'), rseqDebugfsFiles(dir).stats);
    };
    const fakeEnv = (): NodeJS.ProcessEnv => ({ ...process.env, RSEQ_SLICE_DEBUGFS_RSEQ: dir });

    it('without readable debugfs rseq/stats: exit 1 and what is needed', function () {
      if (fs.existsSync(STATS_FILE)) {
        console.log('      skipped: this host has a readable debugfs rseq/stats');
        this.skip();
      }
      const r = spawnSync(process.execPath, [cli, 'stats'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, RSEQ_SLICE_DEBUGFS_RSEQ: '' },
      });
      expect(r.status).to.equal(1);
      expect(r.stderr).to.match(/rseq-slice stats: \/sys\/kernel\/debug\/rseq\/stats/);
      expect(r.stderr).to.match(/mount -t debugfs none \/sys\/kernel\/debug|run as root/);
    });

    it('prints the counters and the extension length once (text and JSON)', () => {
      writeStats(A);
      const r = spawnSync(process.execPath, [cli, 'stats'], { cwd: ROOT, encoding: 'utf8', env: fakeEnv() });
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.contain('extension 50000 ns');
      expect(r.stdout).to.match(/grants \(sgrant\)\s+100\n/);
      expect(r.stdout).to.match(/expiries \(sexpir\)\s+1\n/);
      const j = spawnSync(process.execPath, [cli, 'stats', '--json'], { cwd: ROOT, encoding: 'utf8', env: fakeEnv() });
      expect(JSON.parse(j.stdout)).to.deep.equal({ counters: A, extensionNsec: 50000 });
    });

    it('--watch: rates per second between samples, --count stops it', async () => {
      writeStats(A);
      const child = spawn(process.execPath, [cli, 'stats', '--watch', '0.5', '--count', '2', '--json'], {
        cwd: ROOT,
        env: fakeEnv(),
      });
      const lines: string[] = [];
      let buffered = '';
      child.stdout.on('data', (d: Buffer) => {
        buffered += d.toString();
        const parts = buffered.split('\n');
        buffered = parts.pop() as string;
        for (const l of parts) {
          lines.push(l);
          // After the first interval's sample, the counters move on.
          if (lines.length === 1) writeStats(B);
        }
      });
      const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(status).to.equal(0);
      expect(lines).to.have.lengthOf(2);
      const [first, second] = lines.map(
        (l) => JSON.parse(l) as { seconds: number; counters: typeof A; perSecond: typeof A },
      );
      expect(first!.counters).to.deep.equal(A);
      expect(first!.perSecond.sgrant).to.equal(0);
      // B is written once the first line arrives; on a loaded machine the second sample may come
      // first and still read A. Either way the rate is the counters' change over the interval.
      expect([A, B]).to.deep.include(second!.counters);
      const moved = second!.counters.sgrant - A.sgrant;
      expect(second!.perSecond.sgrant).to.be.closeTo(moved / second!.seconds, 0.1);
      expect(second!.perSecond.sexpir).to.be.closeTo((second!.counters.sexpir - A.sexpir) / second!.seconds, 0.1);
    });

    it('--watch stops on SIGINT with exit 0', async () => {
      writeStats(A);
      const child = spawn(process.execPath, [cli, 'stats', '--watch', '0.2'], { cwd: ROOT, env: fakeEnv() });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/grants\/s/.test(out)) child.kill('SIGINT');
      });
      const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(status).to.equal(0);
      expect(out).to.contain('rates per second over 0.2 s, extension 50000 ns');
    });

    it('bad usage exits 2', () => {
      for (const args of [
        ['--watch', '0'],
        ['--watch', 'x'],
        ['--count', '2'],
        ['--watch', '1', '--count', '0'],
        ['--bogus'],
      ]) {
        const r = spawnSync(process.execPath, [cli, 'stats', ...args], { cwd: ROOT, encoding: 'utf8', env: fakeEnv() });
        expect(r.status, args.join(' ')).to.equal(2);
      }
    });
  });
});
