/** The benchmark's options, checked: what was wrong and what is accepted, never a silent default. */
import { SLICE_EXT_NSEC_MAX, SLICE_EXT_NSEC_MIN } from '../../kernel/abi';
import { selectScenarios, type ScenarioSpec } from './scenarios';

export interface BenchOptions {
  scenarios: ScenarioSpec[];
  rounds: number;
  seconds: number;
  report: string | null;
  json: boolean;
  /** Write debugfs slice_ext_nsec for the run (root), put back afterwards. */
  extensionNsec: number | null;
  /** Count preemptions from the sched_switch trace where tracefs is writable. */
  trace: boolean;
}

/** The raw option values as util.parseArgs returns them. */
export interface RawBenchOptions {
  scenario?: string[];
  rounds?: string;
  seconds?: string;
  report?: string;
  json?: boolean;
  'extension-nsec'?: string;
  'no-trace'?: boolean;
}

function integer(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new RangeError(`--${name} must be an integer from ${min} to ${max}; got ${JSON.stringify(text)}`);
  }
  return n;
}

/** Checks the options; throws RangeError with the accepted values. */
export function parseBenchOptions(raw: RawBenchOptions): BenchOptions {
  const names = (raw.scenario ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  let seconds = 2;
  if (raw.seconds !== undefined) {
    seconds = Number(raw.seconds);
    if (raw.seconds.trim() === '' || !Number.isFinite(seconds) || seconds < 0.1 || seconds > 600) {
      throw new RangeError(`--seconds must be a number from 0.1 to 600; got ${JSON.stringify(raw.seconds)}`);
    }
  }
  if (raw.report !== undefined && raw.report.trim() === '') throw new RangeError('--report needs a directory');
  return {
    scenarios: selectScenarios(names),
    rounds: raw.rounds === undefined ? 3 : integer('rounds', raw.rounds, 1, 100),
    seconds,
    report: raw.report ?? null,
    json: raw.json === true,
    // The kernel accepts 5000..50000 (debugfs answers ERANGE outside).
    extensionNsec:
      raw['extension-nsec'] === undefined
        ? null
        : integer('extension-nsec', raw['extension-nsec'], SLICE_EXT_NSEC_MIN, SLICE_EXT_NSEC_MAX),
    trace: raw['no-trace'] !== true,
  };
}
