/**
 * What the benchmark needs of debugfs: the slice counters when readable (lib/kernel/rseq_stats.ts parses
 * them) and the extension length knob.
 */
import * as fs from 'node:fs';
import { EXTENSION_NSEC_FILE, readRseqStats, STATS_FILE, type SliceCounters } from '../../kernel/rseq_stats';

/** The counters now, or null when unreadable (no root, no debugfs, no CONFIG_RSEQ_STATS): the benchmark runs without them. */
export function readKernelSliceStats(file = STATS_FILE): SliceCounters | null {
  try {
    return readRseqStats(file);
  } catch {
    return null;
  }
}

/** Writes slice_ext_nsec; returns the previous value. Throws an Error naming the file and the errno. */
export function writeExtensionNsec(ns: number): number {
  try {
    const previous = Number(fs.readFileSync(EXTENSION_NSEC_FILE, 'utf8').trim());
    fs.writeFileSync(EXTENSION_NSEC_FILE, String(ns));
    return previous;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new Error(
      `cannot set the extension length: ${EXTENSION_NSEC_FILE} (${code}); it needs root, a mounted debugfs and a kernel with the slice extension`,
    );
  }
}
