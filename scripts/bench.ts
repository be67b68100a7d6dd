/**
 * Benchmarks: the cost of announcing a critical section, each against a baseline measured in the
 * same run. Every task runs an inner loop of INNER operations per sample (a single nanosecond-
 * scale operation is below the timer's resolution); figures are median ns per operation.
 *
 *   npm run bench [-- --json] [-- --time MS] [-- --no-contended] [-- --dist PATH]
 *                 [-- --rounds 3] [-- --seconds 0.5] [-- --section-ns 0] [-- --spin N] [-- --no-nodes]
 *
 * It measures the compiled package (dist/), as users run it; --dist PATH measures another build's
 * dist/ of 0.4.0 or later (e.g. a checkout of the previous head) with this same script, so that two
 * versions are compared in one session; a kind of the contention table that build cannot run is
 * reported as n/a.
 *
 * The contention table: workers 1, 2, 4 and CPUs x4 on one lock, the section a counter increment
 * (--section-ns adds a spin), raw spin lock vs SliceMutex with requests off and on, --rounds
 * rounds of --seconds each with the kinds interleaved; M sections/s summed over workers and CPU
 * ns per section, median (min–max) over rounds, and SliceMutex / raw spin per round.
 *
 * On a kernel without the slice extension the native backend's handle is built over the real area
 * anyway: the kernel never grants, so what is measured is the fast path's own cost, which is the
 * same on a 7.0+ kernel for every section that is not extended.
 *
 * The goals (scripts/bench_goals.ts) are judged from one more run of their tasks, 7 rounds with the
 * tasks interleaved, on the median of the per-round ratios. Issue 20's compares the section pair
 * through include/rseq_slice.h (the sectionLoop of scripts/header_consumer, which this script
 * builds with node-gyp when its binary is missing or stale) with rseq-slice's own native loop (the addon's
 * sectionLoop): the same C++ loop, on the same area; the goal is skipped, with the reason, where
 * the consumer cannot be built or has no table.
 *
 * The fast path per Node release (scripts/bench_nodes.ts): the JavaScript pair, run(fn), cpu() and
 * an uncontended SliceMutex under this node and each fetched release of scripts/other-node.ts, in
 * rotated rounds, with each release's ratio to Node 24; --no-nodes leaves it out (so does --dist:
 * the probe measures this checkout's dist/).
 */
import { Bench } from 'tinybench';
import { spread } from '../lib/lab/bench/stats';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type * as AddonModule from '../dist/addon/addon';
// @internal in the package (stripped from dist's types): the lab's view of the addon.
import type { NativeBench } from '../lib/addon/addon';
import type * as HandleModule from '../dist/lab/bench/handle';
import type * as Package from '../dist';
import { HEADER_CONSUMER, type HeaderConsumer } from './consumer_build';
import { formatGoal, judge, type Goal } from './bench_goals';
import { benchAcrossNodes, formatAcrossNodes } from './bench_nodes';
import type * as HostContention from '../lib/lab/bench/host_contention';

// The contention figures come from the lab's benchmark, compiled: its workers run dist/lab/bench/worker.js.
const { formatHoldTimes, formatLockTable, measureHoldTimes, runLockTable, summarizeLockTable, TABLE_KIND_NAMES } =
  require('../dist/lab/bench/host_contention') as typeof HostContention;

const INNER = 1000;
/** Rounds of the per-Node figures (a fresh process per release and round). */
const NODE_ROUNDS = 9;
/** Rounds of the goals' interleaved run (each task timed for --time / 5 ms per round, at least 20). */
const GOAL_ROUNDS = 7;

interface Figure {
  name: string;
  nsPerOp: number;
  baseline?: string;
  ratio?: number;
}

/**
 * Per-round medians robust to drift: `rounds` rounds, each timing every named task for `ms` in a
 * rotated order (so no task always runs first or after the same one); per round and task the
 * median batch time in ns per operation.
 */
function interleaved(
  tasks: Record<string, () => void>,
  names: readonly string[],
  rounds: number,
  ms: number,
): Map<string, number[]> {
  const perRound = new Map<string, number[]>(names.map((n) => [n, []]));
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + round) % names.length] as string;
      const task = tasks[name] as () => void;
      const batches: number[] = [];
      const end = performance.now() + ms;
      while (performance.now() < end) {
        const t0 = process.hrtime.bigint();
        task();
        batches.push(Number(process.hrtime.bigint() - t0) / INNER);
      }
      (perRound.get(name) as number[]).push(spread(batches)?.median ?? NaN);
    }
  }
  return perRound;
}

