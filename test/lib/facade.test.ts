/** The TypeScript facade: open() options, backend choice, sections, nesting, run(), stats. */
import { expect } from 'chai';
import {
  abi,
  detect,
  errnoName,
  open,
  RseqError,
  SimulatedKernel,
  SliceExtension,
  type SimulatedKernelOptions,
} from '../../lib';
import { readOpenOptions } from '../../lib/options';
import { DIST } from '../support/paths';
import { fixtureJson } from '../support/child_node';
import { thrownBy } from '../support/thrown_by';

describe('open(): options', () => {
  const bad: Array<[string, unknown, RegExp]> = [
    ['a non-object', 42, /open options must be an object; got 42/],
    [
      'an unknown option',
      { backnd: 'native' },
      /unknown option "backnd"; accepted: backend, enable, fastPath, simulator/,
    ],
    ['an unknown backend', { backend: 'kernel' }, /backend must be one of 'auto', 'native', 'simulator'; got "kernel"/],
    ['a non-boolean enable', { enable: 'yes' }, /enable must be true or false; got "yes"/],
    ['an unknown fastPath', { fastPath: 'asm' }, /fastPath must be one of 'auto', 'javascript', 'native-call'/],
    [
      'simulator options with the native backend',
      { backend: 'native', simulator: {} },
      /simulator options need backend 'simulator' or 'auto'/,
    ],
    ['an unknown simulator option', { backend: 'simulator', simulator: { rate: 1 } }, /unknown option "rate"/],
    [
      'a NaN interrupt rate',
      { backend: 'simulator', simulator: { interruptRateHz: NaN } },
      /interruptRateHz must be a number from 0 to 1000000000; got NaN/,
    ],
    [
      'a negative interrupt rate',
      { backend: 'simulator', simulator: { interruptRateHz: -1 } },
      /interruptRateHz must be a number from 0/,
    ],
    [
      'a fractional seed',
      { backend: 'simulator', simulator: { seed: 1.5 } },
      /simulator\.seed must be an integer from 0 to 4294967295; got 1.5/,
    ],
    [
      'an extension out of bounds',
      { backend: 'simulator', simulator: { extensionNsec: 60000 } },
      /simulator\.extensionNsec must be an integer from 5000 to 50000; got 60000/,
    ],
    [
      'a kernel that is not a SimulatedKernel',
      { backend: 'simulator', simulator: { kernel: {} } },
      /simulator.kernel must be a SimulatedKernel/,
    ],
  ];
  for (const [what, options, message] of bad) {
    it(`rejects ${what} with an error naming the option and what is accepted`, () => {
      expect(() => open(options as never)).to.throw(message);
    });
  }

  it("reads every option, the simulator's included, before it tries a backend, and builds the kernel from what it read", () => {
    // With 'auto' the native backend answers where the kernel grants, and the simulator options go
    // unused; a bad one is an error all the same (the guest checks open() itself on such a kernel).
    expect(() => readOpenOptions({ simulator: { seed: -1 } })).to.throw(RangeError, /^simulator\.seed must be/);
    expect(() => readOpenOptions({ simulator: { extensionNsec: 1 } })).to.throw(
      RangeError,
      /^simulator\.extensionNsec/,
    );
    const { simulator } = readOpenOptions({ simulator: { seed: 7, extensionNsec: 6000, interruptRateHz: 10 } });
    expect(simulator).to.deep.include({ interruptRateHz: 10, sectionNsec: undefined });
    expect(simulator.kernel).to.include({ seed: 7, extensionNsec: 6000, cpus: 2 });
    const kernel = new SimulatedKernel(simulator.kernel as SimulatedKernelOptions);
    expect({ seed: kernel.seed, extensionNsec: kernel.extensionNsec }).to.deep.equal({ seed: 7, extensionNsec: 6000 });
    // The kernel's own options are named as its constructor's caller passed them.
    expect(() => new SimulatedKernel({ seed: -1 })).to.throw(RangeError, /^seed must be/);
  });

  it('rejects a bad RSEQ_SLICE_BACKEND instead of ignoring it', () => {
    process.env.RSEQ_SLICE_BACKEND = 'fast';
    try {
      expect(() => open()).to.throw(
        TypeError,
        /env RSEQ_SLICE_BACKEND must be one of 'auto', 'native', 'simulator'; got "fast"/,
      );
    } finally {
      delete process.env.RSEQ_SLICE_BACKEND;
    }
  });

  it('lets RSEQ_SLICE_BACKEND pick the simulator', () => {
    process.env.RSEQ_SLICE_BACKEND = 'simulator';
    try {
      expect(open().backend).to.equal('simulator');
    } finally {
      delete process.env.RSEQ_SLICE_BACKEND;
    }
  });
});

