/**
 * Parsers of what the examples in examples/ print, for test/repo/examples.test.ts and the guest's
 * test/vm/examples.vm.ts. They read the human lines a user sees (the examples print no JSON of
 * their own); a line that is missing or malformed is an error naming it.
 */
import type { SliceStats } from '../../lib';

export interface WorkerPoolOutput {
  backend: string;
  keys: number[];
  total: number;
  sumOfKeys: number;
  expected: number;
  exact: boolean;
  workers: Array<{ index: number; stats: SliceStats }>;
}

export interface RingOutput {
  backend: string;
  moved: number;
  inOrder: boolean;
  threads: Array<{ role: string; items: number; waits: number; stats: SliceStats }>;
}

function match(stdout: string, re: RegExp, what: string): RegExpExecArray {
  const m = re.exec(stdout);
  if (!m) throw new Error(`the example printed no ${what} line (${re}); it printed:\n${stdout}`);
  return m;
}

function stats(sections: string, clean: string, yielded: string, raced: string, revoked: string): SliceStats {
  return {
    sections: Number(sections),
    clean: Number(clean),
    yielded: Number(yielded),
    raced: Number(raced),
    revoked: Number(revoked),
  };
}

/** examples/worker-pool-counters.js's output. */
export function parseWorkerPool(stdout: string): WorkerPoolOutput {
  const backend = match(stdout, /^backend: (\S+)/m, 'backend')[1] as string;
  const keys = [...stdout.matchAll(/^ {2}key (\d+): (\d+)$/gm)].map((m) => Number(m[2]));
  const t = match(stdout, /^ {2}total: (\d+) \(sum of keys (\d+), expected (\d+)\): (exact|WRONG)$/m, 'total');
  const workers = [
    ...stdout.matchAll(/^worker (\d+): sections (\d+), clean (\d+), yielded (\d+), raced (\d+), revoked (\d+)$/gm),
  ].map((m) => ({
    index: Number(m[1]),
    stats: stats(m[2] as string, m[3] as string, m[4] as string, m[5] as string, m[6] as string),
  }));
  return {
    backend,
    keys,
    total: Number(t[1]),
    sumOfKeys: Number(t[2]),
    expected: Number(t[3]),
    exact: t[4] === 'exact',
    workers,
  };
}

/** examples/ring-buffer.js's output. */
export function parseRing(stdout: string): RingOutput {
  const backend = match(stdout, /^backend: (\S+)/m, 'backend')[1] as string;
  const moved = match(
    stdout,
    /^moved (\d+) items; every producer's items arrived once, in order: (yes|NO.*)$/m,
    'moved',
  );
  const threads = [
    ...stdout.matchAll(
      /^(consumer|producer \d+): (\d+) items in (\d+) sections \((\d+) found the ring (?:empty|full)\); clean (\d+), yielded (\d+), raced (\d+), revoked (\d+)$/gm,
    ),
  ].map((m) => ({
    role: m[1] as string,
    items: Number(m[2]),
    waits: Number(m[4]),
    stats: stats(m[3] as string, m[5] as string, m[6] as string, m[7] as string, m[8] as string),
  }));
  return { backend, moved: Number(moved[1]), inOrder: moved[2] === 'yes', threads };
}

/** The outcomes of `s` add up to its sections. */
export function outcomesAddUp(s: SliceStats): boolean {
  return s.clean + s.yielded + s.raced + s.revoked === s.sections;
}
