/** `rseq-slice detect`: what works on this machine, what does not and why, what to do. */
import { detect, type Detection } from '../../detect';
import { packageVersion } from '../../package_root';
import { EXIT_USAGE, JSON_ERROR_HELP, parseOptions, type CliError, type CliIo, type Command } from './command';

function yesNo(v: boolean): string {
  return v ? 'yes' : 'no';
}

/** The human report: what works, what does not and why, what to do. */
function formatReport(d: Detection): string {
  const lines: string[] = [];
  const p = d.platform;
  lines.push(`rseq-slice ${packageVersion()}`);
  lines.push(`platform        ${p.os} ${p.arch}, kernel ${p.kernel}, ${p.libc}`);
  lines.push(
    `native addon    ${d.addon.loaded ? `loaded${d.addon.btrl ? ' (x86-64 btrl fast path)' : ''}` : `not loaded: ${d.addon.error}`}`,
  );
  // Which binary: a prebuild, or a source build that wins over it (operators ask which one runs).
  if (d.addon.loaded && d.addon.path !== undefined) lines.push(`  binary        ${d.addon.path}`);
  const r = d.rseq;
  if (r.registered) {
    lines.push(
      `rseq area       registered by ${r.owner}, ${r.length} bytes (${r.mode}), feature size ${r.featureSize}` +
        (r.kernelFeatureSize !== null
          ? `; kernel feature size ${r.kernelFeatureSize}, alignment ${r.kernelAlignment}`
          : ''),
    );
  } else {
    lines.push(`rseq area       none: ${r.reason ?? 'unknown reason'}`);
  }
  const s = d.sliceExtension;
  lines.push(`slice extension ${s.available ? 'AVAILABLE' : 'NOT AVAILABLE'}${s.errno ? ` (${s.errno})` : ''}`);
  lines.push(
    `  enabled now   ${yesNo(s.enabled)} (flags: available ${yesNo(s.flags.available)}, enabled ${yesNo(s.flags.enabled)})`,
  );
  lines.push(
    `  yield syscall ${s.yieldSyscall ? 'present' : d.addon.loaded ? 'missing (ENOSYS)' : 'unknown (the addon did not load)'}`,
  );
  lines.push(
    `  extension     ${s.extensionNsec !== null ? `${s.extensionNsec} ns` : 'unknown (debugfs rseq/slice_ext_nsec is not readable: it needs root and a mounted debugfs)'}`,
  );
  lines.push(`  boot param    ${s.bootParam !== null ? `rseq_slice_ext=${s.bootParam}` : 'none'}`);
  if (s.reason) lines.push(`  why not       ${s.reason}`);
  if (s.remedy) lines.push(`  what to do    ${s.remedy}`);
  lines.push(
    `backend         ${d.backend}${d.backend === 'simulator' ? ' (open() simulates the kernel: sections run, never extended)' : ''}`,
  );
  if (d.fastPath) lines.push(`fast path       ${d.fastPath}`);
  return lines.join('\n');
}

/**
 * Why the kernel cannot grant here, as a CliError: the refusing call's errno name; ELIBACC when
 * the addon did not load (the code open({ backend: 'native' }) throws then); else `unavailable`.
 */
export function refusal(command: string, d: Detection): CliError {
  const s = d.sliceExtension;
  return {
    command,
    code: s.errno ?? (d.addon.loaded ? 'unavailable' : 'ELIBACC'),
    message: `the kernel cannot grant slice extensions here: ${s.reason ?? 'unknown reason'}`,
    ...(s.remedy === undefined ? {} : { remedy: s.remedy }),
  };
}

export const detectCommand: Command = {
  name: 'detect',
  summary: 'what works on this machine, what does not and why, what to do',
  synopsis: 'detect [--json] [--require]',
  help: `Usage: rseq-slice detect [--json] [--require]

Reports whether this kernel can grant rseq time slice extensions to this process.

Options:
  --json      print detect()'s result as JSON
  --require   exit 1 (with the reason) unless the kernel can grant extensions; with --json,
              the result is printed all the same, with an "error" member added when not met

${JSON_ERROR_HELP}

Exit status: 0 success, 1 --require not met, 2 bad usage.`,
  run(argv: string[], io: CliIo): number {
    const values = parseOptions(this, argv, { json: { type: 'boolean' }, require: { type: 'boolean' } }, io);
    if (values === null) return EXIT_USAGE;
    const d = detect();
    const refused = values.require === true && !d.sliceExtension.available;
    if (!values.json) io.out(formatReport(d));
    // Under --json the detection is printed either way; a refusal adds its error member to it.
    else io.out(JSON.stringify(refused ? { ...d, error: refusal('detect', d) } : d, null, 2));
    if (refused) {
      io.err(
        `rseq-slice: the kernel cannot grant slice extensions here: ${d.sliceExtension.reason ?? 'unknown reason'}`,
      );
      return 1;
    }
    return 0;
  },
};