describe('open(): backend choice', () => {
  it('auto picks native exactly when detect() says the kernel can grant, and says why not otherwise', () => {
    const d = detect();
    const h = open();
    expect(h.backend).to.equal(d.backend);
    if (h.backend === 'simulator') {
      expect(h.fallbackReason).to.be.a('string').and.not.equal('');
    } else {
      expect(h.fallbackReason).to.equal(undefined);
    }
  });

  it('native throws RseqError with the errno name of the failing call when the kernel cannot grant', function () {
    const d = detect();
    if (d.sliceExtension.available) {
      console.log('      (the kernel grants here: open({ backend: "native" }) succeeds instead)');
      expect(open({ backend: 'native' }).backend).to.equal('native');
      return;
    }
    expect(() => open({ backend: 'native' }))
      .to.throw(RseqError)
      .that.satisfies(
        (e: RseqError) => e.code === (d.sliceExtension.errno ?? 'ELIBACC') && e.errno > 0 && e.syscall.length > 0,
      );
  });

  it('simulator: enable defaults to true and enable: false leaves it off', () => {
    expect(open({ backend: 'simulator' }).enabled).to.equal(true);
    const off = open({ backend: 'simulator', enable: false });
    expect(off.enabled).to.equal(false);
    off.enable();
    off.enable(); // idempotent
    expect(off.enabled).to.equal(true);
    off.disable();
    expect(off.enabled).to.equal(false);
  });
});

describe('SliceExtension: sections', () => {
  it('enter/exit is clean when nothing interrupts, and counts it', () => {
    const h = open({ backend: 'simulator' });
    h.enter();
    expect(h.exit()).to.equal('clean');
    expect(h.stats).to.deep.equal({ sections: 1, clean: 1, yielded: 0, raced: 0, revoked: 0 });
  });

  it('exit() without enter() throws', () => {
    const h = open({ backend: 'simulator' });
    expect(() => h.exit()).to.throw(/exit\(\) without a matching enter\(\)/);
  });

  it('nested enter/run: only the outermost exit clears the request and counts a section', () => {
    const kernel = new SimulatedKernel();
    const h = open({ backend: 'simulator', simulator: { kernel } });
    h.enter();
    h.run(() => {
      h.enter();
      expect(h.exit()).to.equal('clean');
    });
    expect({ sections: h.stats.sections, depth: h.depthLevel }, 'inner ends').to.deep.equal({ sections: 0, depth: 1 });
    expect(h.exit()).to.equal('clean');
    expect({ sections: h.stats.sections, depth: h.depthLevel }, 'outer end').to.deep.equal({ sections: 1, depth: 0 });
  });

  it("run(fn) returns fn's value, and rethrows its error after ending the section", () => {
    const h = open({ backend: 'simulator' });
    expect(h.run(() => 42)).to.equal(42);
    const boom = new Error('boom');
    expect(() =>
      h.run(() => {
        throw boom;
      }),
    ).to.throw(boom);
    expect(h.depthLevel).to.equal(0);
    expect(h.stats.sections).to.equal(2);
  });

  it('run(fn) rejects a fn that returns a promise or thenable, after closing the section', () => {
    const h = open({ backend: 'simulator' });
    const p = Promise.resolve(1);
    expect(() => h.run(() => p)).to.throw(TypeError, /critical section must be synchronous/);
    expect(() => h.run(() => ({ then() {} }))).to.throw(TypeError, /thenable/);
    expect(h.depthLevel).to.equal(0);
  });

  it('run(x) with a non-function is a TypeError', () => {
    const h = open({ backend: 'simulator' });
    expect(() => h.run(42 as never)).to.throw(TypeError, /fn must be a function; got number/);
    expect(() => h.run(null as never)).to.throw(TypeError, /got null/);
    expect(h.depthLevel).to.equal(0);
  });

  it('disable() and enable() inside a section throw', () => {
    const h = open({ backend: 'simulator' });
    h.enter();
    expect(() => h.disable()).to.throw(/disable\(\) inside a critical section/);
    expect(() => h.enable()).to.throw(/enable\(\) inside a critical section/);
    h.exit();
    h.disable();
    expect(h.enabled).to.equal(false);
  });

  it('stats is a copy the caller cannot corrupt', () => {
    const h = open({ backend: 'simulator' });
    h.run(() => 0);
    const s = h.stats;
    s.clean = 1000;
    expect(h.stats.clean).to.equal(1);
  });

  it('yield() outside a grant returns false', () => {
    expect(open({ backend: 'simulator' }).yield()).to.equal(false);
  });

  it('reads cpu, NUMA node and concurrency id from the simulated area where the thread has no real one (addon missing)', () => {
    // In a child: this process has the addon, and with it a real area that cpu() would read.
    const r = fixtureJson<[number, number, number]>('simulated_ids_child.ts', [DIST], {
      env: { RSEQ_SLICE_DISABLE_ADDON: '1' },
    });
    expect(r).to.deep.equal([1, 0, 1]);
  });
});

