#!/usr/bin/env node
/**
 * The `rseq-slice` command: dispatches to one subcommand per file in commands/.
 *   rseq-slice [COMMAND] [OPTIONS]      (no command: detect)
 */
import type { CliIo, Command } from './commands/command';
import { EXIT_USAGE } from './commands/command';
import { benchCommand } from './commands/bench';
import { buildCommand } from './commands/build';
import { checkCommand } from './commands/check';
import { detectCommand } from './commands/detect';
import { execCommand } from './commands/exec';
import { statsCommand } from './commands/stats';
import { packageVersion } from './version';

/** Every subcommand, in the order `--help` lists them; the first is the default. */
export const COMMANDS: readonly Command[] = [
  detectCommand,
  benchCommand,
  checkCommand,
  statsCommand,
  execCommand,
  buildCommand,
];

export function usage(): string {
  const lines = COMMANDS.map((c, i) => `${i === 0 ? 'Usage: ' : '       '}rseq-slice ${c.synopsis}`);
  return `${lines.join('\n')}
       rseq-slice COMMAND --help
       rseq-slice --help | --version

Without a command, runs detect. Each command's --help gives its options and exit status.

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
    io.err(
      `rseq-slice: unknown command ${JSON.stringify(first)}; the commands are ${COMMANDS.map((c) => c.name).join(', ')}\n\n${usage()}`,
    );
    return EXIT_USAGE;
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
  return command.run(argv, io);
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
