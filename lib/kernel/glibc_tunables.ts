/** GLIBC_TUNABLES values: `name=value:name=value`, read by glibc at process start. */

/** The tunable that turns glibc's own rseq registration off (glibc 2.35 and later). */
export const GLIBC_RSEQ_TUNABLE = 'glibc.pthread.rseq';

export interface MergedTunables {
  /** The new GLIBC_TUNABLES value. */
  value: string;
  /** The values `name` had before, when different from the new one (one per occurrence). */
  replaced: string[];
}

/**
 * Sets `name=value` in a GLIBC_TUNABLES string: every other entry is kept in its order, every
 * earlier `name=…` entry is dropped, and `name=value` goes last. Empty entries are dropped.
 */
export function mergeTunable(current: string | undefined, name: string, value: string): MergedTunables {
  if (!/^[A-Za-z0-9_.]+$/.test(name))
    throw new TypeError(`a tunable name is dotted words (e.g. ${GLIBC_RSEQ_TUNABLE}); got ${JSON.stringify(name)}`);
  if (value.includes(':') || value.includes('='))
    throw new TypeError(`a tunable value cannot contain ':' or '='; got ${JSON.stringify(value)}`);
  const kept: string[] = [];
  const replaced: string[] = [];
  for (const entry of (current ?? '').split(':')) {
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    if (eq >= 0 && entry.slice(0, eq) === name) {
      const old = entry.slice(eq + 1);
      if (old !== value) replaced.push(old);
      continue;
    }
    kept.push(entry);
  }
  kept.push(`${name}=${value}`);
  return { value: kept.join(':'), replaced };
}
