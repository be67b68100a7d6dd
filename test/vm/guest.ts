/** Helpers for the suites that run inside the slice-extension guest (see scripts/test-vm.ts). */
import * as fs from 'node:fs';
import * as os from 'node:os';

export const STATS_FILE = '/sys/kernel/debug/rseq/stats';
export const NSEC_FILE = '/sys/kernel/debug/rseq/slice_ext_nsec';

/** "kernel 7.2.13, command line: …" for describe() titles. */
export function bootDescription(): string {
  const cmdline = fs.readFileSync('/proc/cmdline', 'utf8').trim();
  return `kernel ${os.release()}, command line "${cmdline}", GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES ?? '(unset)'}`;
}

export interface KernelStats {
  sgrant: number;
  sexpir: number;
  srevok: number;
  syield: number;
  sabort: number;
}

/** debugfs rseq/stats (CONFIG_RSEQ_STATS): the slice counters. */
export function readStats(): KernelStats {
  const text = fs.readFileSync(STATS_FILE, 'utf8');
  const get = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text);
    if (!m) throw new Error(`${STATS_FILE} has no ${name} line`);
    return Number(m[1]);
  };
  return { sgrant: get('sgrant'), sexpir: get('sexpir'), srevok: get('srevok'), syield: get('syield'), sabort: get('sabort') };
}

export function statsDelta(before: KernelStats, after: KernelStats): KernelStats {
  return {
    sgrant: after.sgrant - before.sgrant,
    sexpir: after.sexpir - before.sexpir,
    srevok: after.srevok - before.srevok,
    syield: after.syield - before.syield,
    sabort: after.sabort - before.sabort,
  };
}

/** Sets debugfs rseq/slice_ext_nsec and returns the previous value. */
export function setExtensionNsec(ns: number): number {
  const previous = Number(fs.readFileSync(NSEC_FILE, 'utf8').trim());
  fs.writeFileSync(NSEC_FILE, String(ns));
  return previous;
}

/**
 * Mocha hooks for the enclosing suite: slice_ext_nsec 50000 while it runs (under TCG the default
 * 5 µs extension usually runs out before a section ends), then put back, and `figures` printed.
 */
export function withLongExtension(figures: string[], seconds: number): void {
  let previous = 5000;
  before(() => {
    previous = setExtensionNsec(50000);
  });
  after(() => {
    setExtensionNsec(previous);
    console.log(`\n      figures (${seconds} s each, slice_ext_nsec 50000):\n${figures.join('\n')}`);
  });
}
