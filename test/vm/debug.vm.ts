/** Guest suite, booted with rseq_debug=1 (strict checks): a million sections per path, no SIGSEGV. */
import { expect } from 'chai';
import { DIST } from '../support/paths';
import { runFixture } from '../support/child_node';
import { bootDescription, expectCheckConforms } from './guest';

const COUNT = Number(process.env.RSEQ_SLICE_VM_DEBUG_SECTIONS ?? 1_000_000);

describe(`guest, strict checks: ${bootDescription()}`, function () {
  this.timeout(900_000);
  // Each path in its own process (test/fixtures/debug_sections_child.ts), with a noise thread, so a
  // SIGSEGV shows as the child's signal.
  for (const p of ['native-loop', 'javascript', 'SliceMutex', 'contended SliceMutex']) {
    it(`${p === 'contended SliceMutex' ? `3 threads x ${COUNT / 10}` : COUNT} sections on the ${p} path${p.includes('SliceMutex') ? ' (lock/unlock)' : ''}`, () => {
      const r = runFixture('debug_sections_child.ts', [DIST, p, String(COUNT)], { timeoutMs: 0 });
      // With rseq_debug=1, kernel/rseq.c rseq_slice_validate_ctrl (at every syscall after a grant)
      // and rseq_set_ids_get_csaddr (ids) send SIGSEGV on any user-space misuse, whatever the
      // timing: a child that ends by a signal means our exit path broke an ABI rule.
      expect(r.signal, r.stderr).to.equal(null);
      expect(r.status, r.stderr).to.equal(0);
      const stats = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { sections: number };
      console.log(`      ${p}: ${JSON.stringify(stats)}`);
      expect(stats.sections).to.equal(p === 'contended SliceMutex' ? 3 * (COUNT / 10) : COUNT);
    });
  }

  it('rseq-slice check conforms with strict checks on (its probes never break an ABI rule)', () => {
    expectCheckConforms('enabled');
  });
});
