/**
 * Builds an addon that consumes rseq-slice's native API the way another package's addon would:
 * its own binding.gyp, include/rseq_slice.h found through require('rseq-slice').include, built with
 * the project's node-gyp. The benchmark's is here (HEADER_CONSUMER: the section pair through the
 * header, for scripts/bench.ts); the tests build theirs with the same class.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');
const NODE_GYP = path.join(ROOT, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const HEADER = path.join(ROOT, 'include', 'rseq_slice.h');

/** The running node's own headers when its installation has them (as scripts/build-addon). */
function nodedirEnv(): NodeJS.ProcessEnv {
  const prefix = path.resolve(process.execPath, '..', '..');
  const hasHeaders = fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'));
  return !process.env.npm_config_nodedir && hasHeaders ? { npm_config_nodedir: prefix } : {};
}

/**
 * Why no consumer addon can be built on this machine at all (not Linux, a missing compiler or
 * make), or null. A skip, not a failure: build() reports everything else.
 */
export function consumerBuildUnavailable(): string | null {
  if (process.platform !== 'linux') return 'the native API is Linux-only';
  for (const tool of ['g++', 'cc', 'make'])
    if (spawnSync(tool, ['--version']).status !== 0) return `no ${tool} to build a consumer addon`;
  return null;
}

export class ConsumerBuild {
  /** The addon's directory, relative to the repository root (in messages). */
  readonly name: string;
  /** Where node-gyp puts the built addon. */
  readonly binary: string;
  /** What the binary is built from: a binary older than any of them is stale. */
  private readonly sources: string[];

  /**
   * `dir`: the addon's directory (absolute); `target`: its binding.gyp target name; `sources`: the
   * files of `dir` it is built from (binding.gyp counts too).
   */
  constructor(
    readonly dir: string,
    target: string,
    sources: readonly string[],
  ) {
    this.name = path.relative(ROOT, dir);
    this.binary = path.join(dir, 'build', 'Release', `${target}.node`);
    this.sources = [...['binding.gyp', ...sources].map((f) => path.join(dir, f)), HEADER];
  }

  /** Why the binary needs a build ('missing', 'older than …'), or null when it is current. */
  stale(): string | null {
    if (!fs.existsSync(this.binary)) return 'missing';
    const built = fs.statSync(this.binary).mtimeMs;
    const newer = this.sources.filter((f) => fs.statSync(f).mtimeMs > built);
    return newer.length > 0 ? `older than ${newer.map((f) => path.relative(ROOT, f)).join(', ')}` : null;
  }

  /** `node-gyp rebuild` of the addon: the binary's path, or why it could not be built. */
  build(): { ok: true; binary: string } | { ok: false; reason: string } {
    const unavailable = consumerBuildUnavailable();
    if (unavailable !== null) return { ok: false, reason: unavailable };
    if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js')))
      return {
        ok: false,
        reason: 'dist/ is missing: a consumer finds the header through require("rseq-slice"); run npm run build',
      };
    // CFLAGS, CXXFLAGS and LDFLAGS pass through as to any node-gyp build (scripts/test-asan sets
    // sanitizer flags); the sanitizer runtimes test-asan preloads into node are not the compiler's.
    const { LD_PRELOAD: _preload, ...env } = process.env;
    const r = spawnSync(process.execPath, [NODE_GYP, 'rebuild', '--loglevel=warn', '--directory', this.dir], {
      env: { ...env, ...nodedirEnv() },
      encoding: 'utf8',
    });
    if (r.status !== 0)
      return { ok: false, reason: `node-gyp could not build ${this.name}:\n${r.stdout}\n${r.stderr}${r.error ?? ''}` };
    return { ok: true, binary: this.binary };
  }

  /** Builds only when stale() says so (throws when it cannot); what it did, for a log line. */
  ensureBuilt(): string {
    const why = this.stale();
    if (why === null) return `${this.name} is up to date (${path.relative(ROOT, this.binary)})`;
    const built = this.build();
    if (!built.ok) throw new Error(built.reason);
    return `built ${this.name} (its binary was ${why})`;
  }
}

/** The benchmark's consumer (scripts/header_consumer/section_loop.cc): its surface. */
export interface HeaderConsumer {
  /** Takes rseq-slice's function table (require('rseq-slice').native); throws the header's message for anything else. */
  init(native: unknown): void;
  /** `count` sections through the header on this thread, each spinning `spinNs`: [clean, yielded, raced, revoked] or -errno. */
  sectionLoop(count: number, spinNs: number): [number, number, number, number] | number;
}

/** The benchmark's consumer: the section pair through include/rseq_slice.h (scripts/bench.ts). */
export const HEADER_CONSUMER = new ConsumerBuild(path.join(ROOT, 'scripts', 'header_consumer'), 'header_consumer', [
  'section_loop.cc',
]);
