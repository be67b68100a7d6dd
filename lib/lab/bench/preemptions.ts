/**
 * Counting holder preemptions: sections during which the thread holding the lock was switched
 * out. Two independent counts, both pure functions of recorded data:
 *
 * - from the kernel's `sched_switch` tracepoint: a switch-out of the holder's thread id whose
 *   timestamp falls inside one of that thread's recorded hold windows [acquired, released]. The
 *   windows are CLOCK_MONOTONIC times taken in the worker (process.hrtime: vDSO, no system call,
 *   so no grant is ended by measuring) and the trace uses trace_clock "mono", the same clock.
 *   The yield after a granted section, and any futex wake, happen after the release; they can
 *   follow it within the same printed microsecond, so at the release edge only an event whose
 *   whole microsecond lies inside the window counts (a real preemption in a hold's last
 *   microsecond is missed, alike with requests on and off).
 * - from hold times alone: holds longer than any section can last on the CPU (the longest
 *   section plus the extension plus a margin for interrupts). Needs no privileges; it misses a
 *   preemption short enough to stay under the threshold and counts an interrupt storm as one.
 */

/** One `sched_switch` event: who left the CPU, in which state, at what time. */
export interface SwitchEvent {
  /** Microseconds of CLOCK_MONOTONIC, as the trace prints them (truncated to the µs). */
  us: number;
  prevPid: number;
  /** Task state as printed: `R`/`R+` (still runnable: involuntary), `S`, `D`… (it blocked). */
  prevState: string;
  nextPid: number;
}

const SWITCH = /\s(\d+)\.(\d{6}):\s+sched_switch:\s.*\bprev_pid=(\d+)\s.*\bprev_state=(\S+)\s+==>\s.*\bnext_pid=(\d+)/;

/** Parses the `sched_switch` lines of a tracefs `trace` file; other lines are skipped. */
export function parseSchedSwitch(text: string): SwitchEvent[] {
  const out: SwitchEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('sched_switch:')) continue;
    const m = SWITCH.exec(line);
    if (!m) continue;
    out.push({
      us: Number(m[1]) * 1e6 + Number(m[2]),
      prevPid: Number(m[3]),
      prevState: m[4] as string,
      nextPid: Number(m[5]),
    });
  }
  return out;
}

/** The hold windows of one thread: ns since `baseNs`, sorted, non-overlapping. */
export interface HoldWindows {
  tid: number;
  acquired: Float64Array;
  released: Float64Array;
}

export interface TraceCount {
  /** Sections whose holder was switched out while runnable (preempted) at least once. */
  preemptedSections: number;
  /** All such switch-outs (a section can be preempted more than once). */
  preemptions: number;
  /** Switch-outs while holding in a sleeping state (the section blocked): should be 0. */
  blockedWhileHolding: number;
  /** Switch-outs of the measured threads in all (held or not). */
  switchOuts: number;
}

/**
 * Counts the switch-outs of each thread inside its hold windows. `baseNs` is the absolute
 * CLOCK_MONOTONIC time (ns) the windows are relative to. The trace prints whole microseconds,
 * so an event printed as `us` happened in [us, us + 1) µs. At the acquire edge it counts when
 * that interval can overlap the window (a preemption just after acquiring); at the release edge
 * only when the whole interval ends by the release, because the yield after a granted section
 * switches out with state R within a microsecond of the release and must not count.
 */
export function countHeldSwitches(
  events: readonly SwitchEvent[],
  windows: readonly HoldWindows[],
  baseNs: bigint,
): TraceCount {
  const byTid = new Map<number, HoldWindows>();
  for (const w of windows) byTid.set(w.tid, w);
  const baseUs = Number(baseNs / 1000n);
  const baseRemNs = Number(baseNs % 1000n);
  const hit = new Map<number, Set<number>>();
  const count: TraceCount = { preemptedSections: 0, preemptions: 0, blockedWhileHolding: 0, switchOuts: 0 };
  for (const e of events) {
    const w = byTid.get(e.prevPid);
    if (w === undefined) continue;
    count.switchOuts++;
    const t = (e.us - baseUs) * 1000 - baseRemNs; // start of the event's microsecond, ns since base
    const i = lastAcquiredBefore(w.acquired, t + 1000);
    if (i < 0 || t + 1000 > (w.released[i] as number)) continue;
    if (e.prevState.startsWith('R')) {
      count.preemptions++;
      let set = hit.get(w.tid);
      if (set === undefined) hit.set(w.tid, (set = new Set()));
      set.add(i);
    } else {
      count.blockedWhileHolding++;
    }
  }
  for (const s of hit.values()) count.preemptedSections += s.size;
  return count;
}

// Index of the last window acquired strictly before `t`, or -1.
function lastAcquiredBefore(acquired: Float64Array, t: number): number {
  let lo = 0;
  let hi = acquired.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((acquired[mid] as number) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * The hold time above which a section must have lost the CPU: the longest section, plus the
 * extension (a granted section may run that much longer), plus `marginNs` for interrupts.
 */
export function longHoldThresholdNs(maxSectionNs: number, extensionNsec: number, marginNs: number): number {
  return maxSectionNs + extensionNsec + marginNs;
}

/** Holds longer than `thresholdNs`. */
export function countLongHolds(holds: Float64Array, thresholdNs: number): number {
  let n = 0;
  for (const h of holds) if (h > thresholdNs) n++;
  return n;
}