describe('SliceExtension on the native backend', () => {
  it('runs sections on the native-call path too', function () {
    const d = detect();
    if (!d.sliceExtension.available) {
      console.log(
        `      (skipped: the kernel cannot grant here: ${d.sliceExtension.reason}; the simulator tests cover the same exit path)`,
      );
      this.skip();
    }
    for (const fastPath of ['javascript', 'native-call'] as const) {
      const h = open({ backend: 'native', fastPath });
      expect(h.fastPath).to.equal(fastPath);
      for (let i = 0; i < 1000; i++) h.run(() => i);
      const s = h.stats;
      expect(s.sections).to.equal(1000);
      expect(s.clean + s.yielded + s.raced + s.revoked).to.equal(1000);
      expect(h.flagsEnabled()).to.equal(true);
    }
  });
});

describe('errors at the boundary', () => {
  function withEnvBackend<T>(value: string, f: () => T): T {
    process.env.RSEQ_SLICE_BACKEND = value;
    try {
      return f();
    } finally {
      delete process.env.RSEQ_SLICE_BACKEND;
    }
  }

  it("open({ backend: 'native' }) that the kernel refuses carries detect()'s reason and remedy, and fallbackReason is the same text", function () {
    const d = detect();
    const slice = d.sliceExtension;
    if (slice.available || !d.addon.loaded || !d.rseq.registered) {
      console.log(
        `      (skipped: needs a registered area on a kernel that cannot grant; here: ${slice.reason ?? 'it grants'})`,
      );
      this.skip();
    }
    const err = thrownBy(() => open({ backend: 'native' }));
    expect(err).to.be.instanceOf(RseqError);
    const e = err as RseqError;
    expect(e.code).to.equal(slice.errno);
    expect(e.message).to.equal(
      `${e.syscall} failed: ${slice.errno} (${slice.reason}${slice.remedy ? `; remedy: ${slice.remedy}` : ''})`,
    );
    expect(e.remedy).to.equal(slice.remedy);
    if (slice.errno === 'EINVAL') {
      // A kernel before the feature (this machine's 6.x): GET answers EINVAL.
      expect(e.syscall).to.equal('prctl(PR_RSEQ_SLICE_EXTENSION_GET)');
      expect(e.message).to.match(
        /^prctl\(PR_RSEQ_SLICE_EXTENSION_GET\) failed: EINVAL \(this kernel predates the slice extension/,
      );
      expect(e.message).to.contain('; remedy: run Linux 7.0 or later');
    }
    expect(open().fallbackReason).to.equal(e.message);
  });

  it('a bad RSEQ_SLICE_BACKEND: open() throws, and detect() reports the same message with backend null', () => {
    withEnvBackend('bogus', () => {
      let message = '';
      try {
        open();
      } catch (e) {
        expect(e).to.be.instanceOf(TypeError);
        message = (e as Error).message;
      }
      expect(message).to.match(/env RSEQ_SLICE_BACKEND must be one of 'auto', 'native', 'simulator'; got "bogus"/);
      const d = detect();
      expect(d.backend).to.equal(null);
      expect(d.backendError).to.equal(message);
    });
  });

  it('RSEQ_SLICE_BACKEND=native where the kernel cannot grant: detect() says open() would throw', () => {
    const available = detect().sliceExtension.available;
    withEnvBackend('native', () => {
      const d = detect();
      if (available) {
        expect(d.backend).to.equal('native');
        expect(open().backend).to.equal('native');
        return;
      }
      expect(d.backend).to.equal(null);
      expect(d.backendError).to.contain('RSEQ_SLICE_BACKEND=native, but the kernel cannot grant here');
      expect(() => open()).to.throw(RseqError);
    });
    withEnvBackend('simulator', () => expect(detect().backend).to.equal('simulator'));
  });

  it('new SliceExtension() is a TypeError that points at open()', () => {
    const Ctor = SliceExtension as unknown as new () => SliceExtension;
    expect(() => new Ctor()).to.throw(TypeError, /SliceExtension cannot be constructed with new: use open\(\)/);
  });

  it('errnoName() names positive errnos and rejects anything else with a RangeError', () => {
    expect(errnoName(22)).to.equal('EINVAL');
    expect(errnoName(524)).to.equal('ENOTSUPP');
    expect(errnoName(4000)).to.equal('E4000');
    for (const bad of [-1, 0, 1.5, Number.NaN, Infinity]) {
      expect(() => errnoName(bad), String(bad)).to.throw(
        RangeError,
        /errnoName: errno must be a positive integer \(negate a -errno return value first\); got /,
      );
    }
    expect(() => errnoName(-22)).to.throw(RangeError, /got -22$/);
  });

  it('the exported abi object and its OUTCOMES are frozen', () => {
    expect(Object.isFrozen(abi)).to.equal(true);
    expect(Object.isFrozen(abi.OUTCOMES)).to.equal(true);
    expect(Reflect.set(abi, 'OFFSET_REQUEST', 0), 'an assignment is refused').to.equal(false);
    expect(Reflect.set(abi.OUTCOMES, 0, 'x')).to.equal(false);
    expect(abi.OFFSET_REQUEST).to.equal(28);
    const outcome: abi.Outcome = abi.OUTCOMES[1];
    expect(outcome).to.equal('yielded');
  });
});
