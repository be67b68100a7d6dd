/**
 * The simulated kernel, rule by rule (docs/simulator.md "Simulator fidelity" lists each rule with the test
 * name that checks it), then the facade's simulator backend and the kernel selftest scenario.
 */
import { expect } from 'chai';
import { open, RseqError, SimulatedKernel, SimulatedSignal, type SimulatedThread } from '../../lib';
import {
  OFFSET_FLAGS,
  OFFSET_GRANTED,
  OFFSET_REQUEST,
  OFFSET_SLICE_CTRL,
  PR_RSEQ_SLICE_EXTENSION as PR,
  PR_RSEQ_SLICE_EXTENSION_GET as GET,
  PR_RSEQ_SLICE_EXTENSION_SET as SET,
  RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE,
  RSEQ_CS_FLAG_SLICE_EXT_ENABLED,
} from '../../lib/kernel/abi';
import { runSliceTest } from '../support/slice_test_scenario';

function flags(t: SimulatedThread): number {
  return new DataView(t.area.buffer).getUint32(OFFSET_FLAGS, true);
}

function enabledThread(kernel = new SimulatedKernel()): SimulatedThread {
  const t = kernel.createThread();
  t.registerRseq();
  t.prctl(PR, SET, 1);
  return t;
}

function expectErrno(fn: () => unknown, code: string): void {
  expect(fn).to.throw(RseqError).with.property('code', code);
}

describe('simulated kernel: prctl', () => {
  it('R1 arg4 or arg5 non-zero → EINVAL (checked first)', () => {
    const t = enabledThread();
    expectErrno(() => t.prctl(PR, GET, 0, 1, 0), 'EINVAL');
    expectErrno(() => t.prctl(PR, SET, 1, 0, 1), 'EINVAL');
    expectErrno(() => new SimulatedKernel({ configured: false }).createThread().prctl(PR, GET, 0, 1), 'EINVAL');
  });

  it('R2 kernel built without CONFIG_RSEQ_SLICE_EXTENSION → ENOTSUPP for GET and SET', () => {
    const t = new SimulatedKernel({ configured: false }).createThread();
    expectErrno(() => t.prctl(PR, GET, 0), 'ENOTSUPP');
    expectErrno(() => t.prctl(PR, SET, 1), 'ENOTSUPP');
    expect(() => t.prctl(PR, GET, 0))
      .to.throw(RseqError)
      .with.property('errno', 524);
  });

  it('R3 GET: arg3 non-zero → EINVAL; otherwise 1 when enabled, else 0, registered or not', () => {
    const t = new SimulatedKernel().createThread();
    expect(t.prctl(PR, GET, 0)).to.equal(0);
    expectErrno(() => t.prctl(PR, GET, 1), 'EINVAL');
    t.registerRseq();
    expect(t.prctl(PR, GET, 0)).to.equal(0);
    t.prctl(PR, SET, 1);
    expect(t.prctl(PR, GET, 0)).to.equal(1);
    expect(new SimulatedKernel({ bootEnabled: false }).createThread().prctl(PR, GET, 0)).to.equal(0);
  });

  it('R4 SET: arg3 other than 0 or ENABLE → EINVAL; unknown op → EINVAL', () => {
    const t = new SimulatedKernel().createThread();
    t.registerRseq();
    expectErrno(() => t.prctl(PR, SET, 2), 'EINVAL');
    expectErrno(() => t.prctl(PR, 3, 0), 'EINVAL');
    expectErrno(() => t.prctl(PR, 0, 0), 'EINVAL');
    expectErrno(() => t.prctl(42, GET, 0), 'EINVAL');
  });

  it('R5 SET order: disabled at boot → ENOTSUPP, before no registration → ENXIO, before legacy → ENOTSUPP', () => {
    expectErrno(() => new SimulatedKernel({ bootEnabled: false }).createThread().prctl(PR, SET, 1), 'ENOTSUPP');
    expectErrno(() => new SimulatedKernel().createThread().prctl(PR, SET, 1), 'ENXIO');
    const legacy = new SimulatedKernel().createThread();
    legacy.registerRseq({ length: 32 });
    expectErrno(() => legacy.prctl(PR, SET, 1), 'ENOTSUPP');
    expectErrno(() => legacy.prctl(PR, SET, 0), 'ENOTSUPP');
  });

  it('R6 SET with no change returns 0; a change sets or clears the ENABLED bit', () => {
    const t = new SimulatedKernel().createThread();
    t.registerRseq();
    expect(t.prctl(PR, SET, 0)).to.equal(0);
    expect(flags(t)).to.equal(RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE);
    expect(t.prctl(PR, SET, 1)).to.equal(0);
    expect(flags(t)).to.equal(RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE | RSEQ_CS_FLAG_SLICE_EXT_ENABLED);
    expect(t.prctl(PR, SET, 1)).to.equal(0);
    expect(t.prctl(PR, SET, 0)).to.equal(0);
    expect(flags(t)).to.equal(RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE);
  });

  it('R7 SET after user space cleared the AVAILABLE bit → SIGSEGV', () => {
    const t = new SimulatedKernel().createThread();
    t.registerRseq();
    new DataView(t.area.buffer).setUint32(OFFSET_FLAGS, 0, true);
    expect(() => t.prctl(PR, SET, 1)).to.throw(SimulatedSignal);
    expect(t.terminated).to.equal('SIGSEGV');
  });
});

