/**
 * Builds the consumer addon (test/consumer) with the project's node-gyp, as a consumer package
 * would: used by test/consumer.test.ts (a fresh build) and by scripts/test-vm.ts (on the host,
 * before the guest boots, when the binary is missing or older than its sources; the guest runs
 * the host's root over 9p, so it loads that very file).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');
export const CONSUMER_DIR = path.join(ROOT, 'test', 'consumer');
export const CONSUMER_BINARY = path.join(CONSUMER_DIR, 'build', 'Release', 'consumer.node');
const NODE_GYP = path.join(ROOT, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');

/** What the binary is built from: its own sources and rseq-slice's header. */
const SOURCES = [
  path.join(CONSUMER_DIR, 'binding.gyp'),
  path.join(CONSUMER_DIR, 'consumer.cc'),
  path.join(CONSUMER_DIR, 'c_part.c'),
  path.join(ROOT, 'include', 'rseq_slice.h'),
];

/** The running node's own headers when its installation has them (as scripts/build-addon). */
function nodedirEnv(): NodeJS.ProcessEnv {
  const prefix = path.resolve(process.execPath, '..', '..');
  const hasHeaders = fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'));
  return !process.env.npm_config_nodedir && hasHeaders ? { npm_config_nodedir: prefix } : {};
}

/** Why the binary needs a build ('missing', 'older than …'), or null when it is up to date. */
export function consumerStale(): string | null {
  if (!fs.existsSync(CONSUMER_BINARY)) return 'missing';
  const built = fs.statSync(CONSUMER_BINARY).mtimeMs;
  const newer = SOURCES.filter((s) => fs.statSync(s).mtimeMs > built);
  return newer.length > 0 ? `older than ${newer.map((s) => path.relative(ROOT, s)).join(', ')}` : null;
}

/**
 * `node-gyp rebuild` of test/consumer; throws with node-gyp's output on failure. Its binding.gyp
 * finds the header through require('rseq-slice').include, so dist/ must be built.
 */
export function buildConsumer(): void {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js')))
    throw new Error('dist/ is missing: the consumer finds the header through require("rseq-slice"); run npm run build');
  const r = spawnSync(process.execPath, [NODE_GYP, 'rebuild', '--loglevel=warn', '--directory', CONSUMER_DIR], {
    env: { ...process.env, ...nodedirEnv() },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`node-gyp could not build test/consumer:\n${r.stdout}\n${r.stderr}`);
}

/** Builds the consumer only when consumerStale() says so; returns what it did, for a log line. */
export function ensureConsumerBuilt(): string {
  const why = consumerStale();
  if (why === null) return `test/consumer is up to date (${path.relative(ROOT, CONSUMER_BINARY)})`;
  buildConsumer();
  return `built test/consumer (its binary was ${why})`;
}
