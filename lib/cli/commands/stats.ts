/** `rseq-slice stats`: the kernel's debugfs slice counters, once or as rates per second. */
import { parseRseqStats, SLICE_COUNTERS, type SliceCounters } from '../../kernel/rseq_stats';
import {
  DEBUGFS,
  debugfsMounted,
  readExtensionNsec,
  readRseqStatsText,
  RSEQ_DEBUGFS_DIR,
  rseqDebugfsFiles,
} from '../../kernel/knobs';
import { EXIT_USAGE, fail, JSON_ERROR_HELP, parseOptions, usageError, type CliIo, type Command } from './command';

const NAMES: Record<keyof SliceCounters, string> = {
  sgrant: 'grants',
  syield: 'yields',
  srevok: 'revocations',
  sexpir: 'expiries',
  sabort: 'aborts',
};
const ORDER: Array<keyof SliceCounters> = ['sgrant', 'syield', 'srevok', 'sexpir', 'sabort'];

/** The rseq debugfs files; RSEQ_SLICE_DEBUGFS_RSEQ points to another directory (for tests). */
function rseqFiles(): { stats: string; extensionNsec: string } {
  return rseqDebugfsFiles(process.env.RSEQ_SLICE_DEBUGFS_RSEQ || RSEQ_DEBUGFS_DIR);
}

interface Sample {
  counters: SliceCounters;
  extensionNsec: number | null;
}

/** The stats cannot be read: `code` the errno name (or `malformed`), `remedy` what would help. */
class StatsUnreadable extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly remedy?: string,
  ) {
    super(message);
  }
}

/** Why the stats file cannot be read, and what would make it readable. */
function explain(file: string, e: NodeJS.ErrnoException): StatsUnreadable {
  const code = e.code ?? 'failed';
  if (code === 'EACCES' || code === 'EPERM')
    return new StatsUnreadable(
      `${file}: permission denied (${code}): debugfs is readable by root only; run as root`,
      code,
      'run as root',
    );
  if (code === 'ENOENT' && !process.env.RSEQ_SLICE_DEBUGFS_RSEQ && !debugfsMounted()) {
    const remedy = `as root: mount -t debugfs none ${DEBUGFS}`;
    return new StatsUnreadable(`${file} does not exist: debugfs is not mounted; ${remedy}`, code, remedy);
  }
  if (code === 'ENOENT') {
    const remedy = `Linux 7.0+ built with CONFIG_RSEQ_STATS and CONFIG_RSEQ_SLICE_EXTENSION; root and a mounted debugfs: mount -t debugfs none ${DEBUGFS}`;
    return new StatsUnreadable(
      `${file} does not exist: the kernel has no rseq stats (it needs ${remedy})`,
      code,
      `run ${remedy}`,
    );
  }
  return new StatsUnreadable(`${file}: ${e.message}`, code);
}

function sample(): Sample {
  const files = rseqFiles();
  const file = files.stats;
  let text: string;
  try {
    text = readRseqStatsText(file);
  } catch (e) {
    throw explain(file, e as NodeJS.ErrnoException);
  }
  let counters: SliceCounters;
  try {
    counters = parseRseqStats(text, file);
  } catch (e) {
    throw new StatsUnreadable((e as Error).message, 'malformed');
  }
  // Only the counters are required: the length is null when unreadable.
  return { counters, extensionNsec: readExtensionNsec([files.extensionNsec]) };
}

function formatOnce(s: Sample): string {
  const lines = [
    `rseq slice counters (${rseqFiles().stats}), extension ${s.extensionNsec === null ? 'unknown' : `${s.extensionNsec} ns`}`,
  ];
  for (const k of ORDER) lines.push(`  ${`${NAMES[k]} (${k})`.padEnd(22)} ${String(s.counters[k]).padStart(14)}`);
  return lines.join('\n');
}

function rates(a: SliceCounters, b: SliceCounters, seconds: number): SliceCounters {
  const r = { ...b };
  for (const k of SLICE_COUNTERS) r[k] = Math.round(((b[k] - a[k]) / seconds) * 10) / 10;
  return r;
}

/** Sleeps `ms`, or less when `stopped` resolves first. */
function sleep(ms: number, stopped: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([new Promise<void>((r) => (timer = setTimeout(r, ms))), stopped]).finally(() =>
    clearTimeout(timer),
  );
}

