/**
 * `rseq-slice check` against kernels with known bugs: boots each image of a mutants directory
 * (../shared/kernels/mutants: 7.2.13 with one bug each in kernel/rseq.c) with scripts/vm-run, as
 * the guest suite does, runs `rseq-slice check --json` there and expects it to exit 1 naming the
 * rule the bug breaks; and on each good kernel, expects exit 0. Prints a table image → verdict →
 * the line check printed for that rule → time.
 *
 *   node -r tsx/cjs test/vm/mutants.ts [--if-configured] [--dir DIR] [--kernel PATH]...
 * Good kernels: every --kernel, else RSEQ_SLICE_KERNEL (':'-separated). An image in DIR that this
 * file does not list must still fail check (any rule): a bug check misses is a defect of check.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { ConformanceReport } from '../../lib/lab/conformance/check';
import { ROOT } from '../support/paths';

/** The rule each known mutant breaks first (../shared/kernels/mutants/README.md, "the bug"). */
export const MUTANT_RULES: Readonly<Record<string, string>> = {
  'bzImage-7.2.13-yield-always-succeeds': 'R20',
  'bzImage-7.2.13-grant-never-expires': 'R18',
  'bzImage-7.2.13-syscall-keeps-grant': 'R19',
};

const BEGIN = '--- rseq-slice check --json';
const END = '--- exit';

interface Outcome {
  image: string;
  expected: string;
  ok: boolean;
  verdict: string;
  line: string;
  /** Boot and check, and check alone (its report's durationMs). */
  seconds: number;
  checkSeconds: number | null;
}

/** Boots `kernel`, runs check in it and returns its exit status and report. */
function bootAndCheck(kernel: string): { status: number | null; report: ConformanceReport | null; output: string } {
  const guest = `echo '${BEGIN}'; node dist/cli/main.js check --json; echo "${END} $?"`;
  // check sets glibc's registration off in its own children; the guest's node starts as a user's would.
  const env = { ...process.env };
  delete env.GLIBC_TUNABLES;
  const r = spawnSync(
    path.join(ROOT, 'scripts', 'vm-run'),
    ['--kernel', kernel, '--cpus', '2', '--timeout', '300', '--', 'sh', '-c', guest],
    { cwd: ROOT, encoding: 'utf8', env },
  );
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const out = r.stdout ?? '';
  const a = out.indexOf(BEGIN);
  const b = out.lastIndexOf(END);
  if (a < 0 || b < a) return { status: null, report: null, output };
  const status = Number(/--- exit (\d+)/.exec(out.slice(b))?.[1]);
  try {
    return { status, report: JSON.parse(out.slice(a + BEGIN.length, b)) as ConformanceReport, output };
  } catch {
    return { status, report: null, output };
  }
}

function judge(image: string, expected: string, run: ReturnType<typeof bootAndCheck>, seconds: number): Outcome {
  const { status, report } = run;
  const checkSeconds = report ? report.durationMs / 1000 : null;
  if (report === null)
    return {
      image,
      expected,
      ok: false,
      verdict: `no report (exit ${status})`,
      line: run.output.trim().split('\n').slice(-5).join(' / '),
      seconds,
      checkSeconds,
    };
  const failed = report.rules.filter((r) => r.status === 'FAIL');
  const line = (rule: string): string => {
    const r = report.rules.find((x) => x.rule === rule);
    return r ? `${r.rule} ${r.status} ${r.title}: ${r.detail}` : '';
  };
  if (expected === 'conforms') {
    const ok = status === 0 && failed.length === 0;
    return {
      image,
      expected,
      ok,
      verdict: ok ? 'conforms, exit 0' : `exit ${status}, FAIL ${failed.map((r) => r.rule).join(', ')}`,
      line: failed.map((r) => line(r.rule)).join(' | '),
      seconds,
      checkSeconds,
    };
  }
  const named = expected === 'any' ? failed.length > 0 : failed.some((r) => r.rule === expected);
  const ok = status === 1 && named && report.failed.length === failed.length;
  const shown = expected === 'any' ? (failed[0]?.rule ?? '') : expected;
  return {
    image,
    expected,
    ok,
    verdict: `exit ${status}, FAIL ${failed.map((r) => r.rule).join(', ') || 'none'}`,
    line: shown ? line(shown) : '',
    seconds,
    checkSeconds,
  };
}

function main(): number {
  const { values } = parseArgs({
    options: {
      'if-configured': { type: 'boolean' },
      dir: { type: 'string', default: path.join(ROOT, '..', 'shared', 'kernels', 'mutants') },
      kernel: { type: 'string', multiple: true },
    },
  });
  const good = values.kernel ?? (process.env.RSEQ_SLICE_KERNEL ?? '').split(':').filter((k) => k !== '');
  const dir = values.dir as string;
  const mutants = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.startsWith('bzImage'))
        .sort()
        .map((f) => path.join(dir, f))
    : [];
  const qemu = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { encoding: 'utf8' }).status === 0;
  const why = !qemu
    ? 'qemu-system-x86_64 is not installed (Debian package qemu-system-x86)'
    : mutants.length === 0
      ? `no bzImage* in ${dir}`
      : null;
  if (why) {
    console.log(`mutant kernels skipped: ${why}.`);
    return values['if-configured'] ? 0 : 2;
  }
  const outcomes: Outcome[] = [];
  const cases: Array<[string, string]> = [
    ...good.map((k): [string, string] => [k, 'conforms']),
    ...mutants.map((k): [string, string] => [k, MUTANT_RULES[path.basename(k)] ?? 'any']),
  ];
  for (const [kernel, expected] of cases) {
    const started = process.hrtime.bigint();
    console.log(
      `\n=== rseq-slice check on ${path.basename(kernel)} (expected: ${expected === 'conforms' ? 'conforms' : `FAIL ${expected}`})`,
    );
    const run = bootAndCheck(kernel);
    const o = judge(
      path.basename(kernel),
      expected,
      run,
      Number((process.hrtime.bigint() - started) / 1_000_000n) / 1000,
    );
    console.log(`${o.ok ? 'ok' : 'NOT OK'}: ${o.verdict}${o.line ? `\n  ${o.line}` : ''}`);
    if (!o.ok) console.log(run.output);
    outcomes.push(o);
  }
  console.log('\n| image | expected | check | the line it printed | check | boot + check |');
  console.log('|---|---|---|---|---|---|');
  for (const o of outcomes)
    console.log(
      `| ${o.image} | ${o.expected === 'conforms' ? 'conforms' : `FAIL ${o.expected}`} | ${o.ok ? '' : 'NOT OK: '}${o.verdict} | ${o.line.replace(/\|/g, '\\|')} | ${o.checkSeconds === null ? '—' : `${o.checkSeconds.toFixed(1)} s`} | ${o.seconds.toFixed(0)} s |`,
    );
  const bad = outcomes.filter((o) => !o.ok).length;
  console.log(
    bad
      ? `\nmutant kernels: ${bad} of ${outcomes.length} not as expected`
      : `\nmutant kernels: all ${outcomes.length} as expected`,
  );
  return bad ? 1 : 0;
}

if (require.main === module) process.exitCode = main();
