/** Statistics for the benchmark: percentiles of samples, on/off ratios and their spread over rounds. */

/** Percentiles of a set of durations (ns). */
export interface Percentiles {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/** Nearest-rank percentiles of `samples` (sorted in place when given a Float64Array copy). */
export function percentiles(samples: Float64Array): Percentiles {
  const s = Float64Array.from(samples).sort();
  const n = s.length;
  // Nearest rank: the smallest sample with at least q of all samples at or below it.
  const at = (q: number): number => (n === 0 ? 0 : (s[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))] as number));
  return { count: n, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: n === 0 ? 0 : (s[n - 1] as number) };
}

/**
 * `on / off`. Where `off` is 0 the round still counts, so that a round in which requests on did
 * worse is never left out: 1 when both are 0, Infinity when only `on` is not (JSON prints it as
 * null).
 */
export function ratio(on: number, off: number): number {
  if (off === 0) return on === 0 ? 1 : Infinity;
  return on / off;
}

/** The min, median and max of a set of per-round ratios (null ratios, where a round has no figure, left out). */
export interface Spread {
  min: number;
  median: number;
  max: number;
  /** Rounds whose ratio could be formed. */
  rounds: number;
}

export function spread(values: ReadonlyArray<number | null>): Spread | null {
  const v = values.filter((x): x is number => x !== null && !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  const median = v.length % 2 === 1 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
  return { min: v[0] as number, median, max: v[v.length - 1] as number, rounds: v.length };
}

/** Events per 10,000 sections. */
export function per10k(events: number, sections: number): number {
  return sections === 0 ? 0 : (events * 10_000) / sections;
}

/** A histogram over logarithmic bins: `edges[i]..edges[i+1]` holds `counts[i]` samples. */
export interface LogHistogram {
  edges: number[];
  counts: number[];
}

/**
 * Counts `samples` into `binsPerDecade` log-spaced bins from `lo` up to at least the largest
 * sample (samples below `lo` go in the first bin).
 */
export function logHistogram(samples: Float64Array, lo: number, binsPerDecade: number, hi?: number): LogHistogram {
  if (!(lo > 0)) throw new RangeError(`logHistogram: lo must be > 0; got ${lo}`);
  if (!Number.isInteger(binsPerDecade) || binsPerDecade < 1)
    throw new RangeError(`logHistogram: binsPerDecade must be a positive integer; got ${binsPerDecade}`);
  let top = hi ?? lo * 10;
  if (hi === undefined) for (const x of samples) if (x > top) top = x;
  const step = 1 / binsPerDecade;
  const bins = Math.max(1, Math.ceil(Math.log10(top / lo) / step - 1e-9));
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo * 10 ** (i * step));
  const counts = new Array<number>(bins).fill(0);
  for (const x of samples) {
    const i = x <= lo ? 0 : Math.min(bins - 1, Math.floor(Math.log10(x / lo) / step + 1e-12));
    counts[i] = (counts[i] as number) + 1;
  }
  return { edges, counts };
}

/** The samples of several arrays in one, in order. */
export function concat(parts: Float64Array[]): Float64Array {
  const all = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return all;
}