describe('simulated kernel: registration', () => {
  it('R8 an optimized registration gets AVAILABLE; a legacy one gets flags 0 and is left alone', () => {
    const k = new SimulatedKernel();
    const opt = k.createThread();
    opt.registerRseq();
    expect(opt.registrationMode).to.equal('optimized');
    expect(flags(opt)).to.equal(RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE);
    const legacy = k.createThread();
    legacy.registerRseq({ length: 32 });
    expect(legacy.registrationMode).to.equal('legacy');
    expect(flags(legacy)).to.equal(0);
    opt.unregisterRseq();
    expect(flags(opt)).to.equal(RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE); // left as it was
    opt.registerRseq({ length: 32 });
    expect(flags(opt)).to.equal(0); // rewritten at every registration
  });

  it('R9 no AVAILABLE bit when disabled at boot or compiled out', () => {
    const off = new SimulatedKernel({ bootEnabled: false }).createThread();
    off.registerRseq();
    expect(flags(off)).to.equal(0);
    const out = new SimulatedKernel({ configured: false }).createThread();
    out.registerRseq();
    expect(flags(out)).to.equal(0);
  });

  it('R10 RSEQ_FLAG_SLICE_EXT_DEFAULT_ON registers enabled; ignored on a legacy registration', () => {
    const t = new SimulatedKernel().createThread();
    t.registerRseq({ defaultOn: true });
    expect(t.prctl(PR, GET, 0)).to.equal(1);
    expect(flags(t)).to.equal(RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE | RSEQ_CS_FLAG_SLICE_EXT_ENABLED);
    const legacy = new SimulatedKernel().createThread();
    legacy.registerRseq({ length: 32, defaultOn: true });
    expect(legacy.prctl(PR, GET, 0)).to.equal(0);
  });

  it('R11 length checks: < 32 → EINVAL, 33..63 accepted (feature size 33), re-register → EBUSY/EINVAL', () => {
    const k = new SimulatedKernel();
    expectErrno(() => k.createThread().registerRseq({ length: 16 }), 'EINVAL');
    const t = k.createThread();
    t.registerRseq({ length: 33 });
    expect(t.registrationMode).to.equal('optimized');
    expectErrno(() => t.registerRseq({ length: 33 }), 'EBUSY');
    expectErrno(() => t.registerRseq({ length: 64 }), 'EINVAL');
  });

  it('R12 unregistering drops the extension state; flags and slice_ctrl are left as they were', () => {
    const t = enabledThread();
    t.area[OFFSET_REQUEST] = 1;
    t.interrupt();
    expect(t.area[OFFSET_GRANTED]).to.equal(1);
    t.unregisterRseq();
    expect(t.prctl(PR, GET, 0)).to.equal(0);
    expect(t.grantExpiry).to.equal(null);
    expect(new DataView(t.area.buffer).getInt32(4, true)).to.equal(-1);
    expect(flags(t)).to.equal(RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE | RSEQ_CS_FLAG_SLICE_EXT_ENABLED);
    expectErrno(() => t.prctl(PR, SET, 1), 'ENXIO');
    expectErrno(() => t.unregisterRseq(), 'EINVAL');
  });

  it('R13 fork keeps the registration and the enabled state; a new thread starts disabled', () => {
    const t = enabledThread();
    const child = t.fork();
    expect(child.prctl(PR, GET, 0)).to.equal(1);
    expect(child.registrationMode).to.equal('optimized');
    expect(t.kernel.createThread().prctl(PR, GET, 0)).to.equal(0);
  });
});

