/**
 * examples/: each program run the way a user runs a copy of it after `npm install rseq-slice` (a
 * project directory whose node_modules/rseq-slice links to this repository's built package), on
 * whatever backend this machine gives. Results are checked against the arguments given, never
 * against figures of one machine. The Dockerfile and the systemd unit cannot run here: they are
 * parsed, the files they name must exist, and the very command they start is run (bin and paths
 * mapped into the project directory) with server.js's --check mode.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DIST, ROOT } from '../support/paths';
import { outcomesAddUp, parseRing, parseWorkerPool } from '../support/examples_output';

const EXAMPLES = path.join(ROOT, 'examples');
const PROGRAMS = ['worker-pool-counters.js', 'ring-buffer.js', 'startup-gate.js', 'server.js'];

/** The environment the examples run in: the package's own switches left to their defaults. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.RSEQ_SLICE_BACKEND;
  delete env.REQUIRE_SLICE;
  delete env.PORT;
  return { ...env, ...extra };
}

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(argv: string[], cwd: string, env: NodeJS.ProcessEnv = cleanEnv()): Run {
  const r = spawnSync(argv[0] as string, argv.slice(1), { cwd, env, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function explain(r: Run): string {
  return `status ${r.status}, signal ${r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
}

/** Splits a Dockerfile into [instruction, arguments], continuation lines joined, comments dropped. */
function dockerInstructions(text: string): Array<[string, string]> {
  const joined = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const m = /^([A-Za-z]+)\s+(.*)$/.exec(line);
      if (!m) throw new Error(`Dockerfile: not an instruction: ${line}`);
      return [(m[1] as string).toUpperCase(), m[2] as string];
    });
}

/** Parses a systemd unit: section → key → values (a key may repeat). */
function unitSections(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1] as string, current);
      continue;
    }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!kv || current === null) throw new Error(`unit: not a key=value line in a section: ${line}`);
    current.set(kv[1] as string, [...(current.get(kv[1] as string) ?? []), kv[2] as string]);
  }
  return sections;
}

/**
 * Checks `argv` is `…/node_modules/.bin/rseq-slice exec [--] COMMAND…` and returns COMMAND
 * (what exec runs; its first word is looked up in PATH when it has no slash).
 */
function execCommand(argv: string[]): string[] {
  expect(argv[0], 'the installed bin').to.match(/(^|\/)node_modules\/\.bin\/rseq-slice$/);
  expect(argv[1]).to.equal('exec');
  const command = argv[2] === '--' ? argv.slice(3) : argv.slice(2);
  expect(command, 'a command after exec').to.not.deep.equal([]);
  return command;
}

