/** What every `rseq-slice` subcommand provides to the dispatcher in lib/cli/main.ts. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { RseqError } from '../../errors';

/** The options parseArgs takes: name → { type, multiple?, short?, default? }. */
type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

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

/** The values of a command's options, as parseArgs gives them for `options`. */
export type CommandOptions<O extends OptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; strict: true; options: O }>
>['values'];

/**
 * A command's options from its arguments (parseArgs, strict: an unknown option or an operand is
 * bad usage). On bad usage it prints the message and the command's help on stderr (and, for a
 * command with a --json option asked for JSON, the JSON error on stdout) and returns null, and the
 * caller exits EXIT_USAGE.
 */
export function parseOptions<O extends OptionsConfig>(
  command: Pick<Command, 'name' | 'help'>,
  argv: string[],
  options: O,
  io: CliIo,
): CommandOptions<O> | null {
  try {
    return parseArgs({ args: argv, strict: true, options }).values;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const json = 'json' in options && wantsJson(argv);
    fail(
      io,
      json,
      { command: command.name, code: 'usage', message },
      EXIT_USAGE,
      `rseq-slice ${command.name}: ${message}\n\n${command.help}`,
    );
    return null;
  }
}

/**
 * What a command that takes --json prints on stdout when it fails under --json (exit status
 * unchanged, the human message still on stderr): `{"error": CliError}` on one line (one line, so
 * that `stats --watch --json`'s one-object-per-line output stays parseable line by line), or, when
 * the command still has its result (detect --require, check that diverges, bench whose report
 * could not be written), that result with an `error` member. So under --json, a non-zero exit
 * status always comes with an `error` member on stdout.
 */
export interface CliError {
  /** The command that failed; `rseq-slice` when the command word itself was unknown. */
  command: string;
  /**
   * The errno name where the failure has one (`ENOENT`, `EACCES`, `EINVAL`, `ENOTSUPP`, `ELIBACC`
   * for an addon that did not load, as open() says); otherwise `usage` (bad usage, exit 2),
   * `unavailable` (the check cannot run here), `diverges` (check), `malformed` (an unparseable
   * stats file), `failed` or `internal` (an unexpected exception).
   */
  code: string;
  /** What went wrong, as the human message on stderr says it. */
  message: string;
  /** What to do about it, where known. */
  remedy?: string;
}

/** The help text's paragraph on --json failures, shared by the commands that take --json. */
export const JSON_ERROR_HELP = `With --json, a failure also prints {"error": {"command", "code", "message", "remedy"?}} on
stdout (one line; code an errno name such as ENOENT, EACCES or EINVAL where the failure has one,
else usage, unavailable, diverges, malformed or failed); the exit status is the same.`;

/** The one-line `{"error": …}` object of a failure under --json. */
export function errorJson(error: CliError): string {
  return JSON.stringify({ error });
}

/** `--json` (or `--json=…`, itself bad usage) is among the options, i.e. before any `--`. */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.includes('--') ? argv.indexOf('--') : argv.length;
  return argv.slice(0, end).some((a) => a === '--json' || a.startsWith('--json='));
}

const ERRNO_NAME = /^E[A-Z0-9]+$/;

/**
 * A CliError for an exception: an RseqError's errno name and remedy, a Node system error's errno
 * name, else `fallback`.
 */
export function errorFromException(command: string, e: unknown, fallback: string): CliError {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof RseqError)
    return { command, code: e.code, message, ...(e.remedy === undefined ? {} : { remedy: e.remedy }) };
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return { command, code: typeof code === 'string' && ERRNO_NAME.test(code) ? code : fallback, message };
}

/**
 * Reports a failure and returns `status`: `human` (default `rseq-slice COMMAND: message`) on
 * stderr, and under --json the error line on stdout.
 */
export function fail(
  io: CliIo,
  json: boolean,
  error: CliError,
  status: number,
  human = `rseq-slice ${error.command}: ${error.message}`,
): number {
  io.err(human);
  if (json) io.out(errorJson(error));
  return status;
}

/** A bad-usage failure (exit 2), with the JSON error under --json. */
export function usageError(io: CliIo, command: string, argv: readonly string[], message: string): number {
  return fail(io, wantsJson(argv), { command, code: 'usage', message }, EXIT_USAGE);
}
