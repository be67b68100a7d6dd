/** Shared test helpers: skipping with a printed reason, and running code in a child or worker. */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import type { Context } from 'mocha';

export const ROOT = path.join(__dirname, '..');
export const DIST = path.join(ROOT, 'dist');

/** Skips the test and prints why, so a skip is never silent. */
export function skipBecause(ctx: Context, reason: string): never {
  console.log(`      (skipped: ${reason})`);
  ctx.skip();
}

/**
 * For what .ci/run installs or fetches (cross compiler, qemu-user, other glibcs, readelf): in CI
 * (CI=true) its absence is a failure, so a green run cannot hide skipped coverage; elsewhere a
 * skip with the reason printed.
 */
export function skipUnlessCi(ctx: Context, reason: string): never {
  if (process.env.CI === 'true') throw new Error(`CI must run this test, but: ${reason}`);
  return skipBecause(ctx, reason);
}

/** Where the programs that tests run in a child process or a worker live (TypeScript, run by tsx). */
export const FIXTURES = path.join(__dirname, 'fixtures');

/** Node options that let a child process or a worker run a TypeScript file (tsx's CommonJS hook). */
export const TSX_EXEC_ARGV = ['--require', require.resolve('tsx/cjs')];

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** A command that runs node, e.g. a launcher or taskset. */
  prefix?: string[];
  /** Kill the child after this many ms (default 60000; 0: never). */
  timeoutMs?: number;
}

export interface NodeResult {
  status: number | null;
  stdout: string;
  stderr: string;
  signal: NodeJS.Signals | null;
}

/** Runs a JavaScript snippet in a child node process; `dist` is the compiled package. */
export function runNode(code: string, options: RunOptions = {}): NodeResult {
  return runNodeArgs(['-e', code], options);
}

/** Runs test/fixtures/`name` (TypeScript) in a child node process, with `args` on its command line. */
export function runFixture(name: string, args: string[], options: RunOptions = {}): NodeResult {
  return runNodeArgs([...TSX_EXEC_ARGV, path.join(FIXTURES, name), ...args], options);
}

/** Runs test/fixtures/`name` (TypeScript) in a worker thread of this process (`options`: e.g. resourceLimits). */
export function fixtureWorker(name: string, workerData: unknown, options: WorkerOptions = {}): Worker {
  return new Worker(path.join(FIXTURES, name), { ...options, execArgv: TSX_EXEC_ARGV, workerData });
}

function runNodeArgs(nodeArgs: string[], options: RunOptions): NodeResult {
  const argv = [...(options.prefix ?? []), process.execPath, ...nodeArgs];
  const spawnOptions: SpawnSyncOptions = {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
  };
  const r = spawnSync(argv[0] as string, argv.slice(1), spawnOptions);
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr), signal: r.signal };
}

/** Runs a snippet in a child node process and parses the JSON it prints last. */
export function runNodeJson<T>(code: string, options: RunOptions = {}): T {
  return lastJson<T>(runNode(code, options));
}

/** Runs test/fixtures/`name` like runFixture() and parses the JSON it prints last. */
export function fixtureJson<T>(name: string, args: string[], options: RunOptions = {}): T {
  return lastJson<T>(runFixture(name, args, options));
}

function lastJson<T>(r: NodeResult): T {
  if (r.status !== 0) throw new Error(`child failed (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] as string) as T;
}

/** Runs test/fixtures/`name` in a worker thread and resolves with its first message. */
export function inWorker<T>(name: string, workerData: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const w = fixtureWorker(name, workerData);
    w.once('message', (m: T) => {
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
    w.once('exit', (code) => {
      if (code !== 0) reject(new Error(`worker exited with ${code}`));
    });
  });
}

/** What `fn` throws (fails the test when it returns). */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error(`expected ${fn.toString()} to throw`);
}

/** Expands a kernel CPU list ("0-3,6,8-9") to its numbers. */
export function parseCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.trim().split(',')) {
    if (part === '') continue;
    const [a, b] = part.split('-').map(Number) as [number, number | undefined];
    for (let c = a; c <= (b ?? a); c++) out.push(c);
  }
  return out;
}

/** The CPUs this process may run on (its affinity, cpusets included), in order. */
export function allowedCpus(): number[] {
  const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? parseCpuList(m[1] as string) : [];
}

/** One more than the highest possible CPU number: the bound of a CPU or concurrency id. */
export function possibleCpuBound(): number {
  return Math.max(...parseCpuList(fs.readFileSync('/sys/devices/system/cpu/possible', 'utf8'))) + 1;
}
