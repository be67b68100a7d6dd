/**
 * The checks and messages shared by the public API: a wrong value is a TypeError or RangeError
 * that names the option and what it accepts, never a silent default; a function that must be
 * synchronous (run(fn), withLock(fn)) is checked here too.
 */

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined)
    return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/** Checks that `options` is undefined or a plain object with only the known keys. */
export function checkOptionsObject(what: string, options: unknown, known: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${what} must be an object; got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(`${what}: unknown option ${JSON.stringify(key)}; accepted: ${known.join(', ')}`);
    }
  }
}

export function checkBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be true or false; got ${describe(value)}`);
  return value;
}

/** An integer in [min, max], or the fallback when undefined. */
export function checkInteger(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${name} must be an integer from ${min} to ${max}; got ${describe(value)}`);
  }
  if (value < min || value > max)
    throw new RangeError(`${name} must be an integer from ${min} to ${max}; got ${value}`);
  return value;
}

/** A finite number in [min, max], or the fallback when undefined. */
export function checkNumber(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${name} must be a number from ${min} to ${max}; got ${describe(value)}`);
  }
  if (!(value >= min && value <= max))
    throw new RangeError(`${name} must be a number from ${min} to ${max}; got ${value}`);
  return value;
}

/** One of the listed strings, or the fallback when undefined. */
export function checkChoice<T extends string>(name: string, value: unknown, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new TypeError(`${name} must be one of ${choices.map((c) => `'${c}'`).join(', ')}; got ${describe(value)}`);
  }
  return value as T;
}

/** Whether a value is a promise or another thenable (a critical section must not return one). */
export function isThenable(value: unknown): boolean {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** The TypeError for a `fn` that is not a function; `call` names the API (`'run(fn)'`). */
export function notAFunction(call: string, fn: unknown): TypeError {
  return new TypeError(`${call}: fn must be a function; got ${fn === null ? 'null' : typeof fn}`);
}

/** The TypeError for a `fn` that returned a promise or thenable; `why` says what it would break. */
export function returnedThenable(call: string, why: string): TypeError {
  return new TypeError(`${call}: fn returned a promise or thenable; ${why}`);
}
