/** `rseq-slice bench`: lock-holder preemptions with slice requests on vs off, on this machine. */
import * as fs from 'node:fs';
import { detect } from '../../detect';
import { parseBenchOptions, type BenchOptions } from '../../lab/bench/options';
import { formatGoals, formatTable } from '../../lab/bench/report';
import { runBench, type BenchResult } from '../../lab/bench/run';
import { SCENARIOS, DEFAULT_SCENARIOS, QUICK_SCENARIOS } from '../../lab/bench/scenarios';
import { readRseqStatsOrNull } from '../../kernel/knobs';
import { findTracefs } from '../../lab/bench/tracefs';
import { resultJson, writeReport } from '../../lab/bench/write_report';
import {
  errorFromException,
  EXIT_USAGE,
  fail,
  JSON_ERROR_HELP,
  parseOptions,
  usageError,
  type CliError,
  type CliIo,
  type Command,
} from './command';
import { refusal } from './detect';

const HELP = `Usage: rseq-slice bench [--scenario NAME]... [--rounds N] [--seconds S] [--report DIR] [--json]
                        [--extension-nsec N] [--no-trace] [--list]

Counts lock-holder preemptions (sections during which the thread holding a contended lock was
switched out) with slice-extension requests off and on, in alternating rounds, and reports the
on/off ratios with their spread over rounds, hold and wait percentiles, throughput, our section
outcomes and the kernel's counters.

Options:
  --scenario NAME     a scenario, or default, quick, all (repeat or separate with commas;
                      default: default). --list shows them.
  --rounds N          off/on pairs per scenario (default 3), after a discarded warm-up
                      pair of up to 1 s each
  --seconds S         length of each measurement (default 2)
  --report DIR        write bench.json, figures.md and one SVG chart per scenario to DIR
                      (charts need the echarts package; without it, the JSON and table only)
  --json              print the result as JSON instead of the table
  --extension-nsec N  set debugfs rseq/slice_ext_nsec (5000..50000) for the run, then put it back
                      (root)
  --no-trace          do not count preemptions from the sched_switch trace
  --list              list the scenarios and exit

Needs the slice extension (see rseq-slice detect). As root it also reads the kernel's debugfs
rseq/stats counters and counts preemptions exactly from the sched_switch tracepoint (tracefs);
without root it counts long holds only (holds longer than the section plus the extension plus
100 µs).

${JSON_ERROR_HELP}
When the report cannot be written, the result is printed with an "error" member.

Exit status: 0 done; 1 the slice extension is not available, the run failed, or the report could
not be written (the figures are printed all the same); 2 bad usage, or --report not a writable
directory (checked before the run).`;

function listScenarios(): string {
  const mark = (n: string): string =>
    QUICK_SCENARIOS.includes(n) ? ' (default, quick)' : DEFAULT_SCENARIOS.includes(n) ? ' (default)' : '';
  return SCENARIOS.map((s) => `${s.name}${mark(s.name)}`).join('\n');
}

/** What this run can and cannot measure without root, as lines for stderr. */
function capabilityNotes(o: BenchOptions): string[] {
  const notes: string[] = [];
  if (readRseqStatsOrNull() === null)
    notes.push(
      'no kernel counters: debugfs rseq/stats is not readable (needs root, a mounted debugfs and CONFIG_RSEQ_STATS)',
    );
  const t = findTracefs();
  if (o.trace && 'reason' in t) notes.push(`no sched_switch count: ${t.reason}; counting long holds only`);
  return notes;
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'lock-holder preemptions with slice requests off vs on, on this machine',
  synopsis: 'bench [--scenario NAME]... [--rounds N] [--seconds S] [--report DIR] [--json]',
  help: HELP,
  async run(argv: string[], io: CliIo): Promise<number> {
    const values = parseOptions(
      this,
      argv,
      {
        scenario: { type: 'string', multiple: true },
        rounds: { type: 'string' },
        seconds: { type: 'string' },
        report: { type: 'string' },
        json: { type: 'boolean' },
        'extension-nsec': { type: 'string' },
        'no-trace': { type: 'boolean' },
        list: { type: 'boolean' },
      },
      io,
    );
    if (values === null) return EXIT_USAGE;
    const { list, ...raw } = values;
    if (list) {
      io.out(listScenarios());
      return 0;
    }
    const json = raw.json === true;
    let options: BenchOptions;
    try {
      options = parseBenchOptions(raw);
    } catch (e) {
      return usageError(io, 'bench', argv, e instanceof Error ? e.message : String(e));
    }
    const d = detect();
    if (!d.sliceExtension.available) {
      return fail(
        io,
        json,
        refusal('bench', d),
        1,
        `rseq-slice bench: the kernel cannot grant slice extensions here, so there is nothing to compare: ${d.sliceExtension.reason ?? 'unknown reason'}` +
          (d.sliceExtension.remedy ? `\n  what to do: ${d.sliceExtension.remedy}` : ''),
      );
    }
    for (const n of capabilityNotes(options)) io.err(`rseq-slice bench: ${n}`);
    if (options.report !== null) {
      // Checked before the run, so a bad --report fails in a second, not after minutes.
      try {
        fs.mkdirSync(options.report, { recursive: true });
        fs.accessSync(options.report, fs.constants.W_OK);
      } catch (e) {
        const error = errorFromException('bench', e, 'usage');
        error.message = `--report ${options.report}: not a writable directory (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
        return fail(io, json, error, EXIT_USAGE);
      }
    }
    const kernelCounters = readRseqStatsOrNull() !== null;
    let result: BenchResult;
    try {
      result = await runBench(options, (line) => io.err(line), kernelCounters);
    } catch (e) {
      // EACCES from --extension-nsec without root, a worker that failed, an empty measurement…
      return fail(io, json, errorFromException('bench', e, 'failed'), 1);
    }
    let status = 0;
    let reportError: CliError | undefined;
    if (options.report !== null) {
      try {
        const written = writeReport(options.report, result, `rseq-slice bench ${argv.join(' ')}`.trim());
        io.err(`rseq-slice bench: wrote ${written.files.join(', ')}`);
        if (written.chartsSkipped) io.err(`rseq-slice bench: no charts: ${written.chartsSkipped}`);
      } catch (e) {
        // The figures are still printed below: minutes of measurement are not lost to a full disk.
        reportError = errorFromException('bench', e, 'failed');
        reportError.message = `could not write the report to ${options.report}: ${reportError.message}`;
        io.err(`rseq-slice bench: ${reportError.message}`);
        status = 1;
      }
    }
    // The result, with an error member when the report could not be written (exit 1).
    if (options.json)
      io.out(reportError ? JSON.stringify({ ...result, error: reportError }, null, 2) : resultJson(result));
    else {
      const e = result.environment;
      io.out(
        `${e.cpus} CPUs, kernel ${e.kernel}, extension ${e.extensionNsec} ns (${e.extensionSource}), ${result.rounds} rounds of ${result.seconds} s after a ${result.warmupSeconds} s warm-up` +
          (e.traceUnavailable
            ? `; preemptions from long holds only (${e.traceUnavailable})`
            : '; preemptions from sched_switch'),
      );
      io.out(formatTable(result.scenarios));
      const goals = formatGoals(result.scenarios);
      if (goals) io.out(`\nGoals (oversubscribed, sections under the extension; medians over rounds):\n${goals}`);
    }
    return status;
  },
};
