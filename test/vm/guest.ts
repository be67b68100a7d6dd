/** Helpers for the suites that run inside the slice-extension guest (see test/vm/run.ts). */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ConformanceReport } from '../../lib/lab/conformance/check';
import { countersDelta, type SliceCounters } from '../../lib/kernel/rseq_stats';
import { readKernelCommandLine, readRseqStats, writeExtensionNsec } from '../../lib/kernel/knobs';
import { DIST } from '../support/paths';

export { writeExtensionNsec };

/**
 * Runs `run` beside the selftest's noise thread (test/vm/scenario-worker.js: spin 2 µs, sleep
 * 50 µs) in this process: in a spec pinned to one CPU its wakeups preempt whatever runs there,
 * a section included, which is what makes the kernel grant.
 */
export async function withNoise<T>(run: () => Promise<T>): Promise<T> {
  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(path.join(__dirname, 'scenario-worker.js'), {
    workerData: { role: 'noise', dist: DIST, stop },
  });
  const next = (): Promise<void> =>
    new Promise((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
  await next(); // 'ready'
  try {
    return await run();
  } finally {
    const done = next();
    Atomics.store(new Int32Array(stop), 0, 1);
    await done;
    await worker.terminate();
  }
}

/** "kernel 7.2.13, command line: …" for describe() titles. */
export function bootDescription(): string {
  const cmdline = readKernelCommandLine();
  return `kernel ${os.release()}, node ${process.version}, command line "${cmdline}", GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES ?? '(unset)'}`;
}

/** The debugfs slice counters, parsed by the library's own parser (lib/kernel/rseq_stats.ts). */
export type KernelStats = SliceCounters;

/** debugfs rseq/stats (CONFIG_RSEQ_STATS): the slice counters. */
export function readStats(): KernelStats {
  return readRseqStats();
}

export const statsDelta = countersDelta;

/**
 * Mocha hooks for the enclosing suite: slice_ext_nsec 50000 while it runs (under TCG the default
 * 5 µs extension usually runs out before a section ends), then put back, and `figures` printed.
 */
export function withLongExtension(figures: string[], seconds: number): void {
  let previous = 5000;
  before(() => {
    previous = writeExtensionNsec(50000);
  });
  after(() => {
    writeExtensionNsec(previous);
    console.log(`\n      figures (${seconds} s each, slice_ext_nsec 50000):\n${figures.join('\n')}`);
  });
}

/** `rseq-slice check --json` in a child (it runs its own children with glibc's registration off). */
export function runCheck(): { status: number | null; report: ConformanceReport; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(DIST, 'cli', 'main.js'), 'check', '--json'], {
    encoding: 'utf8',
  });
  if (!r.stdout) throw new Error(`rseq-slice check printed nothing (status ${r.status}): ${r.stderr}`);
  return { status: r.status, report: JSON.parse(r.stdout) as ConformanceReport, stderr: r.stderr };
}

/**
 * Runs `rseq-slice check`, logs its rule lines, and expects the model, no FAIL, exit 0, and a pass
 * for each of `mustPass`. Every step it compares is a deterministic syscall answer (kernel/rseq.c
 * rseq_register, sys_rseq, rseq_slice_extension_prctl, sys_rseq_slice_yield), and its grant
 * verdicts are kernel invariants (lib/lab/conformance/check.ts checkGrants).
 */
export function expectCheckConforms(model: ConformanceReport['model'], mustPass: string[] = []): ConformanceReport {
  const { status, report, stderr } = runCheck();
  // A check that could not run prints an error line instead of rules: say why, and which clock
  // the guest reads (a clocksource without a vDSO read turns every clock read into a syscall).
  if (!Array.isArray(report.rules)) {
    let clock = 'unknown';
    try {
      clock = fs.readFileSync('/sys/devices/system/clocksource/clocksource0/current_clocksource', 'utf8').trim();
    } catch {
      // leave it unknown
    }
    throw new Error(
      `rseq-slice check did not run (status ${status}, clocksource ${clock}): ${JSON.stringify(report)}; stderr: ${stderr}`,
    );
  }
  console.log(report.rules.map((x) => `      ${x.rule.padEnd(4)} ${x.status.padEnd(4)} ${x.detail}`).join('\n'));
  expect(report.model).to.equal(model);
  expect(
    report.rules.filter((r) => r.status === 'FAIL'),
    stderr,
  ).to.deep.equal([]);
  for (const rule of mustPass) expect(report.rules.find((r) => r.rule === rule)?.status, rule).to.equal('pass');
  expect(status).to.equal(0);
  return report;
}

/**
 * The glibc-on variant runs the host's own glibc (the guest shares the host's root): its legacy
 * area exists only with glibc 2.35-2.40. Skips the suite, with the reason printed, elsewhere.
 */
export function requireLegacyGlibc(ctx: Mocha.Context): void {
  const v =
    (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime ?? '';
  const minor = /^2\.(\d+)$/.exec(v)?.[1];
  if (minor === undefined || Number(minor) < 35 || Number(minor) > 40) {
    console.log(
      `      (skipped: this host's glibc is ${v || 'not glibc'}, which registers no legacy rseq area; the glibc-on suites need 2.35-2.40)`,
    );
    ctx.skip();
  }
}
