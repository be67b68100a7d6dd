/** What run() and withLock() share: a bracket around a function that must be synchronous. */
import { isThenable } from './validate';

/**
 * Calls `open`, then `fn`, then `close` (in `finally`), and returns fn's value. A returned promise
 * or thenable is a TypeError, thrown after `close`: the bracket cannot stay open across an await.
 * `call` names the API in messages (`'run(fn)'`), `why` says what a thenable would break.
 */
export function runSynchronously<T>(call: string, fn: () => T, open: () => void, close: () => void, why: string): T {
  if (typeof fn !== 'function')
    throw new TypeError(`${call}: fn must be a function; got ${fn === null ? 'null' : typeof fn}`);
  open();
  let result: T;
  try {
    result = fn();
  } finally {
    close();
  }
  if (isThenable(result)) throw new TypeError(`${call}: fn returned a promise or thenable; ${why}`);
  return result;
}
