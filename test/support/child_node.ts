/**
 * Running code in a child node process or a worker thread: a snippet, or a program of
 * test/fixtures (TypeScript, run through tsx), and reading the JSON it prints or posts.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import * as path from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { FIXTURES, ROOT } from './paths';

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
