/**
 * Fuzzing the simulator: seeded random sequences of user and kernel operations, checking the
 * spec's invariants after every step. Reproducible: a failure names its seed and step.
 */
import { expect } from 'chai';
import { SimulatedKernel, SimulatedSignal } from '../../lib';
import {
  OFFSET_GRANTED,
  OFFSET_REQUEST,
  OFFSET_SLICE_CTRL,
  ORIG_RSEQ_SIZE,
  PR_RSEQ_SLICE_EXT_ENABLE,
  PR_RSEQ_SLICE_EXTENSION,
  PR_RSEQ_SLICE_EXTENSION_SET,
} from '../../lib/kernel/abi';
import { RseqError } from '../../lib/errors';
import { SeededRandom } from '../../lib/simulator/random';

const SEQUENCES = Number(process.env.RSEQ_SLICE_FUZZ_SEQUENCES ?? 3000);
const STEPS = 60;

type Op = (t: ReturnType<SimulatedKernel['createThread']>, k: SimulatedKernel, r: SeededRandom) => void;

// User-space operations are well-behaved (set request only outside a grant, as enter() does;
// clear it); kernel entries are arbitrary.
const OPS: Array<[string, Op]> = [
  [
    'request=1',
    (t) => {
      if (t.area[OFFSET_GRANTED] === 0) t.area[OFFSET_REQUEST] = 1;
    },
  ],
  ['request=0', (t) => (t.area[OFFSET_REQUEST] = 0)],
  ['interrupt', (t, _k, r) => t.interrupt({ needResched: r.next() < 0.8, workPending: r.next() < 0.2 })],
  ['syscall', (t) => void t.syscall('write')],
  ['yield', (t) => void t.sliceYield()],
  // The grant timer may fire inside the syscall's entry, before the slice work (R18).
  ['late syscall', (t, _k, r) => void t.syscall('write', { entryNs: Math.floor(r.next() * 8000) })],
  ['late yield', (t, _k, r) => void t.sliceYield({ entryNs: Math.floor(r.next() * 8000) })],
  ['advance', (_t, k, r) => k.advance(Math.floor(r.next() * 8000))],
  ['enable', (t) => void t.prctl(PR_RSEQ_SLICE_EXTENSION, PR_RSEQ_SLICE_EXTENSION_SET, PR_RSEQ_SLICE_EXT_ENABLE)],
  ['disable', (t) => void t.prctl(PR_RSEQ_SLICE_EXTENSION, PR_RSEQ_SLICE_EXTENSION_SET, 0)],
  [
    'register',
    (t, _k, r) => void t.registerRseq({ length: r.next() < 0.3 ? ORIG_RSEQ_SIZE : 64, defaultOn: r.next() < 0.5 }),
  ],
  ['unregister', (t) => void t.unregisterRseq()],
];

describe(`simulator fuzz: ${SEQUENCES} seeded sequences of ${STEPS} operations`, () => {
  it('keeps the invariants: request and granted never both set after a kernel step, no grant without enable, counters consistent', () => {
    let grantsSeen = 0;
    for (let seed = 1; seed <= SEQUENCES; seed++) {
      const r = new SeededRandom(seed);
      const k = new SimulatedKernel({ seed, preemptive: seed % 2 === 0 });
      const t = k.createThread();
      const trail: string[] = [];
      for (let step = 0; step < STEPS; step++) {
        const [name, op] = OPS[Math.floor(r.next() * OPS.length)]!;
        trail.push(name);
        const where = `seed ${seed}, step ${step}: ${trail.join(' ')}`;
        const grantsBefore = t.counters.grants;
        const enabledBefore = t.enabled;
        const requestBefore = t.area[OFFSET_REQUEST];
        try {
          op(t, k, r);
        } catch (e) {
          if (e instanceof SimulatedSignal) {
            // Well-behaved user code is only killed by the rule that a new request must not be
            // set at the first syscall after a revoked grant (R26).
            expect(e.reason, where).to.contain('revoked grant');
            break;
          }
          if (!(e instanceof RseqError)) throw new Error(`${where}: unexpected ${String(e)}`);
        }
        const granted = t.area[OFFSET_GRANTED];
        const request = t.area[OFFSET_REQUEST];
        if (name !== 'request=1')
          expect(request !== 0 && granted !== 0, `${where}: request and granted both set`).to.equal(false);
        if (t.counters.grants > grantsBefore) {
          grantsSeen++;
          expect(enabledBefore, `${where}: grant without enable`).to.equal(true);
          expect(requestBefore, `${where}: grant without request`).to.equal(1);
          expect(t.registrationMode, `${where}: grant on a ${t.registrationMode} registration`).to.equal('optimized');
        }
        const c = t.counters;
        const outstanding = t.grantExpiry === null ? 0 : 1;
        // A grant ends at most once with a counter; on a preemptive kernel a timer firing in a
        // syscall's entry ends one with none, so equality holds only without preemption.
        const ended = c.yields + c.revocations + c.aborts + outstanding;
        if (k.preemptive)
          expect(c.grants, `${where}: grants >= yields + revocations + aborts + outstanding`).to.be.at.least(ended);
        else expect(c.grants, `${where}: grants = yields + revocations + aborts + outstanding`).to.equal(ended);
        expect(c.expirations, `${where}: at most one expiration per grant`).to.be.at.most(c.grants);
        if (t.grantExpiry !== null) {
          expect(granted, `${where}: a live grant shows granted=1`).to.equal(1);
          expect(new DataView(t.area.buffer).getUint32(OFFSET_SLICE_CTRL, true), `${where}: exactly granted`).to.equal(
            0x100,
          );
        }
      }
    }
    expect(grantsSeen, 'the fuzzer reaches grants').to.be.greaterThan(100);
  });
});
