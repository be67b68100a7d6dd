/**
 * The addon's argument checks (native/napi_args.h): every number crossing into C++ is checked for
 * type and range, so NaN, negatives and huge values throw a TypeError or RangeError naming the
 * function and the argument instead of reaching an undefined cast. spinLockLoop's checks are in
 * test/lab/bench_native.test.ts.
 */
import { expect } from 'chai';
import { type NativeAddon } from '../../lib/addon/addon';
import { loadedAddon } from '../support/addon';

type Call = (...args: unknown[]) => unknown;

// A wrong value, the class it must throw, and how the message shows it.
const BAD: [string, unknown, typeof TypeError | typeof RangeError, string][] = [
  ['NaN', NaN, TypeError, 'NaN'],
  ['-1', -1, RangeError, '-1'],
  ['2**64', 2 ** 64, RangeError, '18446744073709552000'],
  ["'1'", '1', TypeError, '"1"'],
  ['undefined', undefined, TypeError, 'undefined'],
  ['1.5', 1.5, TypeError, '1.5'],
  ['Infinity', Infinity, TypeError, 'Infinity'],
  ['1n', 1n, TypeError, '1n'],
  ['{}', {}, TypeError, 'an object'],
];

const UINT32 = 'an integer from 0 to 4294967295';
const SAFE = 'an integer from 0 to 9007199254740991';

describe('native addon: checked arguments at the N-API boundary', function () {
  let addon: NativeAddon;
  before(function () {
    addon = loadedAddon(this);
  });

  // Each argument of each function, with valid values in the other places.
  const cases: { fn: string; call: () => Call; valid: unknown[]; names: string[]; accepted: string }[] = [
    {
      fn: 'prctl',
      call: () => addon.prctl as Call,
      valid: [1, 0, 0, 0],
      names: ['op', 'arg3', 'arg4', 'arg5'],
      accepted: UINT32,
    },
    {
      fn: 'sectionLoop',
      call: () => addon.bench.sectionLoop as Call,
      valid: [0, 0],
      names: ['count', 'spinNs'],
      accepted: SAFE,
    },
    {
      fn: 'readField',
      call: () => addon.readField as Call,
      valid: [0],
      names: ['offset'],
      accepted: 'an integer from 0 to 28',
    },
    {
      fn: 'threadEnded',
      call: () => addon.threadEnded as Call,
      valid: [0],
      names: ['threadId'],
      accepted: `an integer from 0 to ${2 ** 29 - 2}`,
    },
    {
      fn: 'watchThread',
      call: () => addon.watchThread as Call,
      valid: [0],
      names: ['threadId'],
      accepted: `an integer from 0 to ${2 ** 29 - 2}`,
    },
    {
      fn: 'rawRegister',
      call: () => addon.diagnostics.rawRegister as Call,
      valid: [0, 0],
      names: ['length', 'flags'],
      accepted: '',
    },
  ];
  const rawAccepted: Record<string, string> = { length: 'an integer from 0 to 64', flags: UINT32 };

  for (const c of cases) {
    c.names.forEach((name, i) => {
      it(`${c.fn}: ${name} must be ${c.accepted || rawAccepted[name]}`, () => {
        const accepted = c.accepted || rawAccepted[name]!;
        for (const [label, value, errorClass, shown] of BAD) {
          const args = [...c.valid];
          args[i] = value;
          expect(() => c.call()(...args), `${c.fn} with ${name} = ${label}`).to.throw(
            errorClass,
            `${c.fn}: ${name} must be ${accepted}; got ${shown}`,
          );
        }
      });
    });
  }

  it('readField: offset must be a multiple of 4', () => {
    expect(() => addon.readField(2)).to.throw(RangeError, 'readField: offset must be a multiple of 4; got 2');
  });

  it('areaInfo: defaultOn must be a boolean (no truthiness)', () => {
    for (const value of [undefined, 0, 1, 'true', null]) {
      expect(() => (addon.areaInfo as Call)(value)).to.throw(TypeError, /^areaInfo: defaultOn must be a boolean; got /);
    }
  });

  it('accepts the bounds themselves', () => {
    expect(addon.prctl(4294967295, 0, 0, 0)).to.be.below(0); // no such op: the kernel's EINVAL
    expect(addon.readField(28)).to.satisfy((v: number | null) => v === null || Number.isInteger(v));
    expect(addon.threadEnded(2 ** 29 - 2)).to.equal(false); // never watched: never declared dead
    expect(addon.bench.sectionLoop(0, 0)).to.satisfy(
      (v: unknown) => Array.isArray(v) || (typeof v === 'number' && v < 0),
    );
  });
});
