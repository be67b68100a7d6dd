/**
 * The benchmark's scenarios: which lock, which kind of section, how many runnable threads per
 * CPU, whether a CPU hog competes, and how long a section is relative to the extension.
 */

/** A plain spin lock (waiters spin on the CPU) or SliceMutex (spins, then sleeps in the futex). */
export type LockKind = 'spin' | 'mutex';
/** Sections timed in JavaScript, or a C++ loop in the addon (no V8 in the way). */
export type SectionKind = 'javascript' | 'native';
/** Section length relative to the extension: well under, near, above. */
export type SectionLength = 'under' | 'near' | 'above';

export interface ScenarioSpec {
  name: string;
  lock: LockKind;
  section: SectionKind;
  /** Threads per CPU, or 'cpus+1' (Rostedt's proof of concept: one more thread than CPUs). */
  threads: number | 'cpus+1';
  hog: boolean;
  length: SectionLength;
  /** Oversubscribed with sections under the extension: the goals apply. */
  goals: boolean;
}

function spec(
  lock: LockKind,
  section: SectionKind,
  threads: number | 'cpus+1',
  hog: boolean,
  length: SectionLength,
): ScenarioSpec {
  const t = threads === 'cpus+1' ? 'cpus+1' : `${threads}x`;
  const name = `${lock}-${section === 'javascript' ? 'js' : 'native'}-${t}${hog ? '-hog' : ''}-${length}`;
  const oversubscribed = threads === 'cpus+1' || threads > 1 || hog;
  return { name, lock, section, threads, hog, length, goals: oversubscribed && length === 'under' };
}

/** Every scenario `--scenario` accepts, the default set first. */
export const SCENARIOS: readonly ScenarioSpec[] = [
  spec('spin', 'javascript', 'cpus+1', false, 'under'),
  spec('spin', 'javascript', 2, false, 'under'),
  spec('spin', 'javascript', 4, false, 'under'),
  spec('spin', 'javascript', 1, true, 'under'),
  spec('spin', 'native', 'cpus+1', false, 'under'),
  spec('mutex', 'javascript', 2, false, 'under'),
  spec('spin', 'javascript', 'cpus+1', false, 'near'),
  spec('spin', 'javascript', 'cpus+1', false, 'above'),
  // Not in the default set: further combinations for a closer look.
  spec('spin', 'javascript', 1, false, 'under'),
  spec('spin', 'native', 2, false, 'under'),
  spec('spin', 'native', 'cpus+1', false, 'above'),
  spec('mutex', 'javascript', 'cpus+1', false, 'under'),
  spec('mutex', 'javascript', 4, false, 'under'),
  spec('mutex', 'javascript', 2, true, 'under'),
  spec('spin', 'javascript', 2, true, 'under'),
];

/** The scenarios run when none is named. */
export const DEFAULT_SCENARIOS: readonly string[] = SCENARIOS.slice(0, 8).map((s) => s.name);
/** A short set for development: the anchor only. */
export const QUICK_SCENARIOS: readonly string[] = [SCENARIOS[0]!.name];

/** A scenario made concrete for this machine. */
export interface ResolvedScenario extends ScenarioSpec {
  workers: number;
  minSectionNs: number;
  maxSectionNs: number;
}

/**
 * Section lengths from the extension: under = 1/10 to 1/5 of it, near = 4/5 to all of it,
 * above = twice to three times it.
 */
export function sectionRange(length: SectionLength, extensionNsec: number): { min: number; max: number } {
  switch (length) {
    case 'under':
      return { min: Math.round(extensionNsec / 10), max: Math.round(extensionNsec / 5) };
    case 'near':
      return { min: Math.round((extensionNsec * 4) / 5), max: extensionNsec };
    case 'above':
      return { min: extensionNsec * 2, max: extensionNsec * 3 };
  }
}

export function resolveScenario(s: ScenarioSpec, cpus: number, extensionNsec: number): ResolvedScenario {
  const workers = s.threads === 'cpus+1' ? cpus + 1 : s.threads * cpus;
  const r = sectionRange(s.length, extensionNsec);
  return { ...s, workers, minSectionNs: r.min, maxSectionNs: r.max };
}

/** Looks up scenario names (or `default`, `quick`, `all`); throws RangeError naming the accepted ones. */
export function selectScenarios(names: readonly string[]): ScenarioSpec[] {
  const out: ScenarioSpec[] = [];
  const add = (n: string): void => {
    const s = SCENARIOS.find((x) => x.name === n);
    if (s === undefined) {
      throw new RangeError(
        `unknown scenario ${JSON.stringify(n)}; accepted: default, quick, all, ${SCENARIOS.map((x) => x.name).join(', ')}`,
      );
    }
    if (!out.includes(s)) out.push(s);
  };
  for (const n of names.length === 0 ? ['default'] : names) {
    if (n === 'default') DEFAULT_SCENARIOS.forEach(add);
    else if (n === 'quick') QUICK_SCENARIOS.forEach(add);
    else if (n === 'all') SCENARIOS.forEach((s) => add(s.name));
    else add(n);
  }
  return out;
}
