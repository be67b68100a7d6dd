/**
 * Robustness where the environment is hostile or unusual: rseq blocked by a seccomp filter
 * (ENOSYS, EPERM; glibc's own registration on and off), the addon's own areas across many worker
 * threads that come and go (terminated mid-section included) and a forked child, and a handle sent
 * to another thread. Each case runs in a child process when the environment must differ.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { open, type Detection } from '../../lib';
import type { ChurnChild } from '../fixtures/churn_child';
import type { HandleProbeResult } from '../fixtures/handle_probe_worker';
import type { SeccompChild } from '../fixtures/seccomp_child';
import { DIST, ROOT } from '../support/paths';
import { fixtureJson, fixtureWorker, runFixture, type NodeResult } from '../support/child_node';
import { skipBecause } from '../support/skip';
import { loadedAddon } from '../support/addon';

const GLIBC_RSEQ_OFF = 'glibc.pthread.rseq=0';

/** Variables of this package that would change what a child does: none of them leak in. */
const NEUTRAL_ENV: NodeJS.ProcessEnv = {
  RSEQ_SLICE_BACKEND: undefined,
  RSEQ_SLICE_DISABLE_ADDON: undefined,
  RSEQ_SLICE_PLATFORM: undefined,
  GLIBC_TUNABLES: undefined,
};

/** Parses the JSON line a child printed last, failing with its output when it did not exit cleanly. */
function childJson<T>(r: NodeResult, what: string): T {
  const detail = `${what}: status ${r.status}, signal ${r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
  expect(r.signal, detail).to.equal(null);
  expect(r.status, detail).to.equal(0);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] as string) as T;
}

describe('robustness: rseq blocked by a seccomp filter', () => {
  let launcher = '';
  let tmp = '';

  before(function () {
    this.timeout(30_000);
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      skipBecause(
        this,
        `the seccomp launcher filters the x86-64 rseq syscall; this is ${process.platform}-${process.arch}`,
      );
    }
    loadedAddon(this);
    const probe = spawnSync('cc', ['--version'], { encoding: 'utf8' });
    if (probe.error)
      skipBecause(this, `no C compiler to build test/native/seccomp_launcher.c (cc: ${probe.error.message})`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rseq-slice-seccomp-'));
    launcher = path.join(tmp, 'seccomp_launcher');
    const source = path.join(ROOT, 'test', 'native', 'seccomp_launcher.c');
    const cc = spawnSync('cc', ['-Wall', '-Wextra', '-Werror', '-O2', '-o', launcher, source], { encoding: 'utf8' });
    // A compiler that is present but fails (or warns) is a real failure, not a skip.
    expect(cc.status, `cc failed:\n${cc.stderr}`).to.equal(0);
    expect(cc.stderr, 'cc printed diagnostics').to.equal('');
  });

  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('the launcher rejects bad usage with a message and exit status 2', () => {
    for (const args of [[], ['ENOSYS'], ['EBADF', 'true'], ['enosys', 'true'], ['EPERM', '']]) {
      const r = spawnSync(launcher, args, { encoding: 'utf8' });
      expect(r.status, `seccomp_launcher ${args.join(' ')}`).to.equal(2);
      expect(r.stderr).to.match(/usage: .*seccomp_launcher ENOSYS\|EPERM PROGRAM/);
    }
    const r = spawnSync(launcher, ['EPERM', path.join(tmp, 'no-such-program')], { encoding: 'utf8' });
    expect(r.status).to.equal(127);
    expect(r.stderr).to.match(/cannot execute .*no-such-program/);
  });

  for (const errno of ['ENOSYS', 'EPERM'] as const) {
    for (const glibc of ['on', 'off'] as const) {
      it(`${errno}, glibc's registration ${glibc}: loads, detect() names ${errno} and seccomp, open() falls back, open({ backend: 'native' }) throws`, function () {
        this.timeout(30_000);
        const env = { ...NEUTRAL_ENV, GLIBC_TUNABLES: glibc === 'off' ? GLIBC_RSEQ_OFF : undefined };
        const errnoNumber = os.constants.errno[errno];

        // Control: the same environment without the filter registers an area, so whatever fails
        // below fails because of the filter.
        const control = fixtureJson<Detection>('detect_child.ts', [DIST], { env }).rseq;
        if (!control.registered) skipBecause(this, 'this kernel registers no rseq area even without a seccomp filter');
        if (glibc === 'on' && control.owner !== 'libc') {
          skipBecause(
            this,
            `libc registers no rseq area here (owner ${control.owner}), so there is no libc registration to block`,
          );
        }
        expect(control.owner).to.equal(glibc === 'on' ? 'libc' : 'addon');

        const r = childJson<SeccompChild>(
          runFixture('seccomp_child.ts', [DIST], { env, prefix: [launcher, errno] }),
          `child under seccomp ${errno}`,
        );
        expect(r.rawRegister, 'the kernel answer to rseq() under the filter').to.equal(-errnoNumber);
        expect(r.addonLoaded).to.equal(true);

        expect(r.rseq.registered).to.equal(false);
        expect(r.rseq.owner).to.equal(null);
        expect(r.rseq.errno).to.equal(errno);
        expect(r.rseq.reason)
          .to.be.a('string')
          .and.match(/seccomp/)
          .and.include(errno);
        // glibc gave up its registration (or never tried): no area for anyone to share.
        expect(r.rseq.libcRseqSize ?? 0).to.equal(0);
        expect(r.backend).to.equal('simulator');

        expect(r.auto.backend).to.equal('simulator');
        expect(r.auto.fallbackReason).to.be.a('string').and.include(errno);
        expect(r.auto.sections).to.equal(1000);
        expect(r.auto.clean).to.equal(1000);

        expect(r.native.threw, "open({ backend: 'native' }) must throw").to.equal(true);
        expect(r.native.isRseqError, `not an RseqError: ${r.native.name}: ${r.native.message}`).to.equal(true);
        expect(r.native.code).to.equal(errno);
        expect(r.native.errno).to.equal(errnoNumber);
        expect(r.native.syscall).to.equal('rseq');

        expect(r.worker.registered).to.equal(false);
        expect(r.worker.errno).to.equal(errno);
        expect(r.worker.backend).to.equal('simulator');
        expect(r.worker.fallbackReason).to.be.a('string').and.include(errno);
        expect(r.worker.sections).to.equal(1000);
      });
    }
  }
});

