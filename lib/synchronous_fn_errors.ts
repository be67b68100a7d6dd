/** The messages of the APIs that run a function that must be synchronous: run(fn) and withLock(fn). */

/** The TypeError for a `fn` that is not a function; `call` names the API (`'run(fn)'`). */
export function notAFunction(call: string, fn: unknown): TypeError {
  return new TypeError(`${call}: fn must be a function; got ${fn === null ? 'null' : typeof fn}`);
}

/** The TypeError for a `fn` that returned a promise or thenable; `why` says what it would break. */
export function returnedThenable(call: string, why: string): TypeError {
  return new TypeError(`${call}: fn returned a promise or thenable; ${why}`);
}
