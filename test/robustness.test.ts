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
import { Worker } from 'node:worker_threads';
import { addonState } from '../lib/addon';
import { open } from '../lib';
import { DIST, runNode, runNodeJson, skipBecause } from './helpers';

const GLIBC_RSEQ_OFF = 'glibc.pthread.rseq=0';

/** Variables of this package that would change what a child does: none of them leak in. */
const NEUTRAL_ENV: NodeJS.ProcessEnv = {
  RSEQ_SLICE_BACKEND: undefined,
  RSEQ_SLICE_DISABLE_ADDON: undefined,
  RSEQ_SLICE_PLATFORM: undefined,
  GLIBC_TUNABLES: undefined,
};

function addonOrSkip(ctx: Mocha.Context): void {
  if (process.platform !== 'linux') skipBecause(ctx, `rseq exists only on Linux (this is ${process.platform})`);
  const { addon, error } = addonState();
  if (!addon) skipBecause(ctx, `the native addon did not load: ${error}`);
}

/** Parses the JSON line a child printed last, failing with its output when it did not exit cleanly. */
function childJson<T>(r: ReturnType<typeof runNode>, what: string): T {
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
      skipBecause(this, `the seccomp launcher filters the x86-64 rseq syscall; this is ${process.platform}-${process.arch}`);
    }
    addonOrSkip(this);
    const probe = spawnSync('cc', ['--version'], { encoding: 'utf8' });
    if (probe.error) skipBecause(this, `no C compiler to build test/seccomp_launcher.c (cc: ${probe.error.message})`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rseq-slice-seccomp-'));
    launcher = path.join(tmp, 'seccomp_launcher');
    const source = path.join(__dirname, 'seccomp_launcher.c');
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

  interface SeccompChild {
    rawRegister: number;
    rseq: { registered: boolean; owner: string | null; errno?: string; reason?: string; libcRseqSize: number | null };
    addonLoaded: boolean;
    backend: string;
    auto: { backend: string; fallbackReason?: string; sections: number; clean: number };
    native: { threw: boolean; isRseqError?: boolean; name?: string; code?: string; errno?: number; syscall?: string; message?: string };
    worker: { registered: boolean; errno?: string; backend: string; fallbackReason?: string; sections: number };
  }

  // Everything the child checks about itself; the worker repeats it in a thread glibc did not set up.
  const CHILD = `
    const { Worker } = require('node:worker_threads');
    setTimeout(() => { console.error('watchdog: the child hung'); process.exit(4); }, 20000).unref();
    const rs = require('./dist');
    const { addon } = require('./dist/addon').addonState();
    const d = rs.detect();
    const auto = rs.open();
    for (let i = 0; i < 1000; i++) auto.run(() => i);
    let native;
    try {
      rs.open({ backend: 'native' });
      native = { threw: false };
    } catch (e) {
      native = { threw: true, isRseqError: e instanceof rs.RseqError, name: e.name, code: e.code, errno: e.errno, syscall: e.syscall, message: e.message };
    }
    // The kernel's own answer to a registration from this thread, past the package's logic.
    const rawRegister = addon ? addon.diagnostics.rawRegister(32, 0) : null;
    const w = new Worker(\`
      const rs = require(\${JSON.stringify(process.cwd() + '/dist')});
      const r = rs.detect().rseq;
      const h = rs.open();
      for (let i = 0; i < 1000; i++) h.run(() => i);
      require('node:worker_threads').parentPort.postMessage({ registered: r.registered, errno: r.errno, backend: h.backend, fallbackReason: h.fallbackReason, sections: h.stats.sections });\`, { eval: true });
    w.once('error', (e) => { console.error('worker failed', e); process.exit(3); });
    w.once('message', (worker) => {
      console.log(JSON.stringify({
        rawRegister, rseq: d.rseq, addonLoaded: d.addon.loaded, backend: d.backend,
        auto: { backend: auto.backend, fallbackReason: auto.fallbackReason, sections: auto.stats.sections, clean: auto.stats.clean },
        native, worker,
      }));
    });`;

  for (const errno of ['ENOSYS', 'EPERM'] as const) {
    for (const glibc of ['on', 'off'] as const) {
      it(`${errno}, glibc's registration ${glibc}: loads, detect() names ${errno} and seccomp, open() falls back, open({ backend: 'native' }) throws`, function () {
        this.timeout(30_000);
        const env = { ...NEUTRAL_ENV, GLIBC_TUNABLES: glibc === 'off' ? GLIBC_RSEQ_OFF : undefined };
        const errnoNumber = os.constants.errno[errno];

        // Control: the same environment without the filter registers an area, so whatever fails
        // below fails because of the filter.
        const control = runNodeJson<{ registered: boolean; owner: string | null }>(
          `console.log(JSON.stringify(require('./dist').detect().rseq))`,
          { env },
        );
        if (!control.registered) skipBecause(this, 'this kernel registers no rseq area even without a seccomp filter');
        if (glibc === 'on' && control.owner !== 'libc') {
          skipBecause(this, `libc registers no rseq area here (owner ${control.owner}), so there is no libc registration to block`);
        }
        expect(control.owner).to.equal(glibc === 'on' ? 'libc' : 'addon');

        const r = childJson<SeccompChild>(runNode(CHILD, { env, prefix: [launcher, errno] }), `child under seccomp ${errno}`);
        expect(r.rawRegister, 'the kernel answer to rseq() under the filter').to.equal(-errnoNumber);
        expect(r.addonLoaded).to.equal(true);

        expect(r.rseq.registered).to.equal(false);
        expect(r.rseq.owner).to.equal(null);
        expect(r.rseq.errno).to.equal(errno);
        expect(r.rseq.reason).to.be.a('string').and.match(/seccomp/).and.include(errno);
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
  let tmp = '';

  before(function () {
    addonOrSkip(this);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rseq-slice-fork-'));
  });

  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  interface RoundResult {
    alive: number;
    afterExit: number;
    exits: Record<string, number[]>;
    owners: string[];
    sections: number[];
  }

  interface ChurnChild {
    main: { owner: string | null; backend: string; areasAfterOpen: number };
    rounds: RoundResult[];
    after: { areas: number; sections: number; clean: number; cpu: number; owner: string | null; backend: string };
    forked: { owner: string | null; registered: boolean; areas: number; backend: string; sections: number; cpu: number };
    forkExit: { code: number | null; signal: string | null };
  }

  it(`with glibc's registration off, 5 rounds of 8 workers (4 terminated mid-section) leave only the main thread's area, and a fork child registers its own`, function () {
    this.timeout(30_000);
    const forkChild = path.join(tmp, 'fork-child.js');
    fs.writeFileSync(
      forkChild,
      `const rs = require(require('node:path').join(process.cwd(), 'dist'));
       const { addon } = require(require('node:path').join(process.cwd(), 'dist', 'addon')).addonState();
       const h = rs.open();
       for (let i = 0; i < 10000; i++) h.run(() => i);
       const d = rs.detect().rseq;
       process.send({ owner: d.owner, registered: d.registered, areas: addon.diagnostics.ownAreas(), backend: h.backend, sections: h.stats.sections, cpu: h.cpu() }, () => process.exit(0));`,
    );

    const code = `
      const { Worker } = require('node:worker_threads');
      const { fork } = require('node:child_process');
      setTimeout(() => { console.error('watchdog: the child hung'); process.exit(4); }, 25000).unref();
      const rs = require('./dist');
      const { addon } = require('./dist/addon').addonState();
      const DIST = require('node:path').join(process.cwd(), 'dist');

      const main = rs.open();
      for (let i = 0; i < 1000; i++) main.run(() => i);
      const mainInfo = { owner: rs.detect().rseq.owner, backend: main.backend, areasAfterOpen: addon.diagnostics.ownAreas() };

      // How each of the 8 workers of a round ends: terminate() while it runs sections in a loop,
      // the end of its event loop, process.exit() inside a section, an uncaught throw inside one.
      const ENDINGS = ['terminate', 'natural', 'terminate', 'exit-in-section', 'terminate', 'throw-in-section', 'terminate', 'natural'];
      const WORKER = \`
        const { parentPort, workerData } = require('node:worker_threads');
        const rs = require(workerData.dist);
        const h = rs.open();
        for (let i = 0; i < 2000; i++) h.run(() => i);
        parentPort.postMessage({ owner: rs.detect().rseq.owner, sections: h.stats.sections });
        if (workerData.ending === 'terminate') {
          for (;;) h.run(() => {});
        } else {
          parentPort.once('message', () => {
            for (let i = 0; i < 2000; i++) h.run(() => i);
            if (workerData.ending === 'exit-in-section') h.run(() => process.exit(0));
            if (workerData.ending === 'throw-in-section') h.run(() => { throw new Error('thrown inside a section'); });
            parentPort.close();
          });
        }\`;

      function round() {
        return new Promise((resolve, reject) => {
          const workers = ENDINGS.map((ending) => new Worker(WORKER, { eval: true, workerData: { dist: DIST, ending } }));
          const owners = [], sections = [], exits = {};
          let ready = 0, exited = 0, alive = -1;
          workers.forEach((w, i) => {
            const ending = ENDINGS[i];
            w.on('error', (e) => { if (ending !== 'throw-in-section') reject(e); });
            w.once('message', (m) => {
              owners.push(m.owner);
              sections.push(m.sections);
              if (++ready < workers.length) return;
              // Every worker has its area now (the terminate ones are inside their section loop).
              alive = addon.diagnostics.ownAreas();
              workers.forEach((v, j) => (ENDINGS[j] === 'terminate' ? v.terminate() : v.postMessage('finish')));
            });
            w.once('exit', (code) => {
              (exits[ending] = exits[ending] || []).push(code);
              if (++exited === workers.length) resolve({ alive, afterExit: addon.diagnostics.ownAreas(), exits, owners, sections });
            });
          });
        });
      }

      (async () => {
        const rounds = [];
        for (let r = 0; r < 5; r++) rounds.push(await round());
        // Still healthy: the main thread's area is registered and its handle runs sections.
        for (let i = 0; i < 10000; i++) main.run(() => i);
        const after = { areas: addon.diagnostics.ownAreas(), sections: main.stats.sections, clean: main.stats.clean, cpu: main.cpu(), owner: rs.detect().rseq.owner, backend: main.backend };
        const child = fork(${JSON.stringify(forkChild)}, [], { cwd: process.cwd() });
        const forked = await new Promise((resolve, reject) => { child.once('message', resolve); child.once('error', reject); });
        const forkExit = await new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
        console.log(JSON.stringify({ main: mainInfo, rounds, after, forked, forkExit }));
      })().catch((e) => { console.error(e); process.exit(3); });`;

    const r = childJson<ChurnChild>(runNode(code, { env: { ...NEUTRAL_ENV, GLIBC_TUNABLES: GLIBC_RSEQ_OFF } }), 'worker churn child');

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
  interface Probe {
    isObject: boolean;
    plainPrototype: boolean;
    keys: string[];
    holdsBuffer: boolean;
    calls: Record<string, { threw: boolean; name?: string; message?: string }>;
  }

  // What arrives is a structured clone: own data properties only, no prototype, no private fields.
  const WORKER = `
    const { parentPort, workerData } = require('node:worker_threads');
    function holdsBuffer(v, seen = new Set()) {
      if (v instanceof ArrayBuffer || ArrayBuffer.isView(v) || (typeof SharedArrayBuffer === 'function' && v instanceof SharedArrayBuffer)) return true;
      if (v === null || typeof v !== 'object' || seen.has(v)) return false;
      seen.add(v);
      return Object.values(v).some((x) => holdsBuffer(x, seen));
    }
    function probe(h) {
      const calls = {};
      const attempts = { enter: () => h.enter(), exit: () => h.exit(), run: () => h.run(() => 1), yield: () => h.yield(), enable: () => h.enable() };
      for (const [name, f] of Object.entries(attempts)) {
        try { f(); calls[name] = { threw: false }; } catch (e) { calls[name] = { threw: true, name: e && e.name, message: e && e.message }; }
      }
      return { isObject: typeof h === 'object' && h !== null, plainPrototype: Object.getPrototypeOf(h) === Object.prototype, keys: Object.keys(h).sort(), holdsBuffer: holdsBuffer(h), calls };
    }
    const fromWorkerData = workerData.handles.map(probe);
    parentPort.once('message', (handles) => {
      const own = require(workerData.dist).open();
      own.run(() => 1);
      parentPort.postMessage({ fromWorkerData, fromMessage: handles.map(probe), ownSections: own.stats.sections });
    });`;

  it('postMessage(handle) and workerData deliver a plain object whose enter/exit/run throw', async function () {
    this.timeout(20_000);
    const handles = [open(), open({ backend: 'simulator' }), open({ backend: 'simulator', fastPath: 'native-call' })];
    const w = new Worker(WORKER, { eval: true, workerData: { handles, dist: DIST } });
    const result = await new Promise<{ fromWorkerData: Probe[]; fromMessage: Probe[]; ownSections: number }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
      w.once('exit', (c) => reject(new Error(`worker exited with ${c} before answering`)));
      w.postMessage(handles);
    });
    await w.terminate();

    for (const [how, probes] of [['workerData', result.fromWorkerData], ['postMessage', result.fromMessage]] as const) {
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