describe("robustness: the addon's own areas across workers that come and go, and a forked child", () => {
  before(function () {
    loadedAddon(this);
  });

  it(`with glibc's registration off, 5 rounds of 8 workers (4 terminated mid-section) leave only the main thread's area, and a fork child registers its own`, function () {
    this.timeout(60_000);
    const r = childJson<ChurnChild>(
      runFixture('churn_child.ts', [DIST], { env: { ...NEUTRAL_ENV, GLIBC_TUNABLES: GLIBC_RSEQ_OFF } }),
      'worker churn child',
    );

    expect(r.main.owner, "the main thread's area").to.equal('addon');
    expect(r.main.areasAfterOpen).to.equal(1);
    expect(r.rounds).to.have.length(5);
    r.rounds.forEach((round, i) => {
      const at = `round ${i + 1}`;
      expect(round.owners, at).to.deep.equal(Array(8).fill('addon'));
      expect(round.sections, at).to.deep.equal(Array(8).fill(2000));
      expect(round.alive, `${at}: areas with all 8 workers alive`).to.equal(9);
      expect(round.afterExit, `${at}: areas after every worker exited`).to.equal(1);
      expect(round.exits.terminate, at).to.deep.equal([1, 1, 1, 1]);
      expect(round.exits.natural, at).to.deep.equal([0, 0]);
      expect(round.exits['exit-in-section'], at).to.deep.equal([0]);
      expect(round.exits['throw-in-section'], at).to.deep.equal([1]);
    });
    expect(r.after.areas).to.equal(1);
    expect(r.after.owner).to.equal('addon');
    expect(r.after.sections).to.equal(11000);
    expect(r.after.cpu, "the kernel still updates the main thread's cpu_id").to.be.within(0, os.cpus().length - 1);

    expect(r.forkExit).to.deep.equal({ code: 0, signal: null });
    expect(r.forked.registered).to.equal(true);
    expect(r.forked.owner).to.equal('addon');
    expect(r.forked.areas).to.equal(1);
    expect(r.forked.sections).to.equal(10000);
    expect(r.forked.cpu).to.be.within(0, os.cpus().length - 1);
    expect(r.forked.backend).to.equal(r.after.backend);
  });
});

describe('robustness: a handle sent to another thread cannot be used there', () => {
  it('postMessage(handle) and workerData deliver a plain object whose enter/exit/run throw', async function () {
    this.timeout(20_000);
    const handles = [open(), open({ backend: 'simulator' }), open({ backend: 'simulator', fastPath: 'native-call' })];
    const w = fixtureWorker('handle_probe_worker.ts', { handles, dist: DIST });
    const result = await new Promise<HandleProbeResult>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
      w.once('exit', (c) => reject(new Error(`worker exited with ${c} before answering`)));
      w.postMessage(handles);
    });
    await w.terminate();

    for (const [how, probes] of [
      ['workerData', result.fromWorkerData],
      ['postMessage', result.fromMessage],
    ] as const) {
      expect(probes, how).to.have.length(handles.length);
      probes.forEach((p, i) => {
        const at = `${how}, handle ${i} (${handles[i]!.backend})`;
        expect(p.isObject, at).to.equal(true);
        expect(p.plainPrototype, `${at}: the prototype is dropped`).to.equal(true);
        expect(p.holdsBuffer, `${at}: no view of the area crosses threads`).to.equal(false);
        expect(p.keys, at).to.not.include.members(['enter', 'exit', 'run']);
        for (const method of ['enter', 'exit', 'run', 'yield', 'enable']) {
          const call = p.calls[method]!;
          expect(call.threw, `${at}: ${method}() must throw`).to.equal(true);
          expect(call.name, `${at}: ${method}()`).to.equal('TypeError');
          expect(call.message, `${at}: ${method}()`).to.match(new RegExp(`\\b${method} is not a function`));
        }
      });
    }
    // The thread that receives a clone opens its own handle instead.
    expect(result.ownSections).to.equal(1);
    // Sending did not disturb the originals in this thread.
    for (const h of handles) {
      expect(h.run(() => 7)).to.equal(7);
      expect(h.depthLevel).to.equal(0);
    }
  });
});
