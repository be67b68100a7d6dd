/** A bracket around a function that must be synchronous (withLock), and the messages run(fn) shares. */
import { isThenable } from './validate';

/**
 * Calls `open`, then `fn`, then `close` (in `finally`), and returns fn's value. A returned promise
 * or thenable is a TypeError, thrown after `close`: the bracket cannot stay open across an await.
 * `call` names the API in messages (`'run(fn)'`), `why` says what a thenable would break.
 */
export function runSynchronously<T>(call: string, fn: () => T, open: () => void, close: () => void, why: string): T {
  if (typeof fn !== 'function') throw notAFunction(call, fn);
  open();
  let result: T;
  try {
    result = fn();
  } finally {
    close();
  }
  if (isThenable(result)) throw returnedThenable(call, why);
  return result;
}

/** The TypeError for a `fn` that is not a function; `call` names the API (`'run(fn)'`). */
export function notAFunction(call: string, fn: unknown): TypeError {
  return new TypeError(`${call}: fn must be a function; got ${fn === null ? 'null' : typeof fn}`);
}

/** The TypeError for a `fn` that returned a promise or thenable; `why` says what it would break. */
export function returnedThenable(call: string, why: string): TypeError {
  return new TypeError(`${call}: fn returned a promise or thenable; ${why}`);
}
