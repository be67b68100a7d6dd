/**
 * The integration suite on real slice-extension kernels: boots each kernel in QEMU once per
 * variant (scripts/vm-run), runs the guest suites (test/vm/*.vm.ts) there, and prints a matrix
 * kernel × variant × result with the time per kernel.
 *
 *   node -r tsx/cjs test/vm/run.ts [--if-configured] [--require-all] [--only NAME] [--kernel PATH]...
 * Kernels: every --kernel, else RSEQ_SLICE_KERNEL (several images separated by ':').
 * --if-configured: when no kernel or no QEMU is at hand, say why and exit 0 (what `npm test` does).
 * --require-all: a variant whose runtime is missing fails instead of skipping (what .ci/run does).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { glibcRuntime, GLIBC_SUITES, type GlibcSuite } from '../../scripts/other-glibc';
import { otherNode, type NodeMajor } from '../../scripts/other-node';
import { ROOT } from '../support/paths';
import { TEST_CONSUMER } from '../support/consumer';

const MOCHA = ['node_modules/mocha/bin/mocha.js', '--no-config', '--require', 'tsx/cjs', '--timeout', '900000'];
const GLIBC_OFF = 'glibc.pthread.rseq=0';
/** The guest spec that loads the tests' consumer addon (test/native/consumer), which the host builds before booting. */
const CONSUMER_SPEC = 'consumer.vm.ts';

interface Variant {
  name: string;
  append?: string;
  glibcOff: boolean;
  /** Run node under this Debian suite's glibc (its loader from scripts/other-glibc.ts) instead of the host's. */
  glibc?: GlibcSuite;
  /** Run this official Node release (scripts/other-node.ts) instead of the host's node, first on PATH. */
  node?: NodeMajor;
  /** Each entry: [pin to CPU 1?, spec file]; each runs in its own process in the same boot. */
  specs: Array<[boolean, string]>;
}

const VARIANTS: Variant[] = [
  {
    name: 'glibc-on',
    glibcOff: false,
    specs: [
      [false, 'legacy.vm.ts'],
      [true, 'exec.vm.ts'],
    ],
  },
  {
    name: `glibc-${GLIBC_SUITES.trixie}`,
    glibc: 'trixie',
    glibcOff: false,
    specs: [
      [true, 'glibc-optimized.vm.ts'],
      [true, CONSUMER_SPEC],
    ],
  },
  {
    name: 'glibc-off',
    glibcOff: true,
    specs: [
      [false, 'differential.vm.ts'],
      [true, 'optimized.vm.ts'],
      [true, 'nesting.vm.ts'],
      [true, 'native-nesting.vm.ts'],
      [true, CONSUMER_SPEC],
      [true, 'examples.vm.ts'],
    ],
  },
  {
    // The Node services run: real grants on the JavaScript fast path, SliceMutex, workers and fork
    // (optimized.vm.ts, with debugfs's counters) and through the native API (the consumer addon).
    name: 'node-24',
    node: 24,
    glibcOff: true,
    specs: [
      [true, 'optimized.vm.ts'],
      [true, CONSUMER_SPEC],
    ],
  },
  { name: 'boot-disabled', append: 'rseq_slice_ext=0', glibcOff: true, specs: [[false, 'boot-disabled.vm.ts']] },
  {
    name: 'debug',
    append: 'rseq_debug=1',
    glibcOff: true,
    specs: [
      [true, 'debug.vm.ts'],
      [false, 'owner-death.vm.ts'],
      [true, CONSUMER_SPEC],
    ],
  },
  { name: `glibc-${GLIBC_SUITES.bullseye}`, glibc: 'bullseye', glibcOff: false, specs: [[true, 'glibc-old.vm.ts']] },
];

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function kernelList(flags: string[] | undefined): string[] {
  if (flags && flags.length > 0) return flags;
  return (process.env.RSEQ_SLICE_KERNEL ?? '').split(':').filter((k) => k !== '');
}

function missing(kernels: string[]): string | null {
  if (kernels.length === 0)
    return 'no kernel: RSEQ_SLICE_KERNEL is not set and no --kernel given (point it at a bzImage built with CONFIG_RSEQ_SLICE_EXTENSION; several: separate with ":")';
  for (const kernel of kernels) if (!fs.existsSync(kernel)) return `kernel image ${kernel} does not exist`;
  const qemu = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { encoding: 'utf8' });
  if (qemu.status !== 0) return 'qemu-system-x86_64 is not installed (Debian package qemu-system-x86)';
  return null;
}

/**
 * The node command of each variant: the host's, or node under another glibc's loader; a string
 * is why the variant skips (its runtime is not at hand).
 */
