/**
 * The kernel's sched_switch tracepoint through tracefs (root): switched on around one
 * measurement with trace_clock "mono" (CLOCK_MONOTONIC, the clock the workers time their hold
 * windows with), read back, and the previous settings put back.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const TRACEFS_DIRS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];
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
  return { reason: `no writable ${EVENT} under ${TRACEFS_DIRS.join(' or ')} (tracefs needs root and CONFIG_EVENT_TRACING)` };
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

export class SchedSwitchTrace {
  readonly #dir: string;
  readonly #previous: { clock: string | null; bufferKb: string; tracingOn: string };

  /** Sets up (clock, buffer, cleared) without recording yet. Throws when tracefs is not writable. */
  constructor(dir: string, bufferKb = 16384) {
    this.#dir = dir;
    this.#previous = {
      clock: selectedClock(this.#read('trace_clock')),
      bufferKb: this.#read('buffer_size_kb').trim(),
      tracingOn: this.#read('tracing_on').trim(),
    };
    this.#write('tracing_on', '0');
    this.#write('trace_clock', 'mono');
    this.#write('buffer_size_kb', String(bufferKb));
    this.#write(EVENT, '1');
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

  /** Puts the previous settings back. */
  close(): void {
    this.#write(EVENT, '0');
    this.#write('trace', '');
    if (this.#previous.clock !== null) this.#write('trace_clock', this.#previous.clock);
    if (/^\d+$/.test(this.#previous.bufferKb)) this.#write('buffer_size_kb', this.#previous.bufferKb);
    this.#write('tracing_on', this.#previous.tracingOn === '1' ? '1' : '0');
  }
}
