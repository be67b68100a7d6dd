/**
 * Guest suite, glibc 2.41 (Debian trixie's, node started through its loader, no GLIBC_TUNABLES):
 * glibc registers an optimized rseq area itself and rseq-slice uses it — the main production path
 * (Debian 13, Ubuntu 25.04+, Fedora 42+). Run pinned to CPU 1.
 *
 * Nothing here spawns `process.execPath`: under the loader it is the loader itself (ld.so), and a
 * child started with it would not be node; the fork probe forks this very process instead.
 */
import { expect } from 'chai';
import { detect, open } from '../../lib';
import { addonState } from '../../lib/addon/addon';
import { OFFSET_FLAGS, RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE } from '../../lib/kernel/abi';
import type { CountUnderLock } from '../fixtures/count_under_lock_worker';
import { DIST } from '../support/paths';
import { fixtureWorker, inWorker } from '../support/child_node';
import { bootDescription, readStats, statsDelta, withLongExtension } from './guest';
import { runScenario, runScenarioUntilYielded, type SectionPath } from './scenario';

const SECONDS = Number(process.env.RSEQ_SLICE_VM_SECONDS ?? 2);

function addon() {
  const a = addonState().addon;
  if (!a) throw new Error(`the addon did not load: ${addonState().error}`);
  return a;
}

describe(`guest, glibc 2.41's own registration: ${bootDescription()}`, function () {
  this.timeout(600_000);
  const figures: string[] = [];
  withLongExtension(figures, SECONDS);

  it('runs under glibc 2.41 with no GLIBC_TUNABLES (the loader is in effect)', () => {
    const header = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header;
    expect(header.glibcVersionRuntime).to.equal('2.41');
    expect(process.env.GLIBC_TUNABLES).to.equal(undefined);
  });

  it("detect(): libc's optimized area, AVAILABLE, native backend, JavaScript fast path", () => {
    const d = detect();
    expect(d.rseq.owner).to.equal('libc');
    expect(d.rseq.mode).to.equal('optimized');
    // glibc registers AT_RSEQ_FEATURE_SIZE bytes rounded up to AT_RSEQ_ALIGN (33 → 64 on 7.2).
    expect(d.rseq.length).to.be.at.least(33);
    expect(d.rseq.libcRseqSize).to.be.at.least(33);
    // The kernel sets AVAILABLE in an optimized registration's flags when it can grant (rseq.c).
    expect(addon().readField(OFFSET_FLAGS)! & RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE).to.not.equal(0);
    expect(d.sliceExtension.available).to.equal(true);
    expect(d.backend).to.equal('native');
    expect(d.fastPath).to.equal('javascript');
    expect(addon().diagnostics.ownAreas(), 'rseq-slice registered nothing of its own').to.equal(0);
  });

  it('cpu() reads the pinned CPU from glibc’s area, in the main thread and a worker', async () => {
    // taskset -c 1: the thread runs only on CPU 1, and the kernel writes cpu_id on every return to
    // user space (rseq_update_cpu_node_id), so the area says 1 whenever JavaScript can read it.
    expect(open().cpu()).to.equal(1);
    expect(await inWorker<number>('cpu_worker.ts', DIST)).to.equal(1);
  });

  it('a fork child keeps the enabled state', () => {
    open({ backend: 'native' });
    expect(addon().diagnostics.forkProbe()).to.equal(3); // GET = 1 and ENABLED bit set in the child
  });

  const cases: Array<[SectionPath, number, number]> = [
    ['javascript', 20000, 0],
    ['native-loop', 20000, 0],
    ['javascript', 20000, 2],
  ];
  for (const [p, spinNs, workers] of cases) {
    const label = `${p} path, ${spinNs / 1000} µs sections, ${workers ? `${workers} workers` : 'main thread'}`;
    it(`selftest scenario: ${label}: real grants, yielded == debugfs syield`, async () => {
      await runScenarioUntilYielded(label, () => runScenario(p, spinNs, SECONDS, workers), workers || 1, figures);
    });
  }

  it('SliceMutex under contention (3 workers, native handles) loses no update', async () => {
    const shared = new SharedArrayBuffer(16); // the mutex word, then a counter at byte 8
    const WORKERS = 3;
    const ROUNDS = 5000;
    const before = readStats();
    const results = await Promise.all(
      Array.from({ length: WORKERS }, () => {
        const data: CountUnderLock = { dist: DIST, shared, rounds: ROUNDS, backend: 'native' };
        const w = fixtureWorker('count_under_lock_worker.ts', data);
        return new Promise<{ backend: string; stats: { sections: number; yielded: number } }>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        });
      }),
    );
    const k = statsDelta(before, readStats());
    const yielded = results.reduce((n, r) => n + r.stats.yielded, 0);
    figures.push(
      `      SliceMutex, ${WORKERS} workers x ${ROUNDS}: yielded ${yielded}; debugfs sgrant ${k.sgrant}, syield ${k.syield}, srevok ${k.srevok}, sabort ${k.sabort}`,
    );
    expect(results.map((r) => r.backend)).to.deep.equal(Array(WORKERS).fill('native'));
    expect(results.map((r) => r.stats.sections)).to.deep.equal(Array(WORKERS).fill(ROUNDS));
    expect(new Int32Array(shared, 8, 1)[0]).to.equal(WORKERS * ROUNDS);
    // A grant that ends in unlock()'s futex wake counts as an abort, not a yield, so only the
    // bound holds: every yield we counted is one the kernel counted.
    expect(yielded).to.be.at.most(k.syield);
  });
});
