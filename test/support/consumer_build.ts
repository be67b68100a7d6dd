/**
 * Builds the consumer addon of the native API (test/native/consumer: its own binding.gyp, include/rseq_slice.h
 * found through require('rseq-slice').include) with the project's node-gyp, as a consumer package
 * would: for test/lib/consumer.test.ts (a fresh build), scripts/bench.ts, and scripts/test-vm.ts (on the
 * host, before the guest boots, when the binary is missing or stale; the guest runs the host's root
 * over 9p, so it loads that very file). Standalone (no test helpers): scripts import it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
export const CONSUMER_DIR = path.join(ROOT, 'test', 'native', 'consumer');
/** Where node-gyp puts the built addon. */
export const CONSUMER_BINARY = path.join(CONSUMER_DIR, 'build', 'Release', 'consumer.node');
const NODE_GYP = path.join(ROOT, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
/** What the binary is built from: a binary older than any of them is stale. */
const CONSUMER_SOURCES = [
  ...['binding.gyp', 'consumer.cc', 'c_part.c'].map((f) => path.join(CONSUMER_DIR, f)),
  path.join(ROOT, 'include', 'rseq_slice.h'),
];

/** The running node's own headers when its installation has them (as scripts/build-addon). */
function nodedirEnv(): NodeJS.ProcessEnv {
  const prefix = path.resolve(process.execPath, '..', '..');
  const hasHeaders = fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'));
  return !process.env.npm_config_nodedir && hasHeaders ? { npm_config_nodedir: prefix } : {};
}

/**
 * Why the consumer addon cannot be built on this machine at all (not Linux, a missing compiler or
 * make), or null. A skip, not a failure: buildConsumer() reports everything else.
 */
export function consumerBuildUnavailable(): string | null {
  if (process.platform !== 'linux') return 'the native API is Linux-only';
  for (const tool of ['g++', 'cc', 'make'])
    if (spawnSync(tool, ['--version']).status !== 0) return `no ${tool} to build the consumer addon`;
  return null;
}

/** Why the binary needs a build ('missing', 'older than …'), or null when it is current. */
export function consumerStale(): string | null {
  if (!fs.existsSync(CONSUMER_BINARY)) return 'missing';
  const built = fs.statSync(CONSUMER_BINARY).mtimeMs;
  const newer = CONSUMER_SOURCES.filter((f) => fs.statSync(f).mtimeMs > built);
  return newer.length > 0 ? `older than ${newer.map((f) => path.relative(ROOT, f)).join(', ')}` : null;
}

/** Whether CONSUMER_BINARY exists and is newer than every file it is built from. */
export function consumerBinaryCurrent(): boolean {
  return consumerStale() === null;
}

/** `node-gyp rebuild` of test/native/consumer: the binary's path, or why it could not be built. */
export function buildConsumer(): { ok: true; binary: string } | { ok: false; reason: string } {
  const unavailable = consumerBuildUnavailable();
  if (unavailable !== null) return { ok: false, reason: unavailable };
  if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js')))
    return {
      ok: false,
      reason: 'dist/ is missing: the consumer finds the header through require("rseq-slice"); run npm run build',
    };
  // CFLAGS, CXXFLAGS and LDFLAGS pass through as to any node-gyp build (scripts/test-asan sets
  // sanitizer flags); the sanitizer runtimes test-asan preloads into node are not the compiler's.
  const { LD_PRELOAD: _preload, ...env } = process.env;
  const r = spawnSync(process.execPath, [NODE_GYP, 'rebuild', '--loglevel=warn', '--directory', CONSUMER_DIR], {
    env: { ...env, ...nodedirEnv() },
    encoding: 'utf8',
  });
  if (r.status !== 0)
    return {
      ok: false,
      reason: `node-gyp could not build test/native/consumer:\n${r.stdout}\n${r.stderr}${r.error ?? ''}`,
    };
  return { ok: true, binary: CONSUMER_BINARY };
}

/** Builds the consumer only when consumerStale() says so (throws when it cannot); what it did, for a log line. */
export function ensureConsumerBuilt(): string {
  const why = consumerStale();
  if (why === null) return `test/native/consumer is up to date (${path.relative(ROOT, CONSUMER_BINARY)})`;
  const built = buildConsumer();
  if (!built.ok) throw new Error(built.reason);
  return `built test/native/consumer (its binary was ${why})`;
}
