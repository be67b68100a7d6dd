/** The kernel's slice counters (debugfs rseq/stats, CONFIG_RSEQ_STATS, root) and the extension length knob. */
import * as fs from 'node:fs';

export const STATS_FILE = '/sys/kernel/debug/rseq/stats';
export const EXTENSION_NSEC_FILE = '/sys/kernel/debug/rseq/slice_ext_nsec';

/** Grants, expirations, revocations, yields and aborts (a syscall other than the yield ended a grant). */
export interface KernelSliceStats {
  sgrant: number;
  sexpir: number;
  srevok: number;
  syield: number;
  sabort: number;
}

const NAMES = ['sgrant', 'sexpir', 'srevok', 'syield', 'sabort'] as const;

/** Parses the slice lines of rseq/stats; null when one is missing. */
export function parseKernelSliceStats(text: string): KernelSliceStats | null {
  const out: Partial<KernelSliceStats> = {};
  for (const name of NAMES) {
    const m = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text);
    if (!m) return null;
    out[name] = Number(m[1]);
  }
  return out as KernelSliceStats;
}

/** The counters now, or null when unreadable (no root, no debugfs, no CONFIG_RSEQ_STATS). */
export function readKernelSliceStats(): KernelSliceStats | null {
  try {
    return parseKernelSliceStats(fs.readFileSync(STATS_FILE, 'utf8'));
  } catch {
    return null;
  }
}

export function kernelStatsDelta(before: KernelSliceStats, after: KernelSliceStats): KernelSliceStats {
  const d = {} as KernelSliceStats;
  for (const name of NAMES) d[name] = after[name] - before[name];
  return d;
}

/** Writes slice_ext_nsec; returns the previous value. Throws an Error naming the file and the errno. */
export function writeExtensionNsec(ns: number): number {
  try {
    const previous = Number(fs.readFileSync(EXTENSION_NSEC_FILE, 'utf8').trim());
    fs.writeFileSync(EXTENSION_NSEC_FILE, String(ns));
    return previous;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new Error(`cannot set the extension length: ${EXTENSION_NSEC_FILE} (${code}); it needs root, a mounted debugfs and a kernel with the slice extension`);
  }
}