async function watch(seconds: number, count: number | null, json: boolean, io: CliIo): Promise<number> {
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
    stop();
  };
  process.on('SIGINT', onSigint);
  try {
    let previous = sample();
    let t0 = process.hrtime.bigint();
    if (!json) {
      io.out(
        `rates per second over ${seconds} s, extension ${previous.extensionNsec === null ? 'unknown' : `${previous.extensionNsec} ns`} (Ctrl-C stops)`,
      );
      io.out(`${'time'.padEnd(8)} ${ORDER.map((k) => `${NAMES[k]}/s`.padStart(14)).join(' ')}`);
    }
    for (let n = 0; count === null || n < count; n++) {
      await sleep(seconds * 1000, stopped);
      if (interrupted) break;
      const now = sample();
      const t1 = process.hrtime.bigint();
      const elapsed = Number(t1 - t0) / 1e9;
      const r = rates(previous.counters, now.counters, elapsed);
      const at = new Date().toISOString().slice(11, 19);
      // JSON keeps the exact interval, so a consumer can recompute the rates from the counters.
      if (json)
        io.out(
          JSON.stringify({
            time: new Date().toISOString(),
            seconds: elapsed,
            counters: now.counters,
            perSecond: r,
            extensionNsec: now.extensionNsec,
          }),
        );
      else io.out(`${at.padEnd(8)} ${ORDER.map((k) => String(r[k]).padStart(14)).join(' ')}`);
      previous = now;
      t0 = t1;
    }
    return 0;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

export const statsCommand: Command = {
  name: 'stats',
  summary: "the kernel's slice counters: does this host grant, and how do grants end?",
  synopsis: 'stats [--watch SECONDS [--count N]] [--json]',
  help: `Usage: rseq-slice stats [--watch SECONDS [--count N]] [--json]

Prints the kernel's slice extension counters from debugfs rseq/stats (grants sgrant, yields
syield, revocations srevok, expiries sexpir, aborts sabort; summed over CPUs since boot) and the
extension length (rseq/slice_ext_nsec): whether this host grants extensions, and how they end.
Needs Linux 7.0+ with CONFIG_RSEQ_STATS, root, and debugfs mounted
(mount -t debugfs none ${DEBUGFS}).

Options:
  --watch SECONDS  print rates per second every SECONDS (0.1 to 3600) until Ctrl-C
  --count N        with --watch: stop after N intervals
  --json           JSON: the counters once, or one object per interval

Environment: RSEQ_SLICE_DEBUGFS_RSEQ=DIR reads DIR/stats and DIR/slice_ext_nsec instead of
${DEBUGFS}/rseq (for tests).

${JSON_ERROR_HELP}

Exit status: 0 success, 1 the counters cannot be read (the message says what is needed),
2 bad usage.`,
  async run(argv: string[], io: CliIo): Promise<number> {
    const values = parseOptions(
      this,
      argv,
      { json: { type: 'boolean' }, watch: { type: 'string' }, count: { type: 'string' } },
      io,
    );
    if (values === null) return EXIT_USAGE;
    const usage = (msg: string): number => usageError(io, 'stats', argv, msg);
    const seconds = values.watch === undefined ? null : Number(values.watch);
    if (seconds !== null && !(Number.isFinite(seconds) && seconds >= 0.1 && seconds <= 3600))
      return usage(`--watch needs seconds from 0.1 to 3600; got ${JSON.stringify(values.watch)}`);
    const count = values.count === undefined ? null : Number(values.count);
    if (count !== null && !(Number.isInteger(count) && count >= 1))
      return usage(`--count needs a whole number of intervals >= 1; got ${JSON.stringify(values.count)}`);
    if (count !== null && seconds === null) return usage('--count goes with --watch SECONDS');
    try {
      if (seconds !== null) return await watch(seconds, count, values.json === true, io);
      const s = sample();
      io.out(
        values.json ? JSON.stringify({ counters: s.counters, extensionNsec: s.extensionNsec }, null, 2) : formatOnce(s),
      );
      return 0;
    } catch (e) {
      if (!(e instanceof StatsUnreadable)) throw e;
      const remedy = e.remedy === undefined ? {} : { remedy: e.remedy };
      return fail(io, values.json === true, { command: 'stats', code: e.code, message: e.message, ...remedy }, 1);
    }
  },
};
