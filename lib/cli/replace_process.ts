/**
 * Replacing this process with another program (execve), for `rseq-slice exec`: Node's own
 * process.execve where it exists (Node 22.15 / 23.11 and later), else the addon's execvp. When
 * neither is at hand the caller runs the program as a child instead (runChild).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { constants } from 'node:os';
import * as path from 'node:path';
import { addonState } from '../addon/addon';
import { errnoName, errnoNumber } from '../errors';

type ProcessWithExecve = NodeJS.Process & { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never };

/** Where execvp would look when PATH is unset (glibc's default). */
const DEFAULT_PATH = '/bin:/usr/bin';

/**
 * The file execvp would run for `command`: as given when it holds a slash, else the first
 * executable regular file in PATH. `{ errno }`: ENOENT when none exists, EACCES when only
 * non-executable ones do.
 */
export function searchPath(command: string, pathVar: string | undefined): { file: string } | { errno: string } {
  if (command.includes('/')) return { file: command };
  let sawDenied = false;
  for (const dir of (pathVar ?? DEFAULT_PATH).split(':')) {
    const file = path.join(dir === '' ? '.' : dir, command); // an empty entry is the cwd
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      continue;
    }
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (stat.isFile()) return { file };
    } catch {
      // not executable by us
    }
    sawDenied = true;
  }
  return { errno: sawDenied ? 'EACCES' : 'ENOENT' };
}

/** The errno name of a failed file operation (EACCES for anything without one). */
function errnoOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' && errnoNumber(code) !== undefined ? code : 'EACCES';
}

/** The first bytes of an ELF executable. */
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/**
 * What execve would answer for `file` before it loads anything, checked from here because
 * process.execve cannot be trusted with a failure: Node 22 and 24 abort the whole process when
 * execve fails, and Node 26 prints an ExperimentalWarning before it throws. `{ errno }` for the
 * kernel's refusals (ENOENT, ENOTDIR, EACCES for a non-regular or non-executable file or
 * interpreter); `{ shell: true }` for an executable with neither an ELF header nor a `#!` line
 * naming an interpreter, which execve refuses with ENOEXEC and execvp then runs with /bin/sh;
 * `{}` when it would run.
 */
export function execCheck(file: string): { errno: string } | { shell: true } | Record<string, never> {
  try {
    if (!fs.statSync(file).isFile()) return { errno: 'EACCES' };
    fs.accessSync(file, fs.constants.X_OK);
  } catch (err) {
    return { errno: errnoOf(err) };
  }
  let header = Buffer.alloc(256);
  try {
    const fd = fs.openSync(file, 'r');
    try {
      header = header.subarray(0, fs.readSync(fd, header, 0, header.length, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return {}; // execute-only (mode --x): execve can run what we cannot read
  }
  if (header.subarray(0, 4).equals(ELF_MAGIC)) return {};
  if (header.subarray(0, 2).toString('latin1') !== '#!') return { shell: true };
  // The interpreter: the first word of the #! line, which the kernel runs in turn.
  const interpreter =
    header
      .subarray(2)
      .toString('latin1')
      .split('\n')[0]
      ?.trim()
      .split(/[ \t]+/)[0] ?? '';
  if (interpreter === '') return { shell: true }; // execve: ENOEXEC, so execvp runs it with /bin/sh
  try {
    if (!fs.statSync(interpreter).isFile()) return { errno: 'EACCES' };
    fs.accessSync(interpreter, fs.constants.X_OK);
  } catch (err) {
    return { errno: errnoOf(err) };
  }
  return {};
}

function envStrings(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
}

/**
 * Replaces this process with `command args…` under `env`. Returns only when it could not: the
 * errno name of the failure, or null when this runtime has no way to exec (no process.execve and
 * no addon), in which case nothing was tried.
 */
export function replaceProcess(command: string, args: readonly string[], env: NodeJS.ProcessEnv): string | null {
  // The addon first: it resets what Node leaves set across execve (ignored SIGPIPE, close-on-exec
  // and non-blocking stdio) and returns the errno of a failed exec, while process.execve keeps
  // that state and, in the Node releases that introduced it, aborts the process when execve fails.
  const { addon } = addonState();
  if (addon && typeof addon.execvp === 'function') {
    const rc = addon.execvp(command, [command, ...args], envStrings(env));
    return errnoName(-rc);
  }
  const execve = (process as ProcessWithExecve).execve;
  if (typeof execve === 'function') {
    const found = searchPath(command, env.PATH);
    if ('errno' in found) return found.errno;
    const check = execCheck(found.file);
    if ('errno' in check) return check.errno;
    // execvp's answer to ENOEXEC: the file is a shell script without a #! line.
    const [file, argv] =
      'shell' in check ? ['/bin/sh', ['/bin/sh', found.file, ...args]] : [found.file, [command, ...args]];
    try {
      execve.call(process, file, argv, env);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (typeof code === 'string' && errnoNumber(code) !== undefined) return code;
      throw err;
    }
  }
  return null;
}

/** Signals a terminal or a supervisor sends that the child must get as well. */
const FORWARDED: readonly NodeJS.Signals[] = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGWINCH',
];

/**
 * The fallback: runs `command args…` as a child with inherited stdio, forwards the signals above
 * to it, and ends the way it ended: its exit status, or the same signal raised on this process
 * (128 + signal number when that does not end this process). Resolves to that status; rejects
 * with the spawn error (its errno code) when the command cannot run.
 */
export function runChild(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    // The handlers go in before the child exists: a signal that arrives while spawn() runs (the
    // child may already be running) is then forwarded, not taken with its default action here.
    let child: ChildProcess | undefined;
    const early: NodeJS.Signals[] = [];
    const forward = (sig: NodeJS.Signals): void => {
      if (child === undefined) early.push(sig);
      else child.kill(sig);
    };
    for (const sig of FORWARDED) process.on(sig, forward);
    try {
      child = spawn(command, args, { stdio: 'inherit', env });
    } catch (err) {
      for (const sig of FORWARDED) process.off(sig, forward);
      throw err;
    }
    for (const sig of early) child.kill(sig);
    const stopForwarding = (): void => {
      for (const sig of FORWARDED) process.off(sig, forward);
    };
    child.once('error', (err) => {
      stopForwarding();
      reject(err);
    });
    child.once('exit', (code, signal) => {
      stopForwarding();
      if (signal !== null) {
        process.kill(process.pid, signal); // ends this process unless the signal is ignored here
        resolve(128 + constants.signals[signal]);
        return;
      }
      resolve(code ?? 1);
    });
  });
}