function nodeCommand(v: Variant, fetch: boolean): string[] | string {
  if (v.node !== undefined) {
    const n = otherNode(v.node, fetch);
    return n.ok ? [n.node] : n.reason;
  }
  if (v.glibc === undefined) return ['node'];
  const rt = glibcRuntime(v.glibc, fetch);
  return rt.ok ? rt.node : rt.reason;
}

/** Boots `kernel` with the variant and runs its specs with `node`; true when all passed. */
function runVariant(kernel: string, v: Variant, node: string[]): boolean {
  const commands = v.specs.map(([pin, spec]) =>
    [...(pin ? ['taskset', '-c', '1'] : []), ...node, ...MOCHA, `test/vm/${spec}`].map(quote).join(' '),
  );
  const args = ['--kernel', kernel, '--cpus', '2', '--timeout', '1800'];
  if (v.append) args.push('--append', v.append);
  const env = { ...process.env };
  // What the specs start by name (node, npm's node) is that release too.
  if (v.node !== undefined) env.PATH = `${path.dirname(node[0] as string)}${path.delimiter}${env.PATH ?? ''}`;
  if (v.glibcOff) env.GLIBC_TUNABLES = GLIBC_OFF;
  else delete env.GLIBC_TUNABLES;
  console.log(
    `\n=== VM variant ${v.name} on ${path.basename(kernel)}: ${v.append ?? 'default command line'}, GLIBC_TUNABLES=${env.GLIBC_TUNABLES ?? '(unset)'}, node: ${node.join(' ')}`,
  );
  const r = spawnSync(path.join(ROOT, 'scripts', 'vm-run'), [...args, '--', 'sh', '-c', commands.join(' && ')], {
    cwd: ROOT,
    env,
    stdio: 'inherit',
  });
  return r.status === 0;
}

function main(): number {
  const { values } = parseArgs({
    options: {
      'if-configured': { type: 'boolean' },
      'require-all': { type: 'boolean' },
      only: { type: 'string' },
      kernel: { type: 'string', multiple: true },
    },
  });
  const kernels = kernelList(values.kernel);
  const why = missing(kernels);
  if (why) {
    console.log(`VM suite skipped: ${why}.`);
    return values['if-configured'] ? 0 : 2;
  }
  const variants = VARIANTS.filter((v) => values.only === undefined || v.name === values.only);
  if (variants.length === 0) {
    console.error(
      `test:vm: unknown variant ${JSON.stringify(values.only)}; known: ${VARIANTS.map((v) => v.name).join(', ')}`,
    );
    return 2;
  }
  // The packages come from the cache (.ci/run fetches them; so does this script unless
  // --if-configured, which never downloads).
  const nodes = variants.map((v) => nodeCommand(v, !values['if-configured']));
  variants.forEach((v, i) => {
    const node = nodes[i];
    if (typeof node === 'string') console.log(`\n=== VM variant ${v.name} skipped: ${node}`);
  });
  // The guest runs the host's root over 9p: a consumer addon built here is the one it loads.
  if (variants.some((v, i) => typeof nodes[i] !== 'string' && v.specs.some(([, spec]) => spec === CONSUMER_SPEC))) {
    try {
      console.log(TEST_CONSUMER.ensureBuilt());
    } catch (err) {
      console.error(`test:vm: ${(err as Error).message}`);
      return 1;
    }
  }
  const rows: string[] = [];
  let failed = 0;
  for (const kernel of kernels) {
    const started = process.hrtime.bigint();
    const results = variants.map((v, i): string => {
      const node = nodes[i] as string[] | string;
      if (typeof node === 'string') return values['require-all'] ? 'FAIL' : 'skip';
      return runVariant(kernel, v, node) ? 'pass' : 'FAIL';
    });
    failed += results.filter((r) => r === 'FAIL').length;
    const seconds = Number((process.hrtime.bigint() - started) / 1_000_000n) / 1000;
    rows.push(`| ${path.basename(kernel)} | ${results.join(' | ')} | ${seconds.toFixed(0)} s |`);
  }
  console.log(`\n| kernel | ${variants.map((v) => v.name).join(' | ')} | time |`);
  console.log(`|---|${variants.map(() => '---|').join('')}---|`);
  for (const row of rows) console.log(row);
  const total = kernels.length * variants.length;
  const skipped = values['require-all'] ? 0 : nodes.filter((n) => typeof n === 'string').length * kernels.length;
  const skips = skipped ? ` (${skipped} skipped)` : '';
  console.log(
    failed
      ? `\nVM suite: ${failed} of ${total} kernel × variant run(s) failed${skips}`
      : `\nVM suite: all ${total - skipped} kernel × variant run(s) passed${skips}`,
  );
  return failed ? 1 : 0;
}

process.exitCode = main();