/**
 * A compiled module of the measured build: this checkout's dist/, or --dist's (another checkout's
 * dist/, of 0.4 or later: the grouped layout, the lab's handle factory, the addon's bench object).
 */
function distModule<T>(dist: string, module: string): T {
  const file = path.join(dist, `${module}.js`);
  if (!fs.existsSync(file))
    throw new Error(`${dist} has no ${module}.js: --dist measures a build of rseq-slice 0.4 or later`);
  return require(file) as T;
}

/** The two loops of issue 20's goal: `count` section pairs in C++ on this thread, spin 0. */
const ADDON_PAIR = "native section pair, rseq-slice's addon (sectionLoop)";
const HEADER_PAIR = 'native section pair through include/rseq_slice.h (a consumer addon)';

/**
 * The benchmark's consumer addon (scripts/header_consumer) initialised with the measured package's
 * function table, for the section pair through the header; built first when missing or older than
 * its sources. Or why not, for the report.
 */
function loadConsumer(
  native: (typeof Package)['native'],
  progress: boolean,
): { consumer: HeaderConsumer; reason?: undefined } | { consumer?: undefined; reason: string } {
  if (native === null) return { reason: "rseq-slice's addon gives no native API here (see detect())" };
  if (HEADER_CONSUMER.stale() !== null) {
    if (progress)
      process.stderr.write(`building ${HEADER_CONSUMER.name} (node-gyp) for the section pair through the header\n`);
    const built = HEADER_CONSUMER.build();
    if (!built.ok) return { reason: `the consumer addon could not be built: ${built.reason.trim()}` };
  }
  try {
    const consumer = require(HEADER_CONSUMER.binary) as HeaderConsumer;
    consumer.init(native);
    const counts = consumer.sectionLoop(INNER, 0);
    if (!Array.isArray(counts) || counts.reduce((a, b) => a + b) !== INNER)
      return { reason: `the consumer's sectionLoop answered ${JSON.stringify(counts)}` };
    return { consumer };
  } catch (err) {
    return { reason: `the consumer addon did not load: ${err instanceof Error ? err.message : String(err)}` };
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean' },
      time: { type: 'string' },
      'no-contended': { type: 'boolean' },
      dist: { type: 'string' },
      rounds: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '0.5' },
      'section-ns': { type: 'string', default: '0' },
      spin: { type: 'string' },
      'no-nodes': { type: 'boolean' },
    },
  });
  const time = values.time === undefined ? 500 : Number(values.time);
  if (!Number.isFinite(time) || time <= 0)
    throw new Error(`--time must be a positive number of ms; got ${values.time}`);
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  const sectionNs = Number(values['section-ns']);
  const spin = values.spin === undefined ? undefined : Number(values.spin);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error(`--rounds must be a positive integer; got ${values.rounds}`);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new Error(`--seconds must be a positive number; got ${values.seconds}`);
  if (!Number.isInteger(sectionNs) || sectionNs < 0)
    throw new Error(`--section-ns must be an integer >= 0; got ${values['section-ns']}`);
  if (spin !== undefined && (!Number.isInteger(spin) || spin < 0))
    throw new Error(`--spin must be an integer >= 0; got ${values.spin}`);
  // Everything measured comes from one dist: two copies of the addon in one process would each
  // register the thread's area.
  const dist = path.resolve(values.dist ?? path.join(__dirname, '..', 'dist'));
  const pkg = distModule<typeof Package>(dist, 'index');
  const { detect, open, SliceMutex } = pkg;
  const { addonState } = distModule<typeof AddonModule>(dist, 'addon/addon');
  const { measuredHandle } = distModule<typeof HandleModule>(dist, 'lab/bench/handle');
  const { addon } = addonState();
  if (!addon) throw new Error(`the native addon did not load: ${addonState().error}`);
  const native = (addon as unknown as { bench: NativeBench }).bench;
  const js = measuredHandle('javascript');
  const call = measuredHandle('native-call');
  const sim = open({ backend: 'simulator', simulator: { interruptRateHz: 0 } });
  let sink = 0;
  const fn = (): number => sink + 1;
  const mutexOn = SliceMutex.create({ slice: js });
  const mutexOff = SliceMutex.create({ slice: null });
  // What a service gets by default: open()'s handle (the simulator fallback where the kernel
  // cannot grant) and a SliceMutex with its default handle.
  const auto = open();
  const mutexDefault = SliceMutex.create();
  const requestBytes = new Uint8Array(32); // stands for the area: the floor of a section's own cost
  let depth = 0;
  let clean = 0;
  // The uncontended spin lock of the micro-benchmarks, written inline: the lock of
  // lib/lab/bench/spin_lock.ts that the contention figures use, but called through a function it
  // measured 2–4x slower here (tinybench's short windows end before V8 inlines the call), which
  // would flatter every ratio against it.
  const spinWord = new Int32Array(new SharedArrayBuffer(4));
  // Issue 20: the section pair through include/rseq_slice.h, in a consumer addon.
  const { consumer, reason: headerSkipped } = loadConsumer(pkg.native, !values.json);

  // Each task's loop is written out, not made by a shared factory: closures of one function literal
  // are one function to V8, optimized with the feedback of all their handles. Such a factory
  // measured the JavaScript path's enter()+exit() and run(fn) about 2x slower, and SliceMutex's
  // lock+unlock 7 % slower, than these loops (same machine, same session), which moved the goal
  // lines that divide them.
  const bench = new Bench({ time, warmupTime: 200, iterations: 20 });
  const tasks: Record<string, () => void> = {
    'empty loop (baseline)': () => {
      for (let i = 0; i < INNER; i++) sink += i & 1;
    },
    'plain call fn()': () => {
      for (let i = 0; i < INNER; i++) sink = fn();
    },
    'javascript path enter()+exit()': () => {
      for (let i = 0; i < INNER; i++) {
        js.enter();
        sink += i & 1;
        js.exit();
      }
    },
    'javascript path run(fn)': () => {
      for (let i = 0; i < INNER; i++) sink = js.run(fn);
    },
    'native-call path enter()+exit()': () => {
      for (let i = 0; i < INNER; i++) {
        call.enter();
        sink += i & 1;
        call.exit();
      }
    },
    'native loop (C++ btrl path, per pair)': () => {
      native.sectionLoop(INNER, 0);
    },
    [ADDON_PAIR]: () => {
      native.sectionLoop(INNER, 0);
    },
    ...(consumer && {
      [HEADER_PAIR]: () => {
        consumer.sectionLoop(INNER, 0);
      },
    }),
    'cpu() from the area': () => {
      for (let i = 0; i < INNER; i++) sink += js.cpu();
    },
    'sched_getcpu() through N-API': () => {
      for (let i = 0; i < INNER; i++) sink += native.schedGetcpu();
    },
    'simulator run(fn), rate 0': () => {
      for (let i = 0; i < INNER; i++) sink = sim.run(fn);
    },
    'Atomics spin lock lock+unlock': () => {
      for (let i = 0; i < INNER; i++) {
        while (Atomics.compareExchange(spinWord, 0, 0, 1) !== 0);
        sink += i & 1;
        Atomics.store(spinWord, 0, 0);
      }
    },
    'open() handle enter()+exit()': () => {
      for (let i = 0; i < INNER; i++) {
        auto.enter();
        sink += i & 1;
        auto.exit();
      }
    },
    'open() handle run(fn)': () => {
      for (let i = 0; i < INNER; i++) sink = auto.run(fn);
    },
    'SliceMutex lock+unlock, default handle': () => {
      for (let i = 0; i < INNER; i++) {
        mutexDefault.lock();
        sink += i & 1;
        mutexDefault.unlock();
      }
    },
    // The raw spin lock with a section's byte work inline (nesting depth, request, granted, the
    // clean count): what no lock that asks for an extension can go below.
    'Atomics spin lock + request bytes inline': () => {
      for (let i = 0; i < INNER; i++) {
        while (Atomics.compareExchange(spinWord, 0, 0, 1) !== 0);
        if (depth++ === 0) requestBytes[28] = 1;
        sink += i & 1;
        Atomics.store(spinWord, 0, 0);
        if (--depth === 0) {
          const requested = requestBytes[28] as number;
          requestBytes[28] = 0;
          if (requested !== 0 && requestBytes[29] === 0) clean++;
        }
      }
    },
    'SliceMutex lock+unlock, requests off': () => {
      for (let i = 0; i < INNER; i++) {
        mutexOff.lock();
        sink += i & 1;
        mutexOff.unlock();
      }
    },
    'SliceMutex lock+unlock, requests on': () => {
      for (let i = 0; i < INNER; i++) {
        mutexOn.lock();
        sink += i & 1;
        mutexOn.unlock();
      }
    },
  };
  for (const [name, task] of Object.entries(tasks)) bench.add(name, task);
  await bench.run();
  // The goals of issues 18 and 20, judged from the same loops again, interleaved over rounds.
  const goals: Goal[] = [
    {
      issue: 18,
      name: 'javascript path run(fn)',
      baseline: 'javascript path enter()+exit()',
      measure: 'extra-ns',
      limit: 1,
    },
    {
      issue: 18,
      name: 'open() handle enter()+exit()',
      baseline: 'javascript path enter()+exit()',
      measure: 'ratio',
      limit: 1.1,
    },
    { issue: 18, name: 'open() handle run(fn)', baseline: 'javascript path run(fn)', measure: 'ratio', limit: 1.1 },
    {
      issue: 18,
      name: 'SliceMutex lock+unlock, default handle',
      baseline: 'SliceMutex lock+unlock, requests off',
      measure: 'ratio',
      limit: 1.03,
    },
    {
      issue: 18,
      name: 'SliceMutex lock+unlock, requests off',
      baseline: 'Atomics spin lock lock+unlock',
      measure: 'ratio',
      limit: 1.25,
    },
    {
      issue: 18,
      name: 'SliceMutex lock+unlock, requests on',
      baseline: 'Atomics spin lock lock+unlock',
      measure: 'ratio',
      limit: 1.25,
    },
    {
      issue: 18,
      name: 'Atomics spin lock + request bytes inline',
      baseline: 'Atomics spin lock lock+unlock',
      measure: 'ratio',
      limit: Infinity,
    },
    {
      issue: 20,
      name: HEADER_PAIR,
      baseline: ADDON_PAIR,
      measure: 'ratio',
      limit: 1.1,
      label: "header section pair / addon's native loop (ns per section pair)",
      showRounds: true,
      ...(headerSkipped !== undefined && { skipped: headerSkipped }),
    },
  ];
  const goalTasks = [...new Set(goals.flatMap((g) => (g.skipped ? [] : [g.name, g.baseline])))];
  const goalResults = judge(interleaved(tasks, goalTasks, GOAL_ROUNDS, Math.max(20, time / 5)), goals);

  const ns = new Map<string, number>();
  for (const t of bench.tasks) {
    const r = t.result as { latency?: { p50?: number } } | undefined;
    const p50 = r?.latency?.p50;
    if (p50 === undefined) throw new Error(`task ${t.name} produced no latency`);
    ns.set(t.name, (p50 * 1e6) / INNER); // ms per sample → ns per operation
  }
  const empty = ns.get('empty loop (baseline)') as number;
  const figure = (name: string, baseline?: string, subtractLoop = true): Figure => {
    const raw = ns.get(name) as number;
    const own = subtractLoop ? Math.max(0, raw - empty) : raw;
    const f: Figure = { name, nsPerOp: own };
    if (baseline) {
      f.baseline = baseline;
      f.ratio = raw / (ns.get(baseline) as number);
    }
    return f;
  };
  const figures: Figure[] = [
    figure('empty loop (baseline)', undefined, false),
    figure('plain call fn()'),
    figure('javascript path enter()+exit()', 'empty loop (baseline)'),
    figure('javascript path run(fn)', 'plain call fn()'),
    figure('native-call path enter()+exit()', 'javascript path enter()+exit()'),
    figure('native loop (C++ btrl path, per pair)', 'javascript path enter()+exit()', false),
    figure(ADDON_PAIR, undefined, false),
    ...(consumer ? [figure(HEADER_PAIR, ADDON_PAIR, false)] : []),
    figure('cpu() from the area', 'sched_getcpu() through N-API'),
    figure('sched_getcpu() through N-API'),
    figure('simulator run(fn), rate 0', 'plain call fn()'),
    figure('Atomics spin lock lock+unlock', 'empty loop (baseline)'),
    figure('SliceMutex lock+unlock, requests off', 'Atomics spin lock lock+unlock'),
    figure('SliceMutex lock+unlock, requests on', 'Atomics spin lock lock+unlock'),
  ];
  // Contended throughput: workers on this machine's CPUs, requests off and on, in one run.
  const contended: HostContention.HoldTimes[] = [];
  const cores = os.cpus().length;
  const tableWorkers = [...new Set([1, 2, cores * 2, cores * 4])].sort((a, b) => a - b);
  let table: HostContention.LockTableRun[] = [];
  if (!values['no-contended']) {
    for (const workers of [2, 4, 8]) {
      for (const request of [false, true])
        contended.push(await measureHoldTimes({ workers, seconds: 1, request, dist }));
    }
    table = await runLockTable(
      { workers: tableWorkers, rounds, seconds, sectionNs, dist, spin },
      values.json
        ? undefined
        : (r) =>
            process.stderr.write(
              `  round ${r.round} ${r.workers} workers ${TABLE_KIND_NAMES[r.kind]}: ${r.error ? 'n/a' : `${r.mops.toFixed(2)} M/s, ${r.cpuNsPerSection?.toFixed(0) ?? '–'} CPU ns/section`}\n`,
            ),
    );
  }
  const tableRows = summarizeLockTable(table);
  const acrossNodes = values['no-nodes'] || values.dist !== undefined ? undefined : benchAcrossNodes(NODE_ROUNDS, 300);
  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    kernel: os.release(),
    node: process.version,
    backendOfHandles: js.backend,
    sliceExtension: detect().sliceExtension.available,
    dist,
  };
  if (values.json) {
    console.log(
      JSON.stringify(
        {
          machine,
          inner: INNER,
          figures,
          goals: goalResults,
          contended,
          table: { runs: table, rows: tableRows },
          acrossNodes,
        },
        null,
        2,
      ),
    );
    return;
  }
  console.log(
    `${machine.cpu}, ${machine.cores} cores, Linux ${machine.kernel}, Node ${machine.node}; slice extension ${machine.sliceExtension ? 'available' : 'not available (the fast path is measured over the real area, never granted)'}`,
  );
  console.log(`package measured: ${dist}`);
  console.log('median ns per operation (loop overhead subtracted where a baseline is a loop)\n');
  for (const f of figures) {
    const ratio = f.ratio !== undefined ? `  ${f.ratio.toFixed(2)}x ${f.baseline}` : '';
    console.log(`${f.name.padEnd(42)} ${f.nsPerOp.toFixed(2).padStart(8)} ns${ratio}`);
  }
  if (contended.length) {
    console.log('\ncontended SliceMutex, sections 1–20 µs, 1 s each (ratios on/off in the same run):');
    for (const r of contended) console.log(`  ${formatHoldTimes(r)}`);
    for (const workers of [2, 4, 8]) {
      const [off, on] = contended.filter((r) => r.workers === workers);
      if (off && on)
        console.log(
          `  ${workers} workers: throughput on/off ${(on.sectionsPerSecond / off.sectionsPerSecond).toFixed(3)}x, wait p99 on/off ${(on.waitNs.p99 / Math.max(1, off.waitNs.p99)).toFixed(3)}x`,
        );
    }
  }
  if (tableRows.length) {
    console.log(
      `\ncontention: all workers on one lock, section = counter increment${sectionNs ? ` + ${sectionNs} ns spin` : ''}, ` +
        `${rounds} rounds of ${seconds} s, kinds interleaved; median (min–max) over rounds; ` +
        `M sections/s summed over workers, CPU ns per section summed over worker threads; SliceMutex / raw spin per round` +
        (spin === undefined ? '' : `; SliceMutex spin ${spin}`),
    );
    console.log(formatLockTable(tableRows));
    // Goal C (issue 18): SliceMutex at least the raw spin lock's throughput at 2 workers and more.
    for (const kind of ['mutex-off', 'mutex-on'] as const) {
      const parts = tableRows
        .filter((r) => r.workers >= 2)
        .map((r) => {
          const m = r.ratios[kind]?.median;
          return `${r.workers}: ${m === undefined ? 'n/a' : `${m.toFixed(2)}x ${m >= 1 ? 'met' : 'MISSED'}`}`;
        });
      console.log(`goal C (${TABLE_KIND_NAMES[kind]} / raw spin >= 1, median): ${parts.join(', ')}`);
    }
  }
  // The goals, each per round against its baseline in the same round; all measured in the same
  // interleaved rounds, printed by issue.
  for (const issue of [...new Set(goalResults.map((g) => g.issue))]) {
    console.log(`\ngoals (issue ${issue}), ${GOAL_ROUNDS} rounds interleaved, per-round median (min–max):`);
    for (const g of goalResults) if (g.issue === issue) for (const line of formatGoal(g)) console.log(line);
  }
  if (acrossNodes) {
    console.log('');
    for (const line of formatAcrossNodes(acrossNodes)) console.log(line);
  }
  if (sink === 0.5 || clean === 0.5) console.log(''); // keep `sink` and `clean` observable
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
