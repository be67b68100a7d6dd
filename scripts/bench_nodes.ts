/**
 * The fast path under each Node release, for `npm run bench`: scripts/fast_path_probe.ts run by
 * this node and by each release of scripts/other-node.ts, ROUNDS rounds with the releases in a
 * rotated order (no release always first), each round a fresh process per release. Per release
 * and task: the median over rounds of ns per operation, and the ratio to Node 24 (the active LTS
 * services run) in the same rounds; a release slower than 1.2x Node 24 on a task (and by more
 * than the timer's noise, NOISE_FLOOR_NS) is flagged.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { spread } from '../lib/lab/bench/stats';
import { PROBE_TASKS, type ProbeResult } from './fast_path_probe';
import { NODE_MAJORS, otherNode } from './other-node';

/** How much slower than Node 24 a release may be on a task before the table flags it. */
export const SLOWER_THAN_24_LIMIT = 1.2;

/**
 * A task is flagged only when it is also slower by more than this (ns per operation): below it a
 * ratio of two sub-nanosecond medians (cpu() costs about 0.5 ns) is timer noise.
 */
export const NOISE_FLOOR_NS = 0.5;

export interface NodeFigures {
  node: string;
  /** Per task: the median (min–max) over rounds, ns per operation, and the per-round ratio to Node 24's median. */
  tasks: Record<string, { ns: { median: number; min: number; max: number }; vs24?: number; flagged?: boolean }>;
}

export interface AcrossNodes {
  rounds: number;
  ms: number;
  nodes: NodeFigures[];
  /** Releases not measured, each with why (not fetched). */
  missing: string[];
}

const PROBE = path.join(__dirname, 'fast_path_probe.ts');

/** Runs the probe under this node and every fetched release; throws when a probe fails. */
export function benchAcrossNodes(rounds: number, ms: number): AcrossNodes {
  const runtimes: Array<{ label: string; node: string }> = [{ label: process.version, node: process.execPath }];
  const missing: string[] = [];
  for (const major of NODE_MAJORS) {
    const n = otherNode(major, false);
    if (n.ok) runtimes.push({ label: `v${n.version}`, node: n.node });
    else missing.push(n.reason);
  }
  const samples = new Map<string, ProbeResult[]>(runtimes.map((r) => [r.label, []]));
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < runtimes.length; k++) {
      const rt = runtimes[(k + round) % runtimes.length] as (typeof runtimes)[number];
      const r = spawnSync(rt.node, ['-r', 'tsx/cjs', PROBE, String(ms)], {
        cwd: path.join(__dirname, '..'),
        encoding: 'utf8',
        timeout: 120_000,
      });
      if (r.status !== 0) throw new Error(`the fast-path probe failed under ${rt.node}: ${r.stderr || r.error}`);
      samples.get(rt.label)?.push(JSON.parse(r.stdout.trim().split('\n').pop() as string) as ProbeResult);
    }
  }
  return summarizeAcrossNodes(samples, rounds, ms, missing);
}

/**
 * The per-release figures from the probes' results (`samples`: each release's label, `v` and its
 * version, to its results, one per round): medians and ranges, ratios to the v24 release's medians.
 */
export function summarizeAcrossNodes(
  samples: ReadonlyMap<string, readonly ProbeResult[]>,
  rounds: number,
  ms: number,
  missing: string[],
): AcrossNodes {
  const labels = [...samples.keys()];
  const medianOf = (label: string, task: string): number | undefined => {
    const xs = samples.get(label)?.map((s) => s.ns[task as keyof ProbeResult['ns']]);
    return xs ? spread(xs)?.median : undefined;
  };
  const ref = labels.find((l) => l.startsWith('v24.'));
  const nodes = labels.map((label): NodeFigures => {
    const tasks: NodeFigures['tasks'] = {};
    for (const task of PROBE_TASKS) {
      const ns = spread((samples.get(label) ?? []).map((s) => s.ns[task]));
      if (ns === null) continue;
      const base = ref === undefined ? undefined : medianOf(ref, task);
      // Below a tenth of a nanosecond both are noise: no ratio.
      const vs24 = base !== undefined && base > 0.1 ? ns.median / base : undefined;
      tasks[task] = {
        ns: { median: ns.median, min: ns.min, max: ns.max },
        ...(vs24 === undefined || base === undefined
          ? {}
          : { vs24, flagged: vs24 > SLOWER_THAN_24_LIMIT && ns.median - base > NOISE_FLOOR_NS }),
      };
    }
    return { node: label, tasks };
  });
  return { rounds, ms, nodes, missing };
}

/** The table `npm run bench` prints: a row per release, a column per task, ns and the ratio to Node 24. */
export function formatAcrossNodes(a: AcrossNodes): string[] {
  const lines = [
    `fast path per Node release: ${a.rounds} rounds, a fresh process per release and round, ${a.ms} ms of batches per task; ` +
      `median (min–max) ns per operation over rounds, and /24 the median's ratio to Node 24 (flagged when above ${SLOWER_THAN_24_LIMIT}x and ${NOISE_FLOOR_NS} ns slower)`,
    `  ${'node'.padEnd(10)} ${PROBE_TASKS.map((t) => t.padEnd(44)).join(' ')}`,
  ];
  for (const n of a.nodes) {
    const cells = PROBE_TASKS.map((t) => {
      const c = n.tasks[t];
      if (c === undefined) return 'n/a'.padEnd(44);
      const ratio = c.vs24 === undefined ? '' : ` ${c.vs24.toFixed(2)}x /24${c.flagged ? ' SLOWER' : ''}`;
      return `${c.ns.median.toFixed(2)} (${c.ns.min.toFixed(2)}–${c.ns.max.toFixed(2)}) ns${ratio}`.padEnd(44);
    });
    lines.push(`  ${n.node.padEnd(10)} ${cells.join(' ')}`);
  }
  for (const m of a.missing) lines.push(`  not measured: ${m}`);
  return lines;
}
