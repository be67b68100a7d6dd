import { constants } from 'node:os';
import { ENOTSUPP } from './kernel/abi';

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  // Aliases share numbers (EWOULDBLOCK/EAGAIN, EDEADLOCK/EDEADLK): keep the first, canonical one.
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}
// ELIBACC, "cannot access a needed shared library" (include/uapi/asm-generic/errno.h): open()
// reports it when the addon did not load. Not an rseq number; named so that 79 is searchable.
const ELIBACC = 79;
// Linux errnos Node does not name: the kernel's ENOTSUPP, and ELIBACC.
const EXTRA_ERRNOS: Record<string, number> = { ENOTSUPP, ELIBACC };
for (const [name, value] of Object.entries(EXTRA_ERRNOS)) errnoNames.set(value, name);

/**
 * The errno name for a positive errno number (`'E' + number` for a positive one no table names).
 * Throws RangeError for anything else: a negative number is a `-errno` return value to negate first.
 */
export function errnoName(errno: number): string {
  if (!Number.isInteger(errno) || errno <= 0) {
    throw new RangeError(
      `errnoName: errno must be a positive integer (negate a -errno return value first); got ${String(errno)}`,
    );
  }
  return errnoNames.get(errno) ?? `E${errno}`;
}

/** The errno number for a name, or undefined. */
export function errnoNumber(name: string): number | undefined {
  return EXTRA_ERRNOS[name] ?? (constants.errno as Record<string, number>)[name];
}

/** The errno number for a name Node or this module knows; throws for any other (a caller's bug). */
export function knownErrno(name: string): number {
  const errno = errnoNumber(name);
  if (errno === undefined) throw new Error(`rseq-slice: no errno is named ${name}`);
  return errno;
}

/** An error the kernel (or the simulated kernel) answered, carrying its errno name. */
export class RseqError extends Error {
  /** The errno name, e.g. `'EINVAL'`, `'ENOTSUPP'`, `'ENXIO'`, `'ENOSYS'`. */
  readonly code: string;
  /** The errno number (ENOTSUPP is the kernel's 524). */
  readonly errno: number;
  /** The call that failed, e.g. `'prctl(PR_RSEQ_SLICE_EXTENSION_SET)'`, `'rseq'`. */
  readonly syscall: string;
  /** What to do about it, where known (the same remedy detect() gives); also in the message. */
  readonly remedy: string | undefined;

  /** `detail` says why (in the message, in parentheses), `remedy` what to do about it. */
  constructor(syscall: string, errno: number, detail?: string, remedy?: string) {
    const code = errnoName(errno);
    const why = [detail, remedy === undefined ? undefined : `remedy: ${remedy}`].filter((s) => s).join('; ');
    super(`${syscall} failed: ${code}${why ? ` (${why})` : ''}`);
    this.name = 'RseqError';
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
    this.remedy = remedy;
  }
}
