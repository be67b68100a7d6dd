/**
 * Guest suite under Debian 11's glibc 2.31 (variant glibc-2.31: node runs through that glibc's
 * loader). glibc before 2.35 registers no rseq area, so the addon registers its own optimized
 * one with no GLIBC_TUNABLES: the best case for old distributions. Real grants, checked against
 * debugfs rseq/stats.
 */
import { expect } from 'chai';
import { detect } from '../../lib';
import { bootDescription, withLongExtension } from './guest';
import { runScenario, runScenarioUntilYielded, type SectionPath } from './scenario';

const SECONDS = Number(process.env.RSEQ_SLICE_VM_SECONDS ?? 2);

describe(`guest under glibc 2.31: ${bootDescription()}`, function () {
  this.timeout(600_000);

  it('the addon loads under glibc 2.31 and registers its own optimized area', () => {
    const d = detect();
    expect(d.platform.libc).to.equal('glibc 2.31');
    expect(d.addon, d.addon.error).to.deep.include({ loaded: true });
    expect(d.rseq.libcRseqSize, 'glibc 2.31 has no __rseq_size').to.equal(null);
    expect(d.rseq).to.deep.include({ registered: true, owner: 'addon', mode: 'optimized' });
    expect(d.sliceExtension.available, d.sliceExtension.reason).to.equal(true);
    expect(d.backend).to.equal('native');
  });

  describe('real grants (pinned, a noise thread, slice_ext_nsec 50000): yielded equals debugfs syield', () => {
    const figures: string[] = [];
    withLongExtension(figures, SECONDS);
    const cases: Array<[SectionPath, number]> = [
      ['javascript', 20000],
      ['native-loop', 20000],
    ];
    for (const [p, spinNs] of cases) {
      const label = `${p} path, ${spinNs / 1000} µs sections, main thread`;
      it(label, async () => {
        await runScenarioUntilYielded(label, () => runScenario(p, spinNs, SECONDS, 0), 1, figures);
      });
    }
  });
});
