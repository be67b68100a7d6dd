/**
 * The layers of lib/ hold: the library a service loads (the public API, lib/kernel, lib/addon,
 * lib/simulator) never imports the CLI (lib/cli) or the lab (lib/lab: benchmark, conformance);
 * the lab never imports the CLI; lib/kernel (ABI constants, platform facts, the kernel's files)
 * imports nothing else of lib/; the simulator never imports the addon, because it runs where the
 * addon does not load. And docs/architecture.md names every family directory of lib/, and every
 * file it names exists.
 */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../support/paths';

const LIB = path.join(ROOT, 'lib');

/** A file's family: its first directory under lib/, or 'core' for lib/*.ts. */
function family(libRelative: string): string {
  const parts = libRelative.split('/');
  return parts.length === 1 ? 'core' : (parts[0] as string);
}

/** Every .ts file of lib/, relative to it. */
function libFiles(dir = LIB): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return libFiles(full);
    return e.name.endsWith('.ts') ? [path.relative(LIB, full)] : [];
  });
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

/** file → the lib/ files it imports (relative specifiers only; packages and node: are outside). */
export function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of libFiles()) {
    const text = fs.readFileSync(path.join(LIB, file), 'utf8');
    const targets: string[] = [];
    for (const m of text.matchAll(SPECIFIER)) {
      const target = path.normalize(path.join(path.dirname(file), m[1] as string)).replace(/\.(js|ts)$/, '');
      targets.push(target);
    }
    graph.set(file.replace(/\.ts$/, ''), targets);
  }
  return graph;
}

/** Which family may not import which: [importer family predicate, forbidden family, why]. */
const RULES: Array<[(from: string) => boolean, string, string]> = [
  [(f) => f !== 'cli', 'cli', 'only the CLI imports the CLI'],
  [(f) => f !== 'cli' && f !== 'lab', 'lab', 'the library a service loads never imports the lab'],
  [(f) => f === 'kernel', 'core', 'lib/kernel is the bottom layer'],
  [(f) => f === 'kernel', 'addon', 'lib/kernel is the bottom layer'],
  [(f) => f === 'kernel', 'simulator', 'lib/kernel is the bottom layer'],
  [(f) => f === 'simulator', 'addon', 'the simulator runs where the addon does not load'],
];

/** Each import that breaks a rule, as "from → to (why)". */
export function layeringViolations(graph: Map<string, string[]>): string[] {
  const out: string[] = [];
  for (const [from, targets] of graph)
    for (const to of targets)
      for (const [applies, forbidden, why] of RULES)
        if (applies(family(from)) && family(to) === forbidden) out.push(`lib/${from} → lib/${to} (${why})`);
  return out;
}

describe('layering of lib/', () => {
  it('the library never imports the CLI or the lab, the lab never the CLI, kernel/ nothing, the simulator not the addon', () => {
    const graph = importGraph();
    expect(graph.size, 'lib/ files found').to.be.greaterThan(30);
    expect(layeringViolations(graph)).to.deep.equal([]);
  });

  it('the rules catch a violation (a synthetic graph)', () => {
    const graph = new Map([
      ['open', ['lab/bench/run', 'kernel/abi']],
      ['kernel/abi', ['errors']],
      ['simulator/simulator', ['addon/addon']],
      ['lab/bench/run', ['cli/main']],
    ]);
    expect(layeringViolations(graph)).to.deep.equal([
      'lib/open → lib/lab/bench/run (the library a service loads never imports the lab)',
      'lib/kernel/abi → lib/errors (lib/kernel is the bottom layer)',
      'lib/simulator/simulator → lib/addon/addon (the simulator runs where the addon does not load)',
      'lib/lab/bench/run → lib/cli/main (only the CLI imports the CLI)',
    ]);
  });

  it('docs/architecture.md names every family directory of lib/', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'architecture.md'), 'utf8');
    const dirs = fs
      .readdirSync(LIB, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => `lib/${e.name}/`);
    expect(
      dirs.filter((d) => !doc.includes(d)),
      'directories docs/architecture.md does not name',
    ).to.deep.equal([]);
  });

  it('every file docs/architecture.md names exists (its owner table follows the layout)', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'architecture.md'), 'utf8');
    // The kernel's own files (include/linux/…, include/uapi/…) are sources, not ours.
    const named = [...doc.matchAll(/`((?:lib|native|include|scripts|test)\/[\w./+-]+\.(?:ts|cc|h|js))`/g)]
      .map((m) => m[1] as string)
      .filter((f) => !/^include\/(linux|uapi)\//.test(f));
    expect(named.length, 'files named').to.be.greaterThan(10);
    expect(named.filter((f) => !fs.existsSync(path.join(ROOT, f)))).to.deep.equal([]);
  });
});
