/**
 * The child process of `rseq-slice check`: it needs a thread with no rseq area yet, so it runs
 * with glibc's registration off (GLIBC_TUNABLES=glibc.pthread.rseq=0), and prints one JSON line.
 *
 *   probe abi                      the ABI transcript against the real kernel
 *   probe grants SECONDS [quick]   the grant scenario, then the chosen instants (instants.ts),
 *                                  with the noise thread; the caller pins this process to one CPU
 */
import { Worker } from 'node:worker_threads';
import { PR_RSEQ_SLICE_EXTENSION_GET } from '../../kernel/abi';
import { addonState } from '../../addon/addon';
import { open } from '../../open';
import { countersDelta, type SliceCounters } from '../../kernel/rseq_stats';
import { readExtensionNsec, readRseqStats, readRseqStatsOrWhy } from '../../kernel/knobs';
import type { SliceStats } from '../../extension';
import { runInstants, type InstantsProbe } from './instants';
import { abiTranscript, nativeTarget, type TranscriptStep } from './transcript';

export interface GrantProbe {
  /** prctl GET in a new worker before it opens (a new thread starts disabled: 0). */
  newThreadGet: number;
  /** The addon's fork probe: GET = 1 in bit 0, ENABLED flag in bit 1 (3: the child kept both). */
  forkProbe: number;
  /** Sections with the extension disabled (R15: no grant may be seen). */
  disabled: SliceStats;
  /** Sections with the extension enabled. */
  enabled: SliceStats;
  /** debugfs rseq/stats deltas around the enabled sections, or why they are unknown. */
  kernel: SliceCounters | { unreadable: string };
  /** The chosen instants, on the same thread with the same competitor. */
  instants: InstantsProbe;
}

export type ProbeOutput = { abi: TranscriptStep[] } | { grants: GrantProbe } | { error: string };

// The selftest's noise thread (spin 2 µs, sleep 50 µs), as plain JavaScript for an eval worker.
const NOISE = `
const { parentPort, workerData } = require('node:worker_threads');
const stop = new Int32Array(workerData.stop);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const hr = process.hrtime.bigint;
parentPort.postMessage('ready');
while (Atomics.load(stop, 0) === 0) {
  const end = hr() + 2000n;
  while (hr() < end);
  Atomics.wait(sleeper, 0, 0, 0.05);
}
parentPort.postMessage('done');`;

const NEW_THREAD_GET = `
const { parentPort, workerData } = require('node:worker_threads');
const addon = require(workerData.binary);
parentPort.postMessage(addon.prctl(${PR_RSEQ_SLICE_EXTENSION_GET}, 0, 0, 0));`;

function once(w: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
}

function sections(h: ReturnType<typeof open>, seconds: number): SliceStats {
  const hr = process.hrtime.bigint;
  const deadline = hr() + BigInt(Math.round(seconds * 1e9));
  const before = h.stats;
  while (hr() < deadline) {
    for (let i = 0; i < 200; i++) {
      h.enter();
      const end = hr() + 2000n;
      while (hr() < end);
      h.exit();
    }
  }
  const after = h.stats;
  const d = { ...after };
  for (const k of Object.keys(d) as Array<keyof SliceStats>) d[k] = after[k] - before[k];
  return d;
}

async function grants(seconds: number, quick: boolean): Promise<GrantProbe> {
  const { addon } = addonState();
  if (!addon) throw new Error(`the native addon did not load: ${addonState().error}`);
  // The fresh thread loads the very binary this thread did.
  const fresh = new Worker(NEW_THREAD_GET, { eval: true, workerData: { binary: addonState().path } });
  const newThreadGet = (await once(fresh)) as number;
  await fresh.terminate();
  const h = open({ backend: 'native' });
  const forkProbe = addon.diagnostics.forkProbe();
  const stop = new SharedArrayBuffer(4);
  const noise = new Worker(NOISE, { eval: true, workerData: { stop } });
  await once(noise);
  let disabled: SliceStats;
  let enabled: SliceStats;
  let kernel: GrantProbe['kernel'];
  let instants: InstantsProbe;
  try {
    h.disable();
    disabled = sections(h, Math.min(0.3, seconds));
    h.enable();
    const before = readRseqStatsOrWhy();
    enabled = sections(h, seconds);
    kernel = 'unreadable' in before ? before : countersDelta(before, readRseqStats());
    instants = runInstants(addon.diagnostics, quick, readExtensionNsec());
  } finally {
    const done = once(noise);
    Atomics.store(new Int32Array(stop), 0, 1);
    await done;
    await noise.terminate();
  }
  return { newThreadGet, forkProbe, disabled, enabled, kernel, instants };
}

async function main(argv: string[]): Promise<ProbeOutput> {
  const [mode, arg, flag] = argv;
  if (mode === 'abi' && arg === undefined) return { abi: abiTranscript(nativeTarget()) };
  const seconds = Number(arg);
  if (
    mode === 'grants' &&
    Number.isFinite(seconds) &&
    seconds > 0 &&
    seconds <= 60 &&
    [undefined, 'quick'].includes(flag)
  )
    return { grants: await grants(seconds, flag === 'quick') };
  return {
    error: `usage: probe abi | probe grants SECONDS [quick] (0 < SECONDS <= 60); got ${JSON.stringify(argv)}`,
  };
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (out) => {
      process.stdout.write(`${JSON.stringify(out)}\n`);
      process.exitCode = 'error' in out ? 2 : 0;
    },
    (e: unknown) => {
      process.stdout.write(`${JSON.stringify({ error: e instanceof Error ? e.message : String(e) })}\n`);
      process.exitCode = 1;
    },
  );
}