describe('simulated kernel: grants and revocations', () => {
  it('R14 grant only on an interrupt return with a reschedule pending, request set and the extension enabled', () => {
    const t = enabledThread();
    t.interrupt(); // request 0: scheduled as usual
    expect(t.counters).to.include({ grants: 0, schedules: 1 });
    t.area[OFFSET_REQUEST] = 1;
    t.interrupt({ needResched: false }); // nothing to do
    expect(t.area[OFFSET_REQUEST]).to.equal(1);
    t.syscall('getpid'); // never on a syscall
    expect(t.counters.grants).to.equal(0);
    t.interrupt();
    expect(t.area[OFFSET_REQUEST]).to.equal(0);
    expect(t.area[OFFSET_GRANTED]).to.equal(1);
    expect(t.grantExpiry).to.equal(t.kernel.now + t.kernel.extensionNsec);
    expect(t.counters.grants).to.equal(1);
  });

  it('R15 no grant when the extension is disabled or the registration is legacy', () => {
    const k = new SimulatedKernel();
    const off = k.createThread();
    off.registerRseq();
    off.area[OFFSET_REQUEST] = 1;
    off.interrupt();
    expect(off.counters.grants).to.equal(0);
    expect(off.area[OFFSET_REQUEST]).to.equal(0); // scheduled: the switch cleared slice_ctrl
    const legacy = k.createThread();
    legacy.registerRseq({ length: 32 });
    legacy.area[OFFSET_REQUEST] = 1;
    legacy.interrupt();
    expect(legacy.counters.grants).to.equal(0);
    expect(legacy.area[OFFSET_REQUEST]).to.equal(1); // the kernel never touches a legacy slice_ctrl
  });

  it('R16 no grant with other work pending: slice_ctrl cleared and the thread scheduled', () => {
    const t = enabledThread();
    t.area[OFFSET_REQUEST] = 1;
    t.interrupt({ workPending: true });
    expect(t.counters).to.include({ grants: 0, schedules: 1 });
    expect(new DataView(t.area.buffer).getUint32(OFFSET_SLICE_CTRL, true)).to.equal(0);
  });

  it('R17 a second interrupt while granted revokes the grant and schedules', () => {
    const t = enabledThread();
    t.area[OFFSET_REQUEST] = 1;
    t.interrupt();
    t.interrupt();
    expect(t.counters).to.include({ grants: 1, revocations: 1, schedules: 1 });
    expect(t.area[OFFSET_GRANTED]).to.equal(0);
    expect(t.sliceYield()).to.equal(0);
  });

  it('R18 timer expiry revokes the grant at exactly now + extensionNsec', () => {
    const t = enabledThread(new SimulatedKernel({ extensionNsec: 10000 }));
    t.area[OFFSET_REQUEST] = 1;
    t.interrupt();
    t.kernel.advance(9999);
    expect(t.area[OFFSET_GRANTED]).to.equal(1);
    t.kernel.advance(1);
    expect(t.area[OFFSET_GRANTED]).to.equal(0);
    expect(t.counters).to.include({ expirations: 1, revocations: 1, schedules: 1 });
    expect(t.kernel.now).to.equal(10000);
  });

  it("R18 a timer firing inside a syscall's entry counts an expiry and no revocation", () => {
    // Preemptive kernel: scheduled in the entry, the grant ends with no counter, the yield answers 0.
    const t = enabledThread(new SimulatedKernel({ extensionNsec: 5000 }));
    t.area[OFFSET_REQUEST] = 1;
    t.interrupt();
    t.kernel.advance(4000);
    expect(t.sliceYield({ entryNs: 1000 })).to.equal(0);
    expect(t.counters).to.include({ grants: 1, expirations: 1, revocations: 0, yields: 0, aborts: 0, schedules: 1 });
    expect(new DataView(t.area.buffer).getUint32(OFFSET_SLICE_CTRL, true)).to.equal(0);
    // Non-preemptive kernel: the slice work still ends it as a yield (or an abort).
    const n = enabledThread(new SimulatedKernel({ extensionNsec: 5000, preemptive: false }));
    n.area[OFFSET_REQUEST] = 1;
    n.interrupt();
    expect(n.sliceYield({ entryNs: 6000 })).to.equal(1);
    expect(n.counters).to.include({ grants: 1, expirations: 1, revocations: 0, yields: 1, schedules: 1 });
    n.area[OFFSET_REQUEST] = 1;
    n.interrupt();
    n.syscall('write', { entryNs: 5000 });
    expect(n.counters).to.include({ grants: 2, expirations: 2, revocations: 0, aborts: 1 });
    // A window the timer does not fall in changes nothing; bad input is rejected.
    n.area[OFFSET_REQUEST] = 1;
    n.interrupt();
    expect(n.sliceYield({ entryNs: 4999 })).to.equal(1);
    expect(n.counters.expirations).to.equal(2);
    expect(() => n.sliceYield({ entryNs: -1 })).to.throw(RangeError);
    expect(() => n.syscall('write', { entry: 1 } as never)).to.throw(TypeError);
    expect(() => new SimulatedKernel({ preemptive: 1 as never })).to.throw(TypeError);
  });

  it('R19 any syscall other than yield ends the grant (abort) and schedules', () => {
    const t = enabledThread();
    t.area[OFFSET_REQUEST] = 1;
    t.interrupt();
    t.syscall('write');
    expect(t.counters).to.include({ aborts: 1, yields: 0, schedules: 1 });
    expect(t.area[OFFSET_GRANTED]).to.equal(0);
    expect(t.grantExpiry).to.equal(null);
  });

  it('R20 rseq_slice_yield returns 1 when it ends a grant, 0 otherwise', () => {
    const t = enabledThread();
    expect(t.sliceYield()).to.equal(0);
    t.area[OFFSET_REQUEST] = 1;
    t.interrupt();
    t.area[OFFSET_REQUEST] = 0; // the exit path clears request (already 0): harmless
    expect(t.sliceYield()).to.equal(1);
    expect(t.counters.yields).to.equal(1);
    expect(t.sliceYield()).to.equal(0);
  });

  it('R21 disable while granted: the prctl syscall ends the grant first, then disables', () => {
    const t = enabledThread();
    t.area[OFFSET_REQUEST] = 1;
    t.interrupt();
    expect(t.prctl(PR, SET, 0)).to.equal(0);
    expect(t.counters.aborts).to.equal(1);
    expect(t.prctl(PR, GET, 0)).to.equal(0);
    t.area[OFFSET_REQUEST] = 1;
    t.interrupt();
    expect(t.counters.grants).to.equal(1);
  });

  it('R22 advance() fires timers in time order across threads and rejects bad input', () => {
    const k = new SimulatedKernel({ extensionNsec: 5000 });
    const a = enabledThread(k);
    a.area[OFFSET_REQUEST] = 1;
    a.interrupt();
    k.advance(2000);
    const b = enabledThread(k);
    b.area[OFFSET_REQUEST] = 1;
    b.interrupt();
    k.advance(4000);
    expect(a.counters.expirations).to.equal(1);
    expect(b.counters.expirations).to.equal(0);
    k.advance(1000);
    expect(b.counters.expirations).to.equal(1);
    expect(() => k.advance(-1)).to.throw(RangeError);
    expect(() => k.advance(NaN)).to.throw(RangeError);
  });

  it('R23 extension length: default 5000 ns, bounds 5000..50000, ERANGE outside', () => {
    const k = new SimulatedKernel();
    expect(k.extensionNsec).to.equal(5000);
    k.setExtensionNsec(50000);
    expect(k.extensionNsec).to.equal(50000);
    expectErrno(() => k.setExtensionNsec(60000), 'ERANGE');
    expectErrno(() => k.setExtensionNsec(4999), 'ERANGE');
    expect(() => new SimulatedKernel({ extensionNsec: 1 })).to.throw(RangeError, /5000 to 50000/);
  });
});

