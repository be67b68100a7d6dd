/**
 * The kernel's debugfs rseq counters (CONFIG_RSEQ_STATS, kernel/rseq.c rseq_stats_show): one
 * parser for `rseq-slice stats`, `rseq-slice check` and the guest suite.
 */
import * as fs from 'node:fs';

/** Where debugfs is mounted on every distribution. */
export const DEBUGFS = '/sys/kernel/debug';
export const STATS_FILE = `${DEBUGFS}/rseq/stats`;
export const EXTENSION_NSEC_FILE = `${DEBUGFS}/rseq/slice_ext_nsec`;

/** The slice counters of debugfs rseq/stats (summed over CPUs by the kernel). */
export interface SliceCounters {
  /** Extensions granted (sgrant). */
  sgrant: number;
  /** Grant timers that fired while the grant was live (sexpir). */
  sexpir: number;
  /** Grants revoked on a return to user space (srevok). */
  srevok: number;
  /** Grants ended by rseq_slice_yield (syield). */
  syield: number;
  /** Grants ended by another syscall (sabort). */
  sabort: number;
}

export const SLICE_COUNTERS: ReadonlyArray<keyof SliceCounters> = ['sgrant', 'sexpir', 'srevok', 'syield', 'sabort'];

/**
 * Parses the text of rseq/stats (`name:   N` lines). Throws when a slice counter is missing: the
 * kernel prints them only when built with CONFIG_RSEQ_SLICE_EXTENSION.
 */
export function parseRseqStats(text: string, source = STATS_FILE): SliceCounters {
  const get = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+)\\s*$`, 'm').exec(text);
    if (!m)
      throw new Error(
        `${source} has no ${name} line: the kernel lacks CONFIG_RSEQ_SLICE_EXTENSION, or this is not an rseq stats file`,
      );
    return Number(m[1]);
  };
  return {
    sgrant: get('sgrant'),
    sexpir: get('sexpir'),
    srevok: get('srevok'),
    syield: get('syield'),
    sabort: get('sabort'),
  };
}

/** Reads and parses rseq/stats (throws the read error or the parse error). */
export function readRseqStats(file = STATS_FILE): SliceCounters {
  return parseRseqStats(fs.readFileSync(file, 'utf8'), file);
}

/** after − before, counter by counter. */
export function countersDelta(before: SliceCounters, after: SliceCounters): SliceCounters {
  const d = { ...after };
  for (const k of SLICE_COUNTERS) d[k] = after[k] - before[k];
  return d;
}
