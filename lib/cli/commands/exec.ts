/**
 * `rseq-slice exec [--] COMMAND [ARGS…]`: runs COMMAND with glibc's rseq registration turned off
 * (glibc.pthread.rseq=0 merged into GLIBC_TUNABLES), so that on glibc 2.35–2.40, whose own area is
 * a legacy one the kernel grants nothing to, rseq-slice registers an optimized area itself.
 */
import { GLIBC_RSEQ_TUNABLE, mergeTunable } from '../../kernel/glibc_tunables';
import { replaceProcess, runChild } from '../replace_process';
import { EXIT_USAGE, type CliIo, type Command } from './command';

/** What shells exit with when a command is found but cannot run, and when it is not found. */
const EXIT_CANNOT_EXECUTE = 126;
const EXIT_NOT_FOUND = 127;

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'command not found',
  EACCES: 'permission denied',
  ENOEXEC: 'not an executable format',
  EISDIR: 'is a directory',
  ENOTDIR: 'a path component is not a directory',
  E2BIG: 'argument list too long',
  ELOOP: 'too many symbolic links',
  ETXTBSY: 'text file busy',
};

/** 127 for a command that does not exist (ENOENT), 126 for one that exists but cannot run. */
export function execFailureStatus(errno: string): number {
  return errno === 'ENOENT' ? EXIT_NOT_FOUND : EXIT_CANNOT_EXECUTE;
}

function cannotRun(io: CliIo, command: string, errno: string): number {
  io.err(
    `rseq-slice exec: cannot run ${JSON.stringify(command)}: ${errno}${ERRNO_TEXT[errno] ? ` (${ERRNO_TEXT[errno]})` : ''}`,
  );
  return execFailureStatus(errno);
}

const HELP = `Usage: rseq-slice exec [--] COMMAND [ARGS...]

Runs COMMAND with ${GLIBC_RSEQ_TUNABLE}=0 added to GLIBC_TUNABLES (other tunables are kept; an
earlier ${GLIBC_RSEQ_TUNABLE} value is replaced, with a notice on stderr). glibc 2.35 to 2.40
then registers no rseq area of its own, and rseq-slice registers an optimized one in which the
kernel can grant slice extensions. COMMAND is looked up in PATH.

rseq-slice replaces itself with COMMAND (execve), so COMMAND keeps this process id, stdio and
signals, and its exit status is the exit status. Where neither Node's process.execve nor the
native addon is available, COMMAND runs as a child instead: SIGINT, SIGTERM, SIGHUP, SIGQUIT,
SIGUSR1, SIGUSR2 and SIGWINCH are forwarded to it, and rseq-slice exits with its status, or
dies of the signal that ended it.

Options end at COMMAND; use -- before a COMMAND that starts with '-'.

Exit status: COMMAND's; 126 COMMAND found but not executable; 127 COMMAND not found;
2 bad usage (no COMMAND).`;

export const execCommand: Command = {
  name: 'exec',
  summary: "run a command with glibc's rseq registration off (glibc 2.35 to 2.40)",
  synopsis: 'exec [--] COMMAND [ARGS...]',
  help: HELP,
  optionsEndAtOperand: true,
  run(argv: string[], io: CliIo): number | Promise<number> {
    const rest = argv[0] === '--' ? argv.slice(1) : argv;
    if (argv[0] !== '--' && rest[0]?.startsWith('-')) {
      io.err(
        `rseq-slice exec: unknown option ${JSON.stringify(rest[0])} (put -- before a command that starts with '-')\n\n${HELP}`,
      );
      return EXIT_USAGE;
    }
    const [command, ...args] = rest;
    if (command === undefined || command === '') {
      io.err(`rseq-slice exec: no command given\n\n${HELP}`);
      return EXIT_USAGE;
    }
    const merged = mergeTunable(process.env.GLIBC_TUNABLES, GLIBC_RSEQ_TUNABLE, '0');
    if (merged.replaced.length > 0) {
      io.err(
        `rseq-slice exec: GLIBC_TUNABLES had ${merged.replaced.map((v) => `${GLIBC_RSEQ_TUNABLE}=${v}`).join(', ')}; replaced with ${GLIBC_RSEQ_TUNABLE}=0`,
      );
    }
    const env = { ...process.env, GLIBC_TUNABLES: merged.value };
    const errno = replaceProcess(command, args, env);
    if (errno !== null) return cannotRun(io, command, errno);
    return runChild(command, args, env).catch((err: NodeJS.ErrnoException) => {
      if (typeof err.code === 'string' && /^E[A-Z0-9]+$/.test(err.code)) return cannotRun(io, command, err.code);
      throw err;
    });
  },
};