describe('examples/: run as a user runs a copy', function () {
  this.timeout(120_000);
  let project = '';
  let node = '';

  before(() => {
    if (!fs.existsSync(path.join(DIST, 'index.js')))
      throw new Error(`${DIST}/index.js is missing: build the package first (npm run build; npm test's pretest does)`);
    // A user's project: the examples copied in, the package installed (here: linked) under node_modules.
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'rseq-slice-examples-'));
    fs.mkdirSync(path.join(project, 'node_modules'));
    fs.symlinkSync(ROOT, path.join(project, 'node_modules', 'rseq-slice'), 'dir');
    for (const f of PROGRAMS) fs.copyFileSync(path.join(EXAMPLES, f), path.join(project, f));
    node = process.execPath;
  });

  after(() => {
    if (project) fs.rmSync(project, { recursive: true, force: true });
  });

  /** What detect() answers in a child with the examples' environment (the test's own process may differ). */
  function childDetect(env: NodeJS.ProcessEnv = cleanEnv()): {
    available: boolean;
    backend: string | null;
    reason?: string;
    remedy?: string;
    rseqRegistered: boolean;
  } {
    const code =
      "const d = require('rseq-slice').detect(); console.log(JSON.stringify({ available: d.sliceExtension.available, backend: d.backend, reason: d.sliceExtension.reason, remedy: d.sliceExtension.remedy, rseqRegistered: d.rseq.registered }))";
    const r = run([node, '-e', code], project, env);
    expect(r.status, explain(r)).to.equal(0);
    return JSON.parse(r.stdout) as ReturnType<typeof childDetect>;
  }

  it('require("rseq-slice") in the project resolves to this package', () => {
    const r = run([node, '-p', "require.resolve('rseq-slice')"], project);
    expect(r.status, explain(r)).to.equal(0);
    expect(fs.realpathSync(r.stdout.trim())).to.equal(fs.realpathSync(path.join(DIST, 'index.js')));
  });

  describe('worker-pool-counters.js', () => {
    for (const [workers, increments] of [
      [3, 5000],
      [1, 100],
    ] as const) {
      it(`${workers} worker(s) × ${increments}: exit 0, exact totals, one stats line per worker whose outcomes add up`, () => {
        const r = run([node, 'worker-pool-counters.js', String(workers), String(increments)], project);
        expect(r.status, explain(r)).to.equal(0);
        const out = parseWorkerPool(r.stdout);
        const expected = workers * increments;
        expect(out.backend).to.equal(childDetect().backend);
        expect(out.keys).to.have.lengthOf(8);
        expect(out.keys.reduce((a, b) => a + b, 0)).to.equal(expected);
        expect(out).to.deep.include({ total: expected, sumOfKeys: expected, expected, exact: true });
        expect(out.workers.map((w) => w.index).sort()).to.deep.equal([...Array(workers).keys()]);
        for (const w of out.workers) {
          // One withLock() per increment, each one outermost section on the worker's own handle.
          expect(w.stats.sections, `worker ${w.index}`).to.equal(increments);
          expect(outcomesAddUp(w.stats), `worker ${w.index}: ${JSON.stringify(w.stats)}`).to.equal(true);
        }
      });
    }

    it("its onOwnerDied repair: after a holder died between a key's increment and the total's, the total is rebuilt", () => {
      // Drives the example's own worker (its workerData and table layout: the mutex word, 8 keys,
      // the total) on a table whose previous holder bumped key 3 and died holding the lock.
      const code = `
        const { Worker } = require('node:worker_threads');
        const pkg = require.resolve('rseq-slice');
        const { SLICE_MUTEX_BYTES } = require(pkg);
        const buffer = new SharedArrayBuffer(SLICE_MUTEX_BYTES + 9 * 4);
        const dying = new Worker(
          "const { workerData } = require('node:worker_threads');" +
          "const { SliceMutex, SLICE_MUTEX_BYTES } = require(workerData.pkg);" +
          "new SliceMutex(workerData.buffer, 0).lock();" +
          "new Int32Array(workerData.buffer, SLICE_MUTEX_BYTES, 8)[3]++;" +
          "process.exit(0);",
          { eval: true, workerData: { buffer, pkg } },
        );
        dying.once('exit', () => {
          const w = new Worker('./worker-pool-counters.js', { workerData: { buffer, index: 0, increments: 10 } });
          w.once('error', (e) => { console.error(e); process.exitCode = 1; });
          w.once('exit', () => {
            const keys = new Int32Array(buffer, SLICE_MUTEX_BYTES, 8).reduce((a, b) => a + b, 0);
            console.log(JSON.stringify({ keys, total: new Int32Array(buffer, SLICE_MUTEX_BYTES + 32, 1)[0] }));
          });
        });`;
      const r = run([node, '-e', code], project);
      expect(r.status, explain(r)).to.equal(0);
      // Without the repair the total would miss the dead holder's increment (10, not 11).
      expect(JSON.parse(r.stdout.trim().split('\n').pop() as string)).to.deep.equal({ keys: 11, total: 11 });
    });

    it('the defaults (4 × 20000) run to exact totals', () => {
      const r = run([node, 'worker-pool-counters.js'], project);
      expect(r.status, explain(r)).to.equal(0);
      const out = parseWorkerPool(r.stdout);
      expect(out).to.deep.include({ total: 80000, sumOfKeys: 80000, exact: true });
      expect(out.workers).to.have.lengthOf(4);
    });

    it('bad arguments: exit 2 with a message that names them', () => {
      for (const args of [['0'], ['2', 'many'], ['1.5'], ['64', '40000000']]) {
        const r = run([node, 'worker-pool-counters.js', ...args], project);
        expect(r.status, `${args.join(' ')}: ${explain(r)}`).to.equal(2);
        expect(r.stderr).to.match(/^worker-pool-counters: (WORKERS|INCREMENTS)/);
      }
    });
  });

  describe('ring-buffer.js', () => {
    for (const [producers, items] of [
      [3, 4000],
      [1, 1],
    ] as const) {
      it(`${producers} producer(s) × ${items}: every item moved once, in order; sections = items + waits on every thread`, () => {
        const r = run([node, 'ring-buffer.js', String(producers), String(items)], project);
        expect(r.status, explain(r)).to.equal(0);
        const out = parseRing(r.stdout);
        expect(out.backend).to.equal(childDetect().backend);
        expect(out.moved).to.equal(producers * items);
        expect(out.inOrder).to.equal(true);
        expect(out.threads.map((t) => t.role).sort()).to.deep.equal(
          ['consumer', ...Array.from({ length: producers }, (_, i) => `producer ${i}`)].sort(),
        );
        for (const t of out.threads) {
          expect(t.items, t.role).to.equal(t.role === 'consumer' ? producers * items : items);
          // Every run() either moved one item or found the ring full (empty) and waited.
          expect(t.stats.sections, `${t.role}: sections`).to.equal(t.items + t.waits);
          expect(outcomesAddUp(t.stats), `${t.role}: ${JSON.stringify(t.stats)}`).to.equal(true);
        }
      });
    }

    it('bad arguments: exit 2 with a message that names them', () => {
      for (const args of [['-1'], ['2', 'x'], ['17']]) {
        const r = run([node, 'ring-buffer.js', ...args], project);
        expect(r.status, `${args.join(' ')}: ${explain(r)}`).to.equal(2);
        expect(r.stderr).to.match(/^ring-buffer: (PRODUCERS|ITEMS)/);
      }
    });
  });

  describe('startup-gate.js', () => {
    it('by default it starts whatever the kernel can do: exit 0, the reason logged where it cannot grant', () => {
      const d = childDetect();
      const r = run([node, 'startup-gate.js'], project);
      expect(r.status, explain(r)).to.equal(0);
      expect(r.stdout).to.contain(`backend: ${d.backend}`);
      expect(r.stdout).to.match(new RegExp(`^started on the ${d.backend} backend: 1000 warm-up sections`, 'm'));
      if (d.available) expect(r.stdout).to.contain('slice extension: available');
      else {
        expect(r.stdout).to.contain(`  reason: ${d.reason}`);
        if (d.remedy) expect(r.stdout).to.contain(`  remedy: ${d.remedy}`);
        expect(r.stdout).to.contain('starting anyway');
      }
    });

    it('REQUIRE_SLICE=1: exit 69 with the reason where the kernel cannot grant, else it starts', () => {
      const d = childDetect();
      const r = run([node, 'startup-gate.js'], project, cleanEnv({ REQUIRE_SLICE: '1' }));
      if (d.available) {
        expect(r.status, explain(r)).to.equal(0);
        expect(r.stdout).to.match(/^started on the native backend/m);
      } else {
        expect(r.status, explain(r)).to.equal(69);
        expect(r.stderr).to.contain(`refusing to start (REQUIRE_SLICE=1): ${d.reason}`);
        expect(r.stdout).to.not.contain('started on');
      }
    });

    it('bad configuration: exit 78 with the setting named', () => {
      const bad = run([node, 'startup-gate.js'], project, cleanEnv({ REQUIRE_SLICE: 'yes' }));
      expect(bad.status, explain(bad)).to.equal(78);
      expect(bad.stderr).to.contain('REQUIRE_SLICE must be 0 or 1; got "yes"');
      const backend = run([node, 'startup-gate.js'], project, cleanEnv({ RSEQ_SLICE_BACKEND: 'bogus' }));
      expect(backend.status, explain(backend)).to.equal(78);
      expect(backend.stderr).to.contain('RSEQ_SLICE_BACKEND');
      expect(backend.stdout).to.not.contain('started on');
    });
  });

  describe('server.js, Dockerfile and rseq-slice.service', () => {
    /** Runs a deployment's command in the project: `prefix` (where it installs the app) mapped to it. */
    function runDeployed(argv: string[], prefix: string): Run {
      const command = execCommand(argv);
      const mapped = command.map((a) => (a.startsWith(`${prefix}/`) ? path.join(project, a.slice(prefix.length)) : a));
      // The installed bin is a link to dist/cli/main.js (npm makes it executable; the repository's is not).
      return run(
        [node, path.join(DIST, 'cli', 'main.js'), ...argv.slice(1, argv.length - command.length), ...mapped, '--check'],
        project,
      );
    }

    function expectServedUnderExec(r: Run): void {
      expect(r.status, explain(r)).to.equal(0);
      expect(r.stdout).to.match(/^GLIBC_TUNABLES=(.*:)?glibc\.pthread\.rseq=0(:.*)?$/m);
      // glibc's registration off: where rseq works at all, the area is rseq-slice's own.
      if (childDetect().rseqRegistered) expect(r.stdout).to.match(/^rseq area: registered by addon/m);
      expect(r.stdout).to.match(/^GET \/ 200: \{"requests":1,/m);
    }

    it('server.js --check serves one request and stops (exit 0); bad arguments exit 2', () => {
      const r = run([node, 'server.js', '--check'], project);
      expect(r.status, explain(r)).to.equal(0);
      const body = JSON.parse(/^GET \/ 200: (.*)$/m.exec(r.stdout)?.[1] ?? 'null') as {
        requests: number;
        backend: string;
        stats: { sections: number };
      };
      expect(body).to.deep.include({ requests: 1, backend: childDetect().backend });
      expect(body.stats.sections).to.equal(1);
      expect(run([node, 'server.js', '--port'], project).status).to.equal(2);
      expect(run([node, 'server.js'], project, cleanEnv({ PORT: 'eighty' })).status).to.equal(2);
    });

    it('server.js stops cleanly on SIGTERM (exit 0), as `docker stop` and systemd stop it', async () => {
      const child = spawn(node, ['server.js'], { cwd: project, env: cleanEnv({ PORT: '0' }) });
      let stdout = '';
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.includes('listening on port')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening: ${stdout}`)));
      });
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
    });

    it('Dockerfile: node:20 on bookworm, npm ci, the files it copies exist, CMD is a valid `rseq-slice exec` that serves', () => {
      const steps = dockerInstructions(fs.readFileSync(path.join(EXAMPLES, 'Dockerfile'), 'utf8'));
      const all = (op: string) => steps.filter(([o]) => o === op).map(([, a]) => a);
      expect(all('FROM')).to.have.lengthOf(1);
      expect(all('FROM')[0]).to.match(/^node:20(\.[\d.]+)?-bookworm(-slim)?$/);
      expect(all('RUN').some((a) => /\bnpm ci\b/.test(a))).to.equal(true);
      const workdir = all('WORKDIR').pop();
      expect(workdir).to.equal('/srv/app');
      // The user's package.json and lockfile come from their project; the rest from examples/.
      for (const copy of all('COPY')) {
        const sources = copy.split(/\s+/).slice(0, -1);
        for (const s of sources.filter((f) => !/^package(-lock)?\.json$/.test(f)))
          expect(fs.existsSync(path.join(EXAMPLES, s)), `COPY ${s}`).to.equal(true);
      }
      const cmd = all('CMD');
      expect(cmd).to.have.lengthOf(1);
      const argv = JSON.parse(cmd[0] as string) as string[]; // exec form: no shell between
      expect(argv[0]?.startsWith(`${workdir}/`), 'the bin under WORKDIR').to.equal(true);
      const command = execCommand(argv);
      expect(command[0]).to.equal('node');
      expect(fs.existsSync(path.join(EXAMPLES, command[1] as string)), command[1]).to.equal(true);
      // node looks `server.js` up in the working directory (WORKDIR; here the project).
      expectServedUnderExec(runDeployed(argv, workdir as string));
    });

    it('rseq-slice.service: a complete unit whose ExecStart is a valid `rseq-slice exec` that serves', () => {
      const unit = unitSections(fs.readFileSync(path.join(EXAMPLES, 'rseq-slice.service'), 'utf8'));
      expect([...unit.keys()]).to.deep.equal(['Unit', 'Service', 'Install']);
      const service = unit.get('Service') as Map<string, string[]>;
      expect(unit.get('Install')?.get('WantedBy')).to.deep.equal(['multi-user.target']);
      const workdir = service.get('WorkingDirectory')?.[0];
      expect(workdir).to.equal('/srv/app');
      const execStart = service.get('ExecStart') ?? [];
      expect(execStart).to.have.lengthOf(1);
      // No quoting or specifiers in the line, so splitting on blanks is systemd's own split.
      expect(execStart[0]).to.not.match(/["'%$\\]/);
      const argv = (execStart[0] as string).split(/\s+/);
      expect(path.isAbsolute(argv[0] as string), 'systemd wants an absolute path').to.equal(true);
      const command = execCommand(argv);
      expect(command[0]).to.match(/^\/.*\/node$/);
      expect(command[1]).to.equal(`${workdir}/server.js`);
      expect(fs.existsSync(path.join(EXAMPLES, path.basename(command[1] as string)))).to.equal(true);
      // The unit's node is /usr/bin/node; here, the node running this test.
      expectServedUnderExec(
        runDeployed(
          [...argv.slice(0, argv.indexOf(command[0] as string)), node, ...command.slice(1)],
          workdir as string,
        ),
      );
    });
  });

  it('examples/README.md describes every program, the Dockerfile and the unit', () => {
    const readme = fs.readFileSync(path.join(EXAMPLES, 'README.md'), 'utf8');
    for (const f of [...PROGRAMS, 'Dockerfile', 'rseq-slice.service']) expect(readme, f).to.contain(`\`${f}\``);
  });
});