describe('simulated kernel: strict (rseq_debug) checks', () => {
  it('R24 user space setting granted → SIGSEGV, and every later call throws', () => {
    const t = enabledThread();
    t.area[OFFSET_GRANTED] = 1;
    expect(() => t.interrupt()).to.throw(SimulatedSignal, /granted/);
    expect(t.terminated).to.equal('SIGSEGV');
    expect(() => t.sliceYield()).to.throw(SimulatedSignal);
    expect(() => t.prctl(PR, GET, 0)).to.throw(SimulatedSignal);
  });

  it('R25 re-setting request while granted → SIGSEGV at the next syscall', () => {
    const t = enabledThread();
    t.area[OFFSET_REQUEST] = 1;
    t.interrupt();
    t.area[OFFSET_REQUEST] = 1;
    expect(() => t.sliceYield()).to.throw(SimulatedSignal, /grant was outstanding/);
  });

  it('R26 after a revoked grant, request set again at the first syscall → SIGSEGV', () => {
    const t = enabledThread();
    t.area[OFFSET_REQUEST] = 1;
    t.interrupt();
    t.interrupt(); // revoked
    t.area[OFFSET_REQUEST] = 1; // a new section starts before any syscall
    expect(() => t.syscall('write')).to.throw(SimulatedSignal, /revoked grant/);
  });

  it('R27 a syscall inside a section that got no grant is harmless', () => {
    const t = enabledThread();
    t.area[OFFSET_REQUEST] = 1;
    t.syscall('write');
    expect(t.terminated).to.equal(null);
    expect(t.area[OFFSET_REQUEST]).to.equal(1);
  });

  it('R28 writing the reserved bytes or a kernel-owned id → SIGSEGV', () => {
    const t = enabledThread();
    t.area[OFFSET_SLICE_CTRL + 2] = 1;
    expect(() => t.syscall()).to.throw(SimulatedSignal, /reserved/);
    const u = enabledThread();
    new DataView(u.area.buffer).setInt32(4, 7, true);
    expect(() => u.interrupt()).to.throw(SimulatedSignal, /kernel-owned id/);
  });

  it('R29 tampering with flags → SIGSEGV', () => {
    const t = enabledThread();
    new DataView(t.area.buffer).setUint32(OFFSET_FLAGS, RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE, true);
    expect(() => t.interrupt()).to.throw(SimulatedSignal, /flags/);
  });

  it('R30 bad arguments are TypeErrors, not silent defaults', () => {
    const t = new SimulatedKernel().createThread();
    expect(() => t.prctl(PR, 1.5)).to.throw(TypeError, /arg2 must be an integer/);
    expect(() => t.registerRseq({ length: -1 })).to.throw(RangeError);
    expect(() => t.interrupt({ needResched: 1 } as never)).to.throw(TypeError, /needResched must be true or false/);
    expect(() => new SimulatedKernel({ seeed: 1 } as never)).to.throw(TypeError, /unknown option "seeed"/);
  });
});

