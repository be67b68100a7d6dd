/**
 * `rseq-slice build`: compiles the native addon from source inside the installed package, for
 * platforms no prebuilt binary fits (musl, other architectures). The package has no install
 * script, so this never happens behind the user's back: it happens when asked.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PACKAGE_ROOT } from '../../package_root';
import { findBuildTools, INSTALL_HINT, missingTools } from '../build_tools';
import { EXIT_USAGE, parseOptions, type CliIo, type Command } from './command';

/** The compiled module that loads the addon (dist/addon/addon.js), to probe a fresh build with. */
const ADDON_MODULE = require.resolve('../../addon/addon');

/** Where binding.gyp lives (not the root, so npm never compiles at install); node-gyp runs here. */
const NATIVE_DIR = path.join(PACKAGE_ROOT, 'native');

/**
 * The headers of the running node, when its installation carries them (official release tarballs
 * and the node container images do): node-gyp then needs no download of the headers.
 */
function localNodeDir(env: NodeJS.ProcessEnv): string | null {
  if (env.npm_config_nodedir) return null; // npm's own setting wins; node-gyp reads it
  const prefix = path.join(path.dirname(process.execPath), '..');
  try {
    const h = fs.readFileSync(path.join(prefix, 'include', 'node', 'node_version.h'), 'utf8');
    const v = ['MAJOR', 'MINOR', 'PATCH'].map((k) => new RegExp(`#define NODE_${k}_VERSION (\\d+)`).exec(h)?.[1]);
    return `v${v.join('.')}` === process.version ? path.resolve(prefix) : null;
  } catch {
    return null;
  }
}

/** The last lines of a failed build's output: the compiler's error is at the end. */
function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** How node-gyp ended, and everything it printed (stdout and stderr, in the order it came). */
export interface NodeGypRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  /** Set when node-gyp could not be started at all. */
  error?: NodeJS.ErrnoException;
  output: string;
}

/** node-gyp's own chatter (versions, paths, `gyp info ok`): not progress a user needs. */
const GYP_INFO = /^gyp info /;

/**
 * Runs node-gyp (`nodeGyp`, its JavaScript entry point, under this node) with `args`, and passes
 * each line it prints to `progress` as it comes, `gyp info` lines excepted: make's
 * `CXX(target) …` lines, compiler warnings and errors, node-gyp's `gyp ERR!`. A build takes ~10 s,
 * which is too long to stay silent. Resolves when node-gyp has exited.
 */
export function runNodeGyp(
  nodeGyp: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
  progress: (line: string) => void,
): Promise<NodeGypRun> {
  return new Promise((resolve) => {
    let output = '';
    let error: NodeJS.ErrnoException | undefined;
    const child = spawn(process.execPath, [nodeGyp, ...args], { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      const emit = (line: string): void => {
        if (line.trim() !== '' && !GYP_INFO.test(line)) progress(line.trimEnd());
      };
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        output += chunk;
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        lines.forEach(emit);
      });
      stream.on('end', () => emit(partial));
    }
    child.on('error', (e: NodeJS.ErrnoException) => {
      error = e;
      // Not started at all: 'close' may never come. (A later error leaves it to 'close'.)
      if (child.pid === undefined) resolve({ status: null, signal: null, output, error });
    });
    // 'close', not 'exit': both streams have ended by then, so the output is complete.
    child.on('close', (status, signal) => resolve({ status, signal, output, ...(error ? { error } : {}) }));
  });
}

export const buildCommand: Command = {
  name: 'build',
  summary: 'compile the native addon from source, where no prebuilt binary fits',
  synopsis: 'build',
  help: `Usage: rseq-slice build

Compiles the native addon from source (node-gyp, C++17) into the installed package's
native/build/ directory, for platforms no prebuilt binary fits, then checks that it loads; it is
loaded from then on instead of a prebuilt binary. node-gyp's progress (the compiler lines,
warnings, errors) goes to stderr as it comes. Needs a C++17 compiler (CXX, else g++, c++ or
clang++), make and python3.
${INSTALL_HINT}.

Exit status: 0 built and loads, 1 a tool is missing, the build failed or the result does not load,
2 bad usage.`,
  async run(argv: string[], io: CliIo): Promise<number> {
    if (parseOptions(this, argv, {}, io) === null) return EXIT_USAGE;
    const tools = findBuildTools();
    const missing = missingTools(tools);
    if (missing.length > 0) {
      io.err(`rseq-slice build: cannot build from source here; missing: ${missing.join('; ')}.\n${INSTALL_HINT}.`);
      return 1;
    }
    io.out(`building in ${NATIVE_DIR} with ${tools.compiler} (node-gyp ${tools.nodeGyp})`);
    const nodeDir = localNodeDir(process.env);
    const args = ['rebuild', ...(nodeDir ? [`--nodedir=${nodeDir}`] : [])];
    // The compiler found above, not make's default g++ (a host with only clang++ passes the check).
    const env = process.env.CXX ? process.env : { ...process.env, CXX: tools.compiler as string };
    const built = await runNodeGyp(tools.nodeGyp as string, args, { cwd: NATIVE_DIR, env }, (line) => io.err(line));
    if (built.status !== 0) {
      const how = built.error
        ? (built.error.code ?? built.error.message)
        : built.signal
          ? `signal ${built.signal}`
          : `status ${built.status}`;
      io.err(`rseq-slice build: node-gyp rebuild failed (${how}):\n${tail(built.output, 20)}`);
      return 1;
    }
    // A fresh process: this one may already have tried (and cached) a failed load.
    const probe = spawnSync(
      process.execPath,
      [
        '-e',
        `const a = require(${JSON.stringify(ADDON_MODULE)}).addonState(); console.log(a.addon ? 'loaded' : a.error)`,
      ],
      { encoding: 'utf8' },
    );
    const result = probe.stdout.trim();
    if (result !== 'loaded') {
      io.err(`rseq-slice build: the build finished but the addon does not load: ${result || probe.stderr.trim()}`);
      return 1;
    }
    io.out('built; the native addon loads (run rseq-slice detect to see what the kernel offers)');
    return 0;
  },
};
