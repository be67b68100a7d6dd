/** What every `rseq-slice` subcommand provides to the dispatcher in cli.ts. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Where a command writes: stdout and stderr lines (tests pass collectors). */
export interface CliIo {
  out(s: string): void;
  err(s: string): void;
}

export interface Command {
  /** The word after `rseq-slice`. */
  readonly name: string;
  /** One line for the top-level `--help` list: what the command is for. */
  readonly summary: string;
  /** One usage line, without the leading `rseq-slice`, e.g. `detect [--json] [--require]`. */
  readonly synopsis: string;
  /** The command's whole help text (options, exit status). */
  readonly help: string;
  /** Its own options end at the first operand (exec: the rest belongs to the command it runs). */
  readonly optionsEndAtOperand?: boolean;
  /** Runs with the arguments after the command name; resolves to the exit status. */
  run(argv: string[], io: CliIo): number | Promise<number>;
}

/** Exit status for bad usage, shared by every command. */
export const EXIT_USAGE = 2;

/**
 * parseArgs for a command (pass `strict: true` in `config`): on bad usage it prints the message
 * and the command's help on stderr and returns null, and the caller exits EXIT_USAGE.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(
  command: Pick<Command, 'name' | 'help'>,
  config: T,
  io: CliIo,
): ReturnType<typeof parseArgs<T>> | null {
  try {
    return parseArgs(config);
  } catch (e) {
    io.err(`rseq-slice ${command.name}: ${e instanceof Error ? e.message : String(e)}\n\n${command.help}`);
    return null;
  }
}
