/**
 * The kernel's files this package reads and writes, in one place: the extension length knob
 * (debugfs `rseq/slice_ext_nsec`, or the pre-merge sysctl), the `rseq_slice_ext=` boot parameter
 * on /proc/cmdline, the debugfs `rseq/stats` counters (their format: ./rseq_stats.ts) and where
 * tracefs is mounted. Every reader in the library, the CLI, the lab, the scripts and the tests
 * goes through here, so a path is spelled once and a value is parsed one way.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseRseqStats, type SliceCounters } from './rseq_stats';

/** Where debugfs is mounted on every distribution. */
export const DEBUGFS = '/sys/kernel/debug';
/** The rseq directory of debugfs (kernel/rseq.c rseq_debugfs_init). */
export const RSEQ_DEBUGFS_DIR = path.join(DEBUGFS, 'rseq');

/** The files of an rseq debugfs directory (`dir` other than the real one: a test fixture). */
export function rseqDebugfsFiles(dir = RSEQ_DEBUGFS_DIR): { stats: string; extensionNsec: string } {
  return { stats: path.join(dir, 'stats'), extensionNsec: path.join(dir, 'slice_ext_nsec') };
}

/** debugfs `rseq/stats` (CONFIG_RSEQ_STATS): the counters. */
export const STATS_FILE = rseqDebugfsFiles().stats;
/** debugfs `rseq/slice_ext_nsec`: the extension length in ns (root; 5000..50000 on write). */
export const EXTENSION_NSEC_FILE = rseqDebugfsFiles().extensionNsec;
/** Where the extension length knob lived on pre-merge kernels: a sysctl. */
const PRE_MERGE_EXTENSION_NSEC_FILE = '/proc/sys/kernel/rseq_slice_extension_nsec';
/** The kernel command line. */
const KERNEL_COMMAND_LINE_FILE = '/proc/cmdline';
/** Where tracefs is mounted: its own mount first, then under debugfs (older setups). */
export const TRACEFS_DIRS: readonly string[] = ['/sys/kernel/tracing', path.join(DEBUGFS, 'tracing')];

/** The extension length of a knob file's text ("5000\n" → 5000), or null when it is no integer. */
export function parseExtensionNsec(text: string): number | null {
  const n = Number(text.trim());
  return text.trim() !== '' && Number.isInteger(n) ? n : null;
}

/**
 * The extension length in ns, or null when no knob is readable (debugfs needs root). Reads
 * debugfs, then the pre-merge sysctl; `files` other than those: a test fixture.
 */
export function readExtensionNsec(
  files: readonly string[] = [EXTENSION_NSEC_FILE, PRE_MERGE_EXTENSION_NSEC_FILE],
): number | null {
  for (const file of files) {
    try {
      const n = parseExtensionNsec(fs.readFileSync(file, 'utf8'));
      if (n !== null) return n;
    } catch {
      // next candidate
    }
  }
  return null;
}

/** The text of debugfs `rseq/slice_ext_nsec`, trimmed. Throws the read error (its `code` the errno name). */
export function readExtensionNsecText(): string {
  return fs.readFileSync(EXTENSION_NSEC_FILE, 'utf8').trim();
}

/**
 * Writes `text` to debugfs `rseq/slice_ext_nsec` as it is, unchecked: the kernel's own answer
 * (ERANGE outside 5000..50000) comes back as the thrown error's `code`. For the conformance
 * check, which asks the kernel that question; others want {@link writeExtensionNsec}.
 */
export function writeExtensionNsecText(text: string): void {
  fs.writeFileSync(EXTENSION_NSEC_FILE, text);
}

/**
 * Sets debugfs `rseq/slice_ext_nsec` to `ns` and returns the previous value, to put back
 * afterwards. Throws an Error naming the file, the errno and what it needs.
 */
export function writeExtensionNsec(ns: number): number {
  try {
    const previous = Number(readExtensionNsecText());
    writeExtensionNsecText(String(ns));
    return previous;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new Error(
      `cannot set the extension length: ${EXTENSION_NSEC_FILE} (${code}); it needs root, a mounted debugfs and a kernel with the slice extension`,
    );
  }
}

/** The kernel command line, trimmed. Throws the read error. */
export function readKernelCommandLine(): string {
  return fs.readFileSync(KERNEL_COMMAND_LINE_FILE, 'utf8').trim();
}

/** The value of `rseq_slice_ext=` in a kernel command line, or null when absent. */
export function parseBootParam(cmdline: string): string | null {
  const m = /(?:^|\s)rseq_slice_ext=(\S*)/.exec(cmdline);
  return m ? (m[1] as string) : null;
}

/** The value of `rseq_slice_ext=` on /proc/cmdline, or null (absent or unreadable). */
export function readBootParam(): string | null {
  try {
    return parseBootParam(readKernelCommandLine());
  } catch {
    return null;
  }
}

/** Whether a `rseq_slice_ext=` value switches the extension off (the kernel's kstrtobool false). */
export function bootParamDisables(param: string | null): boolean {
  return param !== null && /^(0|off|n|no|false)$/i.test(param);
}

/** Whether debugfs is mounted where {@link DEBUGFS} says (false when /proc/mounts is unreadable). */
export function debugfsMounted(): boolean {
  try {
    return fs
      .readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .some((line) => {
        const [, mountPoint, type] = line.split(' ');
        return mountPoint === DEBUGFS && type === 'debugfs';
      });
  } catch {
    return false;
  }
}

/** The text of debugfs `rseq/stats` (throws the read error, its `code` the errno name). */
export function readRseqStatsText(file = STATS_FILE): string {
  return fs.readFileSync(file, 'utf8');
}

/** Reads and parses debugfs `rseq/stats` (throws the read error, its `code` the errno name, or the parse error). */
export function readRseqStats(file = STATS_FILE): SliceCounters {
  return parseRseqStats(readRseqStatsText(file), file);
}

/** The counters now, or why they are unreadable: for reports that say so. */
export function readRseqStatsOrWhy(file = STATS_FILE): SliceCounters | { unreadable: string } {
  try {
    return readRseqStats(file);
  } catch (e) {
    return { unreadable: e instanceof Error ? e.message : String(e) };
  }
}

/** The counters now, or null when unreadable (no root, no debugfs, no CONFIG_RSEQ_STATS): for callers that run on without them. */
export function readRseqStatsOrNull(file = STATS_FILE): SliceCounters | null {
  try {
    return readRseqStats(file);
  } catch {
    return null;
  }
}
