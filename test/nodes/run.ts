/**
 * The Node matrix: the host suite's mocha specs under each Node release services run (22, 24, 26;
 * scripts/other-node.ts fetches them, .ci/run first). That Node's bin/ goes first on PATH, so every
 * `node` a test starts (children, npm and its prepack, node-gyp, prebuildify) is that release, and
 * the consumer addons build against its own headers (from its installation, with --nodedir). Prints one
 * line per release (passing, pending, failing, seconds), and fails a release whose consumer addon
 * was not built with that release's own headers.
 *
 *   node -r tsx/cjs test/nodes/run.ts [--if-fetched] [--node MAJOR]... [--list]
 * --if-fetched: a release not in the cache is skipped with the reason printed (what `npm test`
 *   does), except in CI (CI=true), where .ci/run has fetched them and a missing one fails.
 * --node: only these majors. --list: print the spec files each release runs, and exit.
 *
 * Which specs: the whole host suite (.mocharc.json's spec) but the npm install matrix
 * (test/repo/install.test.ts): its cells are npm versions, which these releases do not bundle, and
 * its npm 12 cells already run npm under Node 24. Measured on the 2-CPU development machine, a
 * release takes about 2.5 min (Node 26.12.1: 164 s; leaving out the lab's and the text checks'
 * specs too would save 17 s of it, not worth a second list).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { NODE_MAJORS, nodeMajor, otherNode, type NodeMajor } from '../../scripts/other-node';
import { ROOT } from '../support/paths';

/** The spec the matrix leaves out (see above). */
const NOT_IN_MATRIX = path.join('test', 'repo', 'install.test.ts');

/**
 * Mocha's options for a matrix run: .mocharc.json's, without its spec list (mocha adds the files
 * given on its command line to a configured spec instead of replacing it), and the dot reporter.
 */
const MOCHA_OPTIONS = ((): string[] => {
  const rc = JSON.parse(fs.readFileSync(path.join(ROOT, '.mocharc.json'), 'utf8')) as {
    require: string[];
    extension: string[];
    timeout: number;
  };
  return [
    '--no-config',
    ...rc.require.flatMap((r) => ['--require', r]),
    ...rc.extension.flatMap((e) => ['--extension', e]),
    '--timeout',
    String(rc.timeout),
    '--reporter',
    'dot',
  ];
})();

/** The spec files each release runs, relative to the repository root: every test/<dir>/*.test.ts. */
export function matrixSpecs(): string[] {
  const test = path.join(ROOT, 'test');
  return fs
    .readdirSync(test, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => fs.readdirSync(path.join(test, d.name)).map((f) => path.join('test', d.name, f)))
    .filter((f) => f.endsWith('.test.ts') && f !== NOT_IN_MATRIX)
    .sort();
}

/** The headers node-gyp last built the tests' consumer addon with (its config.gypi's nodedir), or null. */
function consumerNodedir(): string | null {
  try {
    const config = fs.readFileSync(path.join(ROOT, 'test', 'native', 'consumer', 'build', 'config.gypi'), 'utf8');
    return /"nodedir": "([^"]+)"/.exec(config)?.[1] ?? null;
  } catch {
    return null;
  }
}

interface Row {
  node: string;
  result: string;
  seconds?: number;
}

function main(): number {
  const { values } = parseArgs({
    options: {
      'if-fetched': { type: 'boolean', default: false },
      node: { type: 'string', multiple: true },
      list: { type: 'boolean', default: false },
    },
  });
  const specs = matrixSpecs();
  if (values.list) {
    console.log(specs.join('\n'));
    return 0;
  }
  let majors: NodeMajor[];
  try {
    majors = values.node?.map(nodeMajor) ?? NODE_MAJORS;
  } catch (err) {
    console.error(`test/nodes/run.ts: ${(err as Error).message}`);
    return 2;
  }
  const ci = process.env.CI === 'true';
  const rows: Row[] = [];
  let failed = false;
  for (const major of majors) {
    const n = otherNode(major, false);
    if (!n.ok) {
      if (values['if-fetched'] && !ci) {
        console.log(`== Node ${n.version}: skipped: ${n.reason}`);
        rows.push({ node: n.version, result: 'skipped (not fetched)' });
        continue;
      }
      console.error(`== Node ${n.version}: ${n.reason}`);
      rows.push({ node: n.version, result: 'missing' });
      failed = true;
      continue;
    }
    console.log(`== Node ${n.version} (${n.node}): ${specs.length} spec files`);
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${n.bin}${path.delimiter}${process.env.PATH ?? ''}` };
    // Another release's headers for node-gyp: its own installation's, never a download.
    delete env.npm_config_nodedir;
    const started = Date.now();
    const mocha = [path.join('node_modules', 'mocha', 'bin', 'mocha.js'), ...MOCHA_OPTIONS, ...specs];
    const r = spawnSync(n.node, mocha, { cwd: ROOT, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    process.stdout.write(r.stdout);
    const seconds = Math.round((Date.now() - started) / 1000);
    const count = (what: string): string => new RegExp(`(\\d+) ${what}`).exec(r.stdout)?.[1] ?? '0';
    const summary = `${count('passing')} passing, ${count('pending')} pending, ${count('failing')} failing`;
    // test/lib/consumer.test.ts rebuilt the consumer addon under this release: with its own headers?
    const headers = consumerNodedir();
    const wrongHeaders =
      headers === n.prefix
        ? ''
        : `; the consumer addon was built against ${headers ?? 'no recorded headers'}, not ${n.prefix}`;
    const ok = r.status === 0 && wrongHeaders === '';
    rows.push({
      node: n.version,
      result: ok
        ? `${summary}; consumer addon built with its headers`
        : `FAILED (exit ${r.status}): ${summary}${wrongHeaders}`,
      seconds,
    });
    if (!ok) failed = true;
  }
  console.log('\nNode matrix (test/nodes/run.ts):');
  for (const row of rows)
    console.log(`  Node ${row.node.padEnd(8)} ${row.result}${row.seconds === undefined ? '' : ` (${row.seconds} s)`}`);
  return failed ? 1 : 0;
}

if (require.main === module) process.exitCode = main();
