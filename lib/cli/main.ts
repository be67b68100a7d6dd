#!/usr/bin/env node
/**
 * The `rseq-slice` command: dispatches to one subcommand per file in commands/.
 *   rseq-slice [COMMAND] [OPTIONS]      (no command: detect)
 *   rseq-slice help [COMMAND]
 */
import type { CliIo, Command } from './commands/command';
import { errorFromException, errorJson, EXIT_USAGE, fail, wantsJson } from './commands/command';
import { benchCommand } from './commands/bench';
import { buildCommand } from './commands/build';
import { checkCommand } from './commands/check';
import { detectCommand } from './commands/detect';
import { execCommand } from './commands/exec';
import { statsCommand } from './commands/stats';
import { packageVersion } from '../package_root';

/**
 * `rseq-slice help [COMMAND]`: the top-level help, or one command's. It lives here, not in
 * commands/, because it lists COMMANDS (an import from here would be circular).
 */
const helpCommand: Command = {
  name: 'help',
  summary: "this list, or a command's options and exit status",
  synopsis: 'help [COMMAND]',
  help: `Usage: rseq-slice help [COMMAND]

Without COMMAND, lists the commands (as rseq-slice --help does); with COMMAND, prints its
help (as rseq-slice COMMAND --help does).

Exit status: 0 success, 2 bad usage (an unknown COMMAND, or more than one).`,
  run(argv: string[], io: CliIo): number {
    const bad = (msg: string): number => {
      io.err(`rseq-slice help: ${msg}\n\n${usage()}`);
      return EXIT_USAGE;
    };
    if (argv.length > 1) return bad(`one command at most; got ${argv.map((a) => JSON.stringify(a)).join(' ')}`);
    const [name] = argv;
    if (name === undefined) {
      io.out(usage());
      return 0;
    }
    if (name.startsWith('-')) return bad(`unknown option ${JSON.stringify(name)}`);
    const command = COMMANDS.find((c) => c.name === name);
    if (command === undefined) return bad(unknownCommand(name));
    io.out(command.help);
    return 0;
  },
};

/** Every subcommand, in the order `--help` lists them; the first is the default. */
export const COMMANDS: readonly Command[] = [
  detectCommand,
  benchCommand,
  checkCommand,
  statsCommand,
  execCommand,
  buildCommand,
  helpCommand,
];

function unknownCommand(name: string): string {
  return `unknown command ${JSON.stringify(name)}; the commands are ${COMMANDS.map((c) => c.name).join(', ')}`;
}

/** The top-level help: every command's usage line, then one line per command saying what it is for. */
export function usage(): string {
  const lines = COMMANDS.map((c, i) => `${i === 0 ? 'Usage: ' : '       '}rseq-slice ${c.synopsis}`);
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const summaries = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `${lines.join('\n')}
       rseq-slice COMMAND --help
       rseq-slice --help | --version

Commands:
${summaries.join('\n')}

Without a command, runs detect. rseq-slice help COMMAND (or COMMAND --help) gives its options
and exit status.

Exit status: 2 bad usage; otherwise the command's.`;
}

const defaultIo: CliIo = { out: (s) => console.log(s), err: (s) => console.error(s) };

/** Runs the CLI; returns the exit status (a promise for commands that take time). */
export function main(argv: string[], io: CliIo = defaultIo): number | Promise<number> {
  const [first, ...rest] = argv;
  if (first === '-h' || first === '--help') {
    io.out(usage());
    return 0;
  }
  if (first === '-v' || first === '--version') {
    io.out(packageVersion());
    return 0;
  }
  // No command, or options first: the default command (detect) with those options.
  if (first === undefined || first.startsWith('-')) return runCommand(COMMANDS[0] as Command, argv, io);
  const command = COMMANDS.find((c) => c.name === first);
  if (command === undefined) {
    const message = unknownCommand(first);
    return fail(
      io,
      wantsJson(rest),
      { command: 'rseq-slice', code: 'usage', message },
      EXIT_USAGE,
      `rseq-slice: ${message}\n\n${usage()}`,
    );
  }
  return runCommand(command, rest, io);
}

function runCommand(command: Command, argv: string[], io: CliIo): number | Promise<number> {
  // Only options before `--` are ours (rseq-slice exec -- node --help runs node's help), and for
  // some commands only those before the first operand (rseq-slice exec node --help too).
  let end = argv.includes('--') ? argv.indexOf('--') : argv.length;
  if (command.optionsEndAtOperand) {
    const operand = argv.findIndex((a) => !a.startsWith('-'));
    if (operand >= 0) end = Math.min(end, operand);
  }
  const own = argv.slice(0, end);
  if (own.includes('--help') || own.includes('-h')) {
    io.out(command.help);
    return 0;
  }
  if (!wantsJson(own)) return command.run(argv, io);
  // An exception still ends the process as ever (stack on stderr, exit 1); under --json, stdout
  // gets its error line first, so that every failure under --json has one.
  const report = (e: unknown): never => {
    io.out(errorJson(errorFromException(command.name, e, 'internal')));
    throw e;
  };
  try {
    const status = command.run(argv, io);
    return typeof status === 'number' ? status : status.catch(report);
  } catch (e) {
    return report(e);
  }
}

if (require.main === module) {
  // Through then(), so a synchronous command's throw takes the same path as a rejection.
  Promise.resolve()
    .then(() => main(process.argv.slice(2)))
    .then(
      (status) => {
        process.exitCode = status;
      },
      (e: unknown) => {
        console.error(`rseq-slice: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        process.exitCode = 1;
      },
    );
}
