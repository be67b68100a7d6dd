/**
 * Builds the consumer addon of the native API (test/consumer: its own binding.gyp, include/rseq_slice.h
 * found through require('rseq-slice').include) with the project's node-gyp, for
 * test/consumer.test.ts and scripts/bench.ts.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DIST, ROOT } from './helpers';

export const CONSUMER_DIR = path.join(ROOT, 'test', 'consumer');
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

/** Whether CONSUMER_BINARY exists and is newer than every file it is built from. */
export function consumerBinaryCurrent(): boolean {
  if (!fs.existsSync(CONSUMER_BINARY)) return false;
  const built = fs.statSync(CONSUMER_BINARY).mtimeMs;
  return CONSUMER_SOURCES.every((f) => fs.statSync(f).mtimeMs <= built);
}

/** `node-gyp rebuild` of test/consumer: the binary's path, or why it could not be built. */
export function buildConsumer(): { ok: true; binary: string } | { ok: false; reason: string } {
  const unavailable = consumerBuildUnavailable();
  if (unavailable !== null) return { ok: false, reason: unavailable };
  if (!fs.existsSync(path.join(DIST, 'index.js')))
    return {
      ok: false,
      reason: 'dist/ is missing: the consumer finds the header through require("rseq-slice"); run npm run build',
    };
  const r = spawnSync(process.execPath, [NODE_GYP, 'rebuild', '--loglevel=warn', '--directory', CONSUMER_DIR], {
    env: { ...process.env, ...nodedirEnv() },
    encoding: 'utf8',
  });
  if (r.status !== 0)
    return { ok: false, reason: `node-gyp could not build test/consumer:\n${r.stdout}\n${r.stderr}${r.error ?? ''}` };
  return { ok: true, binary: CONSUMER_BINARY };
}
