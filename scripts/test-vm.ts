/**
 * The integration suite on a real slice-extension kernel: boots the kernel named by
 * RSEQ_SLICE_KERNEL in QEMU once per variant (scripts/vm-run) and runs the guest suites
 * (test/vm/*.vm.ts) there.
 *
 *   node -r tsx/cjs scripts/test-vm.ts [--if-configured] [--only NAME]
 * --if-configured: when no kernel or no QEMU is at hand, say why and exit 0 (what `npm test` does).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { glibcRuntime, GLIBC_SUITES, type GlibcSuite } from './other-glibc';

const ROOT = path.join(__dirname, '..');
const MOCHA = ['node_modules/mocha/bin/mocha.js', '--no-config', '--require', 'tsx/cjs', '--timeout', '900000'];
const GLIBC_OFF = 'glibc.pthread.rseq=0';

interface Variant {
  name: string;
  append?: string;
  glibcOff: boolean;
  /** Run node under this Debian suite's glibc (its loader from scripts/other-glibc.ts) instead of the host's. */
  glibc?: GlibcSuite;
  /** Each entry: [pin to CPU 1?, spec file]; each runs in its own process in the same boot. */
  specs: Array<[boolean, string]>;
}

const VARIANTS: Variant[] = [
  { name: 'glibc-on', glibcOff: false, specs: [[false, 'legacy.vm.ts'], [true, 'exec.vm.ts']] },
  { name: `glibc-${GLIBC_SUITES.trixie}`, glibc: 'trixie', glibcOff: false, specs: [[true, 'glibc-optimized.vm.ts']] },
  { name: 'glibc-off', glibcOff: true, specs: [[false, 'differential.vm.ts'], [true, 'optimized.vm.ts']] },
  { name: 'boot-disabled', append: 'rseq_slice_ext=0', glibcOff: true, specs: [[false, 'boot-disabled.vm.ts']] },
  { name: 'debug', append: 'rseq_debug=1', glibcOff: true, specs: [[true, 'debug.vm.ts']] },
  { name: `glibc-${GLIBC_SUITES.bullseye}`, glibc: 'bullseye', glibcOff: false, specs: [[true, 'glibc-old.vm.ts']] },
];

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function missing(): string | null {
  const kernel = process.env.RSEQ_SLICE_KERNEL;
  if (!kernel) return 'RSEQ_SLICE_KERNEL is not set (point it at a bzImage built with CONFIG_RSEQ_SLICE_EXTENSION)';
  if (!fs.existsSync(kernel)) return `RSEQ_SLICE_KERNEL=${kernel} does not exist`;
  const qemu = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { encoding: 'utf8' });
  if (qemu.status !== 0) return 'qemu-system-x86_64 is not installed (Debian package qemu-system-x86)';
  return null;
}

function main(): number {
  const { values } = parseArgs({ options: { 'if-configured': { type: 'boolean' }, only: { type: 'string' } } });
  const why = missing();
  if (why) {
    console.log(`VM suite skipped: ${why}.`);
    return values['if-configured'] ? 0 : 2;
  }
  const variants = VARIANTS.filter((v) => values.only === undefined || v.name === values.only);
  if (variants.length === 0) {
    console.error(`test-vm: unknown variant ${JSON.stringify(values.only)}; known: ${VARIANTS.map((v) => v.name).join(', ')}`);
    return 2;
  }
  const failed: string[] = [];
  const skipped: string[] = [];
  for (const v of variants) {
    let node = ['node'];
    if (v.glibc !== undefined) {
      // The packages come from the cache (.ci/run fetches them; so does this script unless
      // --if-configured, which never downloads).
      const rt = glibcRuntime(v.glibc, !values['if-configured']);
      if (!rt.ok) {
        console.log(`\n=== VM variant ${v.name} skipped: ${rt.reason}`);
        skipped.push(v.name);
        continue;
      }
      node = rt.node;
    }
    const commands = v.specs.map(([pin, spec]) => [...(pin ? ['taskset', '-c', '1'] : []), ...node, ...MOCHA, `test/vm/${spec}`].map(quote).join(' '));
    const args = ['--kernel', process.env.RSEQ_SLICE_KERNEL as string, '--cpus', '2', '--timeout', '1800'];
    if (v.append) args.push('--append', v.append);
    const env = { ...process.env };
    if (v.glibcOff) env.GLIBC_TUNABLES = GLIBC_OFF;
    else delete env.GLIBC_TUNABLES;
    console.log(`\n=== VM variant ${v.name}: ${v.append ?? 'default command line'}, GLIBC_TUNABLES=${env.GLIBC_TUNABLES ?? '(unset)'}, node: ${node.join(' ')}`);
    const r = spawnSync(path.join(ROOT, 'scripts', 'vm-run'), [...args, '--', 'sh', '-c', commands.join(' && ')], { cwd: ROOT, env, stdio: 'inherit' });
    if (r.status !== 0) failed.push(`${v.name} (exit ${r.status ?? r.signal})`);
  }
  const skips = skipped.length ? ` (skipped: ${skipped.join(', ')})` : '';
  console.log(failed.length ? `\nVM suite: ${failed.length} variant(s) failed: ${failed.join(', ')}${skips}` : `\nVM suite: ${variants.length - skipped.length} variant(s) passed${skips}`);
  return failed.length ? 1 : 0;
}

process.exitCode = main();
