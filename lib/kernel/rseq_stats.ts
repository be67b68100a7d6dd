/**
 * The format of the kernel's debugfs rseq counters (CONFIG_RSEQ_STATS, kernel/rseq.c
 * rseq_stats_show): one parser for `rseq-slice stats`, `rseq-slice check`, the benchmark and the
 * guest suite. Where the file is and how it is read: ./knobs.ts.
 */

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
export function parseRseqStats(text: string, source = 'debugfs rseq/stats'): SliceCounters {
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

/** after − before, counter by counter. */
export function countersDelta(before: SliceCounters, after: SliceCounters): SliceCounters {
  const d = { ...after };
  for (const k of SLICE_COUNTERS) d[k] = after[k] - before[k];
  return d;
}
