/**
 * lib/kernel/abi.ts against the addon's `constants` (native/constants.cc, from native/rseq_abi.h and
 * the outcomes of include/rseq_slice.h): the TypeScript copy the simulator runs from must hold the numbers the C++
 * side compiles with, and neither side may have a number the other lacks.
 */
import { expect } from 'chai';
import * as abi from '../../lib/kernel/abi';
import { type NativeConstants } from '../../lib/addon/addon';
import { loadedAddon } from '../support/addon';

function typeScriptNumbers(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(abi)) if (typeof value === 'number') out[name] = value;
  return out;
}

describe('ABI numbers: lib/kernel/abi.ts equals the addon', function () {
  let constants: NativeConstants;
  before(function () {
    constants = loadedAddon(this).constants;
  });

  it('has the same names on both sides', () => {
    expect(Object.keys(constants).sort()).to.deep.equal(Object.keys(typeScriptNumbers()).sort());
  });

  it('has the same number under every name', () => {
    const ts = typeScriptNumbers();
    for (const [name, value] of Object.entries(constants)) expect(ts[name], name).to.equal(value);
  });

  it("numbers the outcome names as include/rseq_slice.h's section exit numbers the outcomes", () => {
    const byName = {
      clean: constants.OUTCOME_CLEAN,
      yielded: constants.OUTCOME_YIELDED,
      raced: constants.OUTCOME_RACED,
      revoked: constants.OUTCOME_REVOKED,
    };
    expect(abi.OUTCOMES.length).to.equal(Object.keys(byName).length);
    for (const [name, value] of Object.entries(byName)) expect(abi.OUTCOMES[value], name).to.equal(name);
  });

  it('exports them frozen', () => {
    expect(Object.isFrozen(constants)).to.equal(true);
  });
});
