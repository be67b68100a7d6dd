/**
 * The kernel's sched_switch tracepoint through tracefs (root), in a trace instance of the
 * benchmark's own (instances/NAME: its own ring buffer, clock and event switches), so nothing
 * global is changed: recorded around one measurement with trace_clock "mono" (CLOCK_MONOTONIC,
 * the clock the workers time their hold windows with), read back, and the instance removed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TRACEFS_DIRS } from '../../kernel/knobs';

const EVENT = 'events/sched/sched_switch/enable';

/** The tracefs directory with the sched_switch event, or a reason why there is none usable. */
export function findTracefs(): { dir: string } | { reason: string } {
  for (const dir of TRACEFS_DIRS) {
    try {
      fs.accessSync(path.join(dir, EVENT), fs.constants.W_OK);
      return { dir };
    } catch {
      // next candidate
    }
  }
  return {
    reason: `no writable ${EVENT} under ${TRACEFS_DIRS.join(' or ')} (tracefs needs root and CONFIG_EVENT_TRACING)`,
  };
}

/** The clock selected in a `trace_clock` file ("[local] global mono" → "local"). */
export function selectedClock(text: string): string | null {
  const m = /\[(\S+)\]/.exec(text);
  return m ? (m[1] as string) : null;
}

/** Sum of the `overrun:` lines of per_cpu/cpuN/stats: events lost when the buffer wrapped. */
export function parseOverruns(statsTexts: readonly string[]): number {
  let n = 0;
  for (const t of statsTexts) {
    const m = /^overrun:\s+(\d+)/m.exec(t);
    if (m) n += Number(m[1]);
  }
  return n;
}

/** Total ring-buffer memory the instance may take, over all CPUs (buffer_size_kb is per CPU). */
const BUFFER_TOTAL_KB = 256 * 1024;

export class SchedSwitchTrace {
  readonly #dir: string;

  /**
   * Creates the instance under `tracefs` and sets it up (clock, per-CPU buffer of at most 16 MiB
   * and BUFFER_TOTAL_KB in all, event on, not recording yet). Throws when tracefs refuses; the
   * instance is removed again then.
   */
  constructor(tracefs: string, cpus: number) {
    this.#dir = path.join(tracefs, 'instances', `rseq-slice-bench-${process.pid}`);
    fs.mkdirSync(this.#dir);
    try {
      this.#write('tracing_on', '0');
      this.#write('trace_clock', 'mono');
      this.#write(
        'buffer_size_kb',
        String(Math.max(1024, Math.min(16384, Math.floor(BUFFER_TOTAL_KB / Math.max(1, cpus))))),
      );
      this.#write(EVENT, '1');
    } catch (e) {
      this.close();
      throw e;
    }
  }

  #read(file: string): string {
    return fs.readFileSync(path.join(this.#dir, file), 'utf8');
  }

  #write(file: string, value: string): void {
    fs.writeFileSync(path.join(this.#dir, file), value);
  }

  /** Clears the buffer and starts recording. */
  start(): void {
    this.#write('trace', '');
    this.#write('tracing_on', '1');
  }

  /** Stops recording; returns the trace text and the events lost to buffer overrun. */
  stop(): { text: string; overruns: number } {
    this.#write('tracing_on', '0');
    const text = this.#read('trace');
    const cpus = fs.readdirSync(path.join(this.#dir, 'per_cpu')).filter((d) => /^cpu\d+$/.test(d));
    const overruns = parseOverruns(cpus.map((c) => this.#read(path.join('per_cpu', c, 'stats'))));
    return { text, overruns };
  }

  /** Removes the instance (its buffer goes with it). Never throws: this is cleanup. */
  close(): void {
    try {
      this.#write('tracing_on', '0');
      this.#write(EVENT, '0');
    } catch {
      // the rmdir below frees the instance all the same
    }
    try {
      fs.rmdirSync(this.#dir);
    } catch {
      // gone already, or never created
    }
  }
}
