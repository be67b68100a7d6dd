/**
 * Guest suite under Debian 11's glibc 2.31 (variant glibc-2.31: node runs through that glibc's
 * loader). glibc before 2.35 registers no rseq area, so the addon registers its own optimized
 * one with no GLIBC_TUNABLES: the best case for old distributions. Real grants, checked against
 * debugfs rseq/stats.
 */
import { expect } from 'chai';
import { detect } from '../../lib';
import { bootDescription, setExtensionNsec } from './guest';
import { runScenario, type SectionPath } from './scenario';

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

  describe('real grants (pinned, a noise thread, slice_ext_nsec 50000)', () => {
    let previousNsec = 5000;
    before(() => {
      // Under TCG the default 5 µs extension usually runs out before a section ends.
      previousNsec = setExtensionNsec(50000);
    });
    after(() => setExtensionNsec(previousNsec));

    const cases: Array<[SectionPath, number]> = [
      ['javascript', 20000],
      ['native-loop', 20000],
    ];
    for (const [p, spinNs] of cases) {
      it(`${p} path, ${spinNs / 1000} µs sections: yielded equals debugfs syield`, async () => {
        const r = await runScenario(p, spinNs, SECONDS, 0);
        const t = r.total;
        const k = r.kernel;
        console.log(
          `      sections ${t.sections}, clean ${t.clean}, yielded ${t.yielded}, raced ${t.raced}, revoked ${t.revoked}; debugfs sgrant ${k.sgrant}, syield ${k.syield}, srevok ${k.srevok}, sexpir ${k.sexpir}, sabort ${k.sabort}`,
        );
        expect(t.clean + t.yielded + t.raced + t.revoked, 'outcomes add up').to.equal(t.sections);
        expect(t.yielded, 'real grants yielded').to.be.greaterThan(0);
        // kernel/rseq.c: rseq_slice_yield counts syield exactly when it ends a grant and then
        // returns 1, which is what our exit path counts as yielded; nothing else yields here.
        expect(k.syield).to.equal(t.yielded);
        // Every grant ends as a yield, a revocation or an abort (the same file's stat counters).
        expect(k.sgrant).to.equal(k.syield + k.srevok + k.sabort);
      });
    }
  });
});
