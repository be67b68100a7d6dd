/** Helpers for the suites that run inside the slice-extension guest (see scripts/test-vm.ts). */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ConformanceReport } from '../../lib/conformance/check';
import { countersDelta, EXTENSION_NSEC_FILE, readRseqStats, STATS_FILE, type SliceCounters } from '../../lib/rseq_stats';

export { STATS_FILE };
export const NSEC_FILE = EXTENSION_NSEC_FILE;

/** "kernel 7.2.13, command line: …" for describe() titles. */
export function bootDescription(): string {
  const cmdline = fs.readFileSync('/proc/cmdline', 'utf8').trim();
  return `kernel ${os.release()}, command line "${cmdline}", GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES ?? '(unset)'}`;
}

/** The debugfs slice counters, parsed by the library's own parser (lib/rseq_stats.ts). */
export type KernelStats = SliceCounters;

/** debugfs rseq/stats (CONFIG_RSEQ_STATS): the slice counters. */
export function readStats(): KernelStats {
  return readRseqStats(STATS_FILE);
}

export const statsDelta = countersDelta;

/** Sets debugfs rseq/slice_ext_nsec and returns the previous value. */
export function setExtensionNsec(ns: number): number {
  const previous = Number(fs.readFileSync(NSEC_FILE, 'utf8').trim());
  fs.writeFileSync(NSEC_FILE, String(ns));
  return previous;
}

/** `rseq-slice check --json` in a child (it runs its own children with glibc's registration off). */
export function runCheck(): { status: number | null; report: ConformanceReport; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'dist', 'cli.js'), 'check', '--json'], { encoding: 'utf8' });
  if (!r.stdout) throw new Error(`rseq-slice check printed nothing (status ${r.status}): ${r.stderr}`);
  return { status: r.status, report: JSON.parse(r.stdout) as ConformanceReport, stderr: r.stderr };
}

/** The check's rule lines, for the test log. */
export function checkSummary(report: ConformanceReport): string {
  return report.rules.map((x) => `      ${x.rule.padEnd(4)} ${x.status.padEnd(4)} ${x.detail}`).join('\n');
}
