/** rseq-slice check: the conformance report on this host, its JSON, usage errors, and divergence detection. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { addonState } from '../../lib/addon/addon';
import { judgeTranscript } from '../../lib/lab/conformance/check';
import { abiTranscript, simulatorTarget } from '../../lib/lab/conformance/transcript';
import { DIST, ROOT } from '../support/paths';

function cli(...args: string[]) {
  return spawnSync(process.execPath, [path.join(DIST, 'cli', 'main.js'), 'check', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: process.env,
  });
}

describe('rseq-slice check', () => {
  it('on this host: the pre-7.0 behaviour, one line per rule R1…R30, exit 0', function () {
    const get = addonState().addon?.prctl(1, 0, 0, 0);
    if (get !== -22) {
      console.log(`      skipped: this kernel answers prctl GET with ${get}, not EINVAL (it is not a pre-7.0 kernel)`);
      this.skip();
    }
    const r = cli();
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('compared with the simulator as a kernel before 7.0');
    const lines = r.stdout.split('\n').filter((l) => /^R\d+ /.test(l));
    expect(lines.map((l) => l.split(' ')[0])).to.deep.equal(Array.from({ length: 30 }, (_, i) => `R${i + 1}`));
    expect(lines.find((l) => l.startsWith('R3 '))).to.match(/^R3 {3}pass .*answered as the pre-7\.0 model/);
    expect(lines.find((l) => l.startsWith('R14 '))).to.match(/n\/a .*grants nothing here/);
    expect(r.stdout).to.match(/conforms: \d+ pass, 0 FAIL, \d+ n\/a/);
  });

  it('--json gives the same verdicts as data', () => {
    const r = cli('--json');
    const report = JSON.parse(r.stdout) as {
      model: string;
      steps: number;
      conforms: boolean;
      rules: Array<{ rule: string; status: string }>;
    };
    expect(r.status).to.equal(report.conforms ? 0 : 1);
    expect(report.rules).to.have.lengthOf(30);
    expect(report.steps).to.be.greaterThan(60);
    expect(['pre-7.0', 'built without', 'disabled at boot', 'enabled']).to.include(report.model);
  });

  it('--json --quick: the basis of the model, the failed rule ids, the duration', () => {
    const r = cli('--json', '--quick');
    const report = JSON.parse(r.stdout) as { basis: string; failed: string[]; quick: boolean; durationMs: number };
    expect(report.basis).to.match(/^prctl GET answered/);
    expect(report.failed).to.deep.equal(r.status === 0 ? [] : report.failed);
    expect(report.quick).to.equal(true);
    expect(report.durationMs).to.be.greaterThan(0);
  });

  it('bad usage exits 2 with the reason', () => {
    const r = cli('--seconds', '0');
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain('--seconds must be a number of seconds above 0 and at most 60');
    expect(cli('--bogus').status).to.equal(2);
  });

  it('a kernel answering one step differently fails that rule with both answers', () => {
    const kernel = abiTranscript(simulatorTarget());
    expect(judgeTranscript(kernel, 'enabled').every((r) => r.status !== 'FAIL')).to.equal(true);
    const i = kernel.findIndex((s) => s.section === 'no registration' && s.step === 'SET 1');
    kernel[i] = { ...kernel[i]!, answer: 'ENOTSUPP flags=0x0' };
    const judged = judgeTranscript(kernel, 'enabled');
    const r5 = judged.find((r) => r.rule === 'R5')!;
    expect(r5.status).to.equal('FAIL');
    expect(r5.detail).to.contain('no registration: SET 1: kernel ENOTSUPP flags=0x0, expected ENXIO flags=0x0');
    expect(judged.find((r) => r.rule === 'R3')!.status).to.equal('pass');
  });

  it('a 7.x kernel answering EINVAL, as a kernel before 7.0 would, fails R2 against the built-without model', () => {
    const without = judgeTranscript(abiTranscript(simulatorTarget({ configured: false })), 'built without');
    expect(without.filter((r) => r.status === 'FAIL')).to.deep.equal([]);
    const judged = judgeTranscript(abiTranscript(simulatorTarget({ extensionAbi: false })), 'built without');
    const r2 = judged.find((r) => r.rule === 'R2')!;
    expect(r2.status).to.equal('FAIL');
    expect(r2.detail).to.contain('no registration: GET: kernel EINVAL flags=0x0, expected ENOTSUPP flags=0x0');
  });

  it('the models differ: an enabled kernel judged as disabled at boot fails R5, R8 and R9', () => {
    const judged = judgeTranscript(abiTranscript(simulatorTarget()), 'disabled at boot');
    for (const rule of ['R5', 'R8', 'R9']) expect(judged.find((r) => r.rule === rule)!.status, rule).to.equal('FAIL');
  });
});
