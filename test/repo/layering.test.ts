/**
 * The layers hold. In lib/: the library a service loads (the public API, lib/kernel, lib/addon,
 * lib/simulator) never imports the CLI (lib/cli) or the lab (lib/lab: benchmark, conformance); the
 * lab never imports the CLI; lib/kernel (ABI constants, platform facts, the kernel's files) imports
 * nothing else of lib/; the simulator never imports the addon, because it runs where the addon does
 * not load; and no file of lib/ takes part in an import cycle (type-only imports count: a cycle of
 * types is still two modules that cannot be read one without the other). Across the repository:
 * lib/ imports nothing outside itself, and scripts/ never imports test/ (the tests may use the
 * scripts, not the reverse). And docs/architecture.md names every family directory of lib/ (that
 * the files it names exist is test/repo/named_paths.test.ts's check, for every document).
 */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../support/paths';

/** A module's family in lib/: its first directory under lib/, or 'core' for lib/*.ts. */
function family(module: string): string {
  const parts = module.split('/');
  return parts.length === 2 ? 'core' : (parts[1] as string);
}

/** Every .ts and .js file below `dir` (relative to the root, '/'-separated), build output left out. */
function sourceFiles(dir: string): string[] {
  const full = path.join(ROOT, dir);
  if (!fs.existsSync(full)) return [];
  return fs.readdirSync(full, { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return e.name === 'build' || e.name === 'node_modules' ? [] : sourceFiles(rel);
    return /\.(ts|js)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [rel] : [];
  });
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

/**
 * module → the modules it imports, for every source file below `dirs`: modules are root-relative
 * paths without their extension (`lib/open`); relative specifiers only (packages and node: are
 * outside), type-only imports and re-exports included.
 */
export function importGraph(dirs: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of dirs.flatMap((d) => sourceFiles(d))) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const targets = [...text.matchAll(SPECIFIER)].map((m) =>
      path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1] as string)).replace(/\.(js|ts)$/, ''),
    );
    graph.set(file.replace(/\.(js|ts)$/, ''), targets);
  }
  return graph;
}

/** Which family of lib/ may not import which: [importer family predicate, forbidden family, why]. */
const RULES: Array<[(from: string) => boolean, string, string]> = [
  [(f) => f !== 'cli', 'cli', 'only the CLI imports the CLI'],
  [(f) => f !== 'cli' && f !== 'lab', 'lab', 'the library a service loads never imports the lab'],
  [(f) => f === 'kernel', 'core', 'lib/kernel is the bottom layer'],
  [(f) => f === 'kernel', 'addon', 'lib/kernel is the bottom layer'],
  [(f) => f === 'kernel', 'simulator', 'lib/kernel is the bottom layer'],
  [(f) => f === 'simulator', 'addon', 'the simulator runs where the addon does not load'],
];

/** Which top-level directory may not import which: [importer directory, forbidden directory or any outside, why]. */
const TREE_RULES: Array<[string, (to: string) => boolean, string]> = [
  ['lib', (to) => !to.startsWith('lib/'), 'lib/ is the package: it imports nothing outside itself'],
  ['scripts', (to) => to.startsWith('test/'), 'the tests may use the scripts, not the reverse'],
];

/** Each import that breaks a rule, as "from → to (why)". */
export function layeringViolations(graph: Map<string, string[]>): string[] {
  const out: string[] = [];
  for (const [from, targets] of graph)
    for (const to of targets) {
      const top = from.split('/')[0] as string;
      for (const [dir, forbidden, why] of TREE_RULES)
        if (top === dir && forbidden(to)) out.push(`${from} → ${to} (${why})`);
      if (top !== 'lib' || !to.startsWith('lib/')) continue;
      for (const [applies, forbidden, why] of RULES)
        if (applies(family(from)) && family(to) === forbidden) out.push(`${from} → ${to} (${why})`);
    }
  return out;
}

/**
 * The import cycles of `graph`: each strongly connected component of more than one module (or a
 * module importing itself), its modules sorted (Tarjan's algorithm).
 */
export function importCycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v) as number);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue; // outside the graph (a package, a file of another tree)
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop() as string;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

describe('layering', () => {
  it('lib/: the library never imports the CLI or the lab, the lab never the CLI, kernel/ nothing, the simulator not the addon', () => {
    const graph = importGraph(['lib']);
    expect(graph.size, 'lib/ files found').to.be.greaterThan(30);
    expect(layeringViolations(graph)).to.deep.equal([]);
  });

  it('lib/ has no import cycle, type-only imports included', () => {
    expect(importCycles(importGraph(['lib']))).to.deep.equal([]);
  });

  it('lib/ imports nothing outside itself, and scripts/ nothing of test/', () => {
    const graph = importGraph(['lib', 'scripts']);
    expect([...graph.keys()].filter((m) => m.startsWith('scripts/')).length, 'scripts/ files found').to.be.greaterThan(
      5,
    );
    expect(layeringViolations(graph)).to.deep.equal([]);
  });

  it('the rules catch a violation (a synthetic graph)', () => {
    const graph = new Map([
      ['lib/open', ['lib/lab/bench/run', 'lib/kernel/abi']],
      ['lib/kernel/abi', ['lib/errors']],
      ['lib/simulator/simulator', ['lib/addon/addon']],
      ['lib/lab/bench/run', ['lib/cli/main', 'test/support/paths']],
      ['scripts/bench', ['lib/lab/bench/stats', 'test/support/consumer']],
    ]);
    expect(layeringViolations(graph)).to.deep.equal([
      'lib/open → lib/lab/bench/run (the library a service loads never imports the lab)',
      'lib/kernel/abi → lib/errors (lib/kernel is the bottom layer)',
      'lib/simulator/simulator → lib/addon/addon (the simulator runs where the addon does not load)',
      'lib/lab/bench/run → lib/cli/main (only the CLI imports the CLI)',
      'lib/lab/bench/run → test/support/paths (lib/ is the package: it imports nothing outside itself)',
      'scripts/bench → test/support/consumer (the tests may use the scripts, not the reverse)',
    ]);
  });

  it('the cycle check finds the old circle, a longer one and a self-import (synthetic graphs)', () => {
    const graph = importGraph(['lib']);
    // The circle this check was written after: the native API's face imported detect(), which
    // imports the addon (and its backend, which imports it too), whose types came back from the face.
    graph.set('lib/addon/addon', [...(graph.get('lib/addon/addon') ?? []), 'lib/native_api']);
    expect(importCycles(graph)).to.deep.equal([
      ['lib/addon/addon', 'lib/addon/area_fields', 'lib/addon/native_backend', 'lib/detect', 'lib/native_api'],
    ]);
    expect(
      importCycles(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a', 'd']],
          ['d', []],
          ['e', ['e']],
        ]),
      ),
    ).to.deep.equal([['a', 'b', 'c'], ['e']]);
  });

  it('docs/architecture.md names every family directory of lib/', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'architecture.md'), 'utf8');
    const dirs = fs
      .readdirSync(path.join(ROOT, 'lib'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => `lib/${e.name}/`);
    expect(
      dirs.filter((d) => !doc.includes(d)),
      'directories docs/architecture.md does not name',
    ).to.deep.equal([]);
  });
});
