/** `rseq-slice check`: does the running kernel implement the slice extension as the merged kernel does? */
import { checkConformance, CheckUnavailable, type ConformanceReport } from '../../lab/conformance/check';
import { EXIT_USAGE, fail, JSON_ERROR_HELP, parseOptions, usageError, type CliIo, type Command } from './command';

const MODEL_TEXT: Record<ConformanceReport['model'], string> = {
  'pre-7.0': 'a kernel before 7.0 (no slice extension ABI: prctl EINVAL, rseq_slice_yield ENOSYS)',
  'built without': 'a 7.x kernel built without CONFIG_RSEQ_SLICE_EXTENSION (prctl ENOTSUPP)',
  'disabled at boot': 'a 7.x kernel with the extension disabled at boot (rseq_slice_ext=0)',
  enabled: 'a 7.x kernel with the extension enabled',
};

/** The human report: the model compared against, then one line per rule. */
function formatConformance(r: ConformanceReport): string {
  const lines = [
    `kernel ${r.kernel}: compared with the simulator as ${MODEL_TEXT[r.model]}`,
    `model: ${r.basis}`,
    `detect(): ${r.detection}`,
    `ABI transcript: ${r.steps} steps; grant scenario and chosen instants: ${r.model === 'enabled' ? (r.quick ? 'run (quick)' : 'run') : 'not run'}`,
    '',
  ];
  for (const x of r.rules) lines.push(`${x.rule.padEnd(4)} ${x.status.padEnd(4)} ${x.title}: ${x.detail}`);
  const counts = (s: string): number => r.rules.filter((x) => x.status === s).length;
  lines.push(
    '',
    `${r.conforms ? 'conforms' : `DIVERGES in ${r.failed.join(', ')}`}: ${counts('pass')} pass, ${counts('FAIL')} FAIL, ${counts('n/a')} n/a (${(r.durationMs / 1000).toFixed(1)} s)`,
  );
  return lines.join('\n');
}

export const checkCommand: Command = {
  name: 'check',
  summary: 'does the running kernel implement the extension as the merged kernel does?',
  synopsis: 'check [--json] [--quick] [--seconds N]',
  help: `Usage: rseq-slice check [--json] [--quick] [--seconds N]

Checks that the running kernel implements the rseq time slice extension as the merged kernel
does: runs the ABI script (registrations of every length, every prctl case, yield) in a child
process with glibc's registration off, and, where the kernel grants, a short grant scenario
(pinned to one CPU with taskset, with a noise thread) and the chosen instants: at the moment
the kernel grants, a syscall (R19), a disable (R21), a yield (R20), or spinning on until the
kernel ends the grant (R17, R18), and syscalls in sections with no grant (R27). Compares each
step with the simulator configured for the kernel found (its release and prctl's answer: before
7.0, built without, disabled at boot, enabled) and prints one line per rule of the table in
docs/simulator.md: pass, FAIL (the step, the kernel's answer and the expected one) or n/a (why).

Options:
  --json        print the report as JSON ("failed" lists the rule ids that failed)
  --quick       fewer trials of each chosen instant (about a third)
  --seconds N   seconds of sections in the grant scenario (default 1, at most 60)

${JSON_ERROR_HELP}
A divergence prints the report with an "error" member (code diverges).

Exit status: 0 every applicable rule passes, 1 a divergence (or the check could not run),
2 bad usage.`,
  run(argv: string[], io: CliIo): number {
    const values = parseOptions(
      this,
      argv,
      { json: { type: 'boolean' }, quick: { type: 'boolean' }, seconds: { type: 'string' } },
      io,
    );
    if (values === null) return EXIT_USAGE;
    const seconds = values.seconds === undefined ? 1 : Number(values.seconds);
    const json = values.json === true;
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 60)
      return usageError(
        io,
        'check',
        argv,
        `--seconds must be a number of seconds above 0 and at most 60; got ${JSON.stringify(values.seconds)}`,
      );
    let report: ConformanceReport;
    try {
      report = checkConformance({ seconds, quick: values.quick === true });
    } catch (e) {
      if (!(e instanceof CheckUnavailable)) throw e;
      return fail(
        io,
        json,
        { command: 'check', code: 'unavailable', message: `cannot check this kernel: ${e.message}` },
        1,
      );
    }
    if (!json) io.out(formatConformance(report));
    else {
      // A divergence is the check's answer, not a failure to run: the report, with an error member.
      const error = {
        command: 'check',
        code: 'diverges',
        message: `the kernel diverges from the merged kernel in ${report.failed.join(', ')}`,
      };
      io.out(JSON.stringify(report.conforms ? report : { ...report, error }, null, 2));
    }
    return report.conforms ? 0 : 1;
  },
};