describe('simulator backend of open()', () => {
  it('at interrupt rate 0 every section is clean', () => {
    const h = open({ backend: 'simulator', simulator: { interruptRateHz: 0 } });
    for (let i = 0; i < 10000; i++) h.run(() => i);
    expect(h.stats).to.deep.equal({ sections: 10000, clean: 10000, yielded: 0, raced: 0, revoked: 0 });
  });

  it('at a high interrupt rate shows all four outcomes, adding up', () => {
    const h = open({ backend: 'simulator', simulator: { seed: 7, interruptRateHz: 2e6, sectionNsec: 2000 } });
    for (let i = 0; i < 20000; i++) h.run(() => i);
    const s = h.stats;
    expect(s.clean).to.be.greaterThan(0);
    expect(s.yielded).to.be.greaterThan(0);
    expect(s.raced).to.be.greaterThan(0);
    expect(s.revoked).to.be.greaterThan(0);
    expect(s.clean + s.yielded + s.raced + s.revoked).to.equal(s.sections);
  });

  it('a section longer than the extension is revoked by timer expiry', () => {
    const kernel = new SimulatedKernel({ extensionNsec: 5000, seed: 3 });
    const h = open({ backend: 'simulator', simulator: { kernel, interruptRateHz: 1e6, sectionNsec: 50000 } });
    for (let i = 0; i < 200; i++) h.run(() => i);
    expect(h.stats.revoked).to.be.greaterThan(0);
  });

  it('a syscall inside a section after a revoked one does not kill the thread (exit disarms the kernel check)', () => {
    const kernel = new SimulatedKernel({ seed: 5 });
    const h = open({ backend: 'simulator', simulator: { kernel, interruptRateHz: 2e6, sectionNsec: 2000 } });
    const thread = kernel.threads[0]!;
    for (let i = 0; i < 5000; i++) {
      h.enter();
      thread.syscall('write'); // e.g. V8 collecting garbage inside the section
      h.exit();
    }
    expect(h.stats.revoked, 'the run contains revoked sections').to.be.greaterThan(0);
    expect(thread.terminated).to.equal(null);
    expect(thread.counters.yields).to.equal(h.stats.yielded); // disarming yields end no grant
  });

  it('seed 7 at 2 MHz: exactly the outcomes this seed has always given (the exit path and the interrupt loop unchanged)', () => {
    // Recorded from the implementation before the exit path became one (commit a468cee) and
    // unchanged since: the seeded interrupts and every exit decision are deterministic.
    const h = open({ backend: 'simulator', simulator: { seed: 7, interruptRateHz: 2e6, sectionNsec: 2000 } });
    for (let i = 0; i < 20000; i++) h.run(() => i);
    expect(h.stats).to.deep.equal({ sections: 20000, clean: 379, yielded: 1176, raced: 254, revoked: 18191 });
  });

  it('outcomes driven by hand on a handle without simulated interrupts: clean, yielded, revoked', () => {
    const kernel = new SimulatedKernel();
    const h = open({ backend: 'simulator', simulator: { kernel } });
    const thread = kernel.threads[0]!;
    h.enter();
    expect(h.exit()).to.equal('clean');
    h.enter();
    thread.interrupt(); // a reschedule pending while requested: granted
    expect(thread.area[OFFSET_GRANTED]).to.equal(1);
    expect(h.exit()).to.equal('yielded');
    h.enter();
    thread.interrupt();
    thread.interrupt(); // a second interrupt revokes the grant: both bytes clear
    expect(h.exit()).to.equal('revoked');
    expect(h.stats).to.deep.equal({ sections: 3, clean: 1, yielded: 1, raced: 0, revoked: 1 });
    expect(thread.counters.yields, 'syield counts the grant the yield ended, not the disarming yield').to.equal(1);
  });

  it('exitAround runs its callback once request is clear and before the grant is looked at, on every outcome', () => {
    const kernel = new SimulatedKernel();
    const h = open({ backend: 'simulator', simulator: { kernel } });
    const thread = kernel.threads[0]!;
    const seen: number[][] = [];
    const between = (): void => {
      seen.push([thread.area[OFFSET_REQUEST]!, thread.area[OFFSET_GRANTED]!, thread.counters.yields]);
    };
    h.enter();
    expect(h.exitAround(between)).to.equal('clean');
    h.enter();
    thread.interrupt();
    expect(h.exitAround(between)).to.equal('yielded');
    h.enter();
    thread.interrupt();
    thread.interrupt();
    expect(h.exitAround(between)).to.equal('revoked');
    h.enter();
    h.enter();
    expect(h.exitAround(between), 'an inner exit').to.equal('clean');
    h.exit();
    // [request, granted, grants yielded so far] inside the callback: request already 0, no yield yet.
    expect(seen).to.deep.equal([
      [0, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
      [1, 0, 1],
    ]);
    expect(h.stats).to.deep.equal({ sections: 4, clean: 2, yielded: 1, raced: 0, revoked: 1 });
  });

  it('same seed and section length, same outcomes', () => {
    const run = (): unknown => {
      const h = open({ backend: 'simulator', simulator: { seed: 42, interruptRateHz: 5e5, sectionNsec: 3000 } });
      const outcomes: string[] = [];
      for (let i = 0; i < 2000; i++) {
        h.enter();
        outcomes.push(h.exit());
      }
      return outcomes;
    };
    expect(run()).to.deep.equal(run());
  });
});

describe('kernel selftest scenario (slice_test.c) on the simulator', () => {
  it('reports the selftest counters: total, success, yielded, scheduled, raced, aborted', () => {
    const r = runSliceTest({ sections: 20000, sectionNsec: 2000, interruptRateHz: 2e5, seed: 1 });
    console.log(`      selftest counters: ${JSON.stringify(r)}`);
    // Deterministic for the seed; recorded before the Poisson loop moved into lib/simulator/simulated_interrupts.ts.
    expect(r).to.deep.equal({ total: 20000, success: 13323, yielded: 5475, scheduled: 1202, raced: 103, aborted: 0 });
    expect(r.total).to.equal(20000);
    expect(r.success + r.yielded + r.scheduled).to.equal(r.total);
    expect(r.raced).to.be.at.most(r.yielded);
    expect(r.yielded).to.be.greaterThan(0);
    expect(r.aborted).to.equal(0);
    const noYield = runSliceTest({ sections: 20000, sectionNsec: 2000, interruptRateHz: 2e5, seed: 1, noYield: true });
    expect(noYield.aborted).to.be.greaterThan(0);
  });
});
