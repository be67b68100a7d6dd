/**
 * The benchmark run: for each scenario, rounds of requests off and on with the same workers (the
 * order alternating from round to round, so neither warm-up nor a drift in the machine favours
 * one side), then the summaries.
 */
import * as os from 'node:os';
import { SLICE_EXT_NSEC_DEFAULT } from '../../kernel/abi';
import { readExtensionNsec, writeExtensionNsec } from '../../kernel/knobs';
import { ScenarioWorkers, type Measurement } from './measure';
import type { BenchOptions } from './options';
import { longHoldThresholdNs } from './preemptions';
import { formatMeasurement } from './report';
import { resolveScenario } from './scenarios';
import { summarizeScenario, type ScenarioSummary } from './summary';
import { findTracefs, SchedSwitchTrace } from './tracefs';

/** Hold time beyond section + extension that counts as a lost CPU (interrupts take far less). */
const LONG_HOLD_MARGIN_NS = 100_000;

export interface BenchEnvironment {
  cpus: number;
  kernel: string;
  extensionNsec: number;
  /** Where extensionNsec came from. */
  extensionSource: 'set' | 'debugfs' | 'assumed default';
  /** Why there is no sched_switch count, when there is none. */
  traceUnavailable: string | null;
  kernelCounters: boolean;
}

/** Length of the discarded warm-up measurement (each side) before round 1. */
export function warmupSeconds(seconds: number): number {
  return Math.min(1, seconds);
}

export interface BenchResult {
  environment: BenchEnvironment;
  rounds: number;
  seconds: number;
  /** Seconds per side of the discarded warm-up before round 1. */
  warmupSeconds: number;
  scenarios: ScenarioSummary[];
}

/** Runs the benchmark; `progress` gets one line per measurement. */
export async function runBench(
  o: BenchOptions,
  progress: (line: string) => void,
  kernelCounters: boolean,
): Promise<BenchResult> {
  let restoreNsec: number | null = null;
  if (o.extensionNsec !== null) restoreNsec = writeExtensionNsec(o.extensionNsec);
  let trace: SchedSwitchTrace | null = null;
  let traceUnavailable: string | null = o.trace ? null : 'switched off (--no-trace)';
  // The trace instance goes (close() never throws); the knob is put back, and a failure to do so
  // is reported on the progress stream without hiding the run's own error. Ctrl-C or a TERM
  // during the run cleans up the same way before the process ends of that signal.
  const cleanup = (): void => {
    trace?.close();
    trace = null;
    try {
      if (restoreNsec !== null && Number.isInteger(restoreNsec)) writeExtensionNsec(restoreNsec);
    } catch (e) {
      progress(
        `rseq-slice bench: could not restore slice_ext_nsec to ${restoreNsec}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    restoreNsec = null;
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.kill(process.pid, sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    if (o.trace) {
      const found = findTracefs();
      if ('dir' in found) {
        try {
          trace = new SchedSwitchTrace(found.dir, os.availableParallelism());
        } catch (e) {
          // Count long holds instead, and say why.
          traceUnavailable = `tracefs refused a trace instance: ${e instanceof Error ? e.message : String(e)}`;
        }
      } else traceUnavailable = found.reason;
    }
    const known = readExtensionNsec();
    const extensionNsec = o.extensionNsec ?? known ?? SLICE_EXT_NSEC_DEFAULT;
    const cpus = os.availableParallelism();
    const environment: BenchEnvironment = {
      cpus,
      kernel: os.release(),
      extensionNsec,
      extensionSource: o.extensionNsec !== null ? 'set' : known !== null ? 'debugfs' : 'assumed default',
      traceUnavailable,
      kernelCounters,
    };
    const scenarios: ScenarioSummary[] = [];
    for (const spec of o.scenarios) {
      const s = resolveScenario(spec, cpus, extensionNsec);
      const rounds: Array<{ off: Measurement; on: Measurement }> = [];
      const workers = new ScenarioWorkers(s);
      try {
        // Discarded: V8 compiles the section loop during the first second or so, which would
        // otherwise fall into round 1 only.
        for (const request of [false, true]) await workers.measure(request, warmupSeconds(o.seconds), 0, null);
        for (let r = 0; r < o.rounds; r++) {
          const order = r % 2 === 0 ? [false, true] : [true, false];
          const got: Partial<Record<'off' | 'on', Measurement>> = {};
          for (const request of order)
            got[request ? 'on' : 'off'] = await workers.measure(request, o.seconds, r + 1, trace);
          rounds.push({ off: got.off as Measurement, on: got.on as Measurement });
        }
      } finally {
        await workers.close();
      }
      const summary = summarizeScenario(
        s,
        extensionNsec,
        longHoldThresholdNs(s.maxSectionNs, extensionNsec, LONG_HOLD_MARGIN_NS),
        rounds,
      );
      summary.rounds.forEach((r, i) => {
        progress(formatMeasurement(s.name, i + 1, r.off));
        progress(formatMeasurement(s.name, i + 1, r.on));
      });
      scenarios.push(summary);
    }
    return { environment, rounds: o.rounds, seconds: o.seconds, warmupSeconds: warmupSeconds(o.seconds), scenarios };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    cleanup();
  }
}
