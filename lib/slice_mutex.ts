/**
 * SliceMutex: a mutex over a SharedArrayBuffer for worker_threads that holds a slice-extension
 * request for as long as the lock is held, so the holder is not preempted in its critical
 * section. Uncontended lock/unlock is one compare-exchange each; contention spins on loads
 * briefly, then sleeps in Atomics.wait and is woken by Atomics.notify. A holder whose thread ends
 * does not strand the others: the next locker takes the lock and is told (OwnerDiedError).
 */
// SharedArrayBuffer is in the public types: consumers compiling with an ES5 lib (TypeScript 5.x
// defaults, no @types/node) get it from here; `preserve` keeps the directive in the .d.ts.
/// <reference lib="es2017.sharedmemory" preserve="true" />
import { threadId } from 'node:worker_threads';
import { SliceExtension } from './extension';
import { MutexNotRecoverableError, OwnerDiedError } from './mutex_errors';
import { open } from './open';
import { threadEnded, watchThisThread } from './thread_liveness';
import { checkInteger, checkOptionsObject, isThenable, notAFunction, returnedThenable } from './validate';

// One lock word (after Drepper, "Futexes Are Tricky", mutex 2, with the owner in the word so that
// unlock() checks ownership and a waiter can tell whose end to look for):
//   bit 0 LOCKED, bit 1 CONTENDED (others may sleep on it), bit 2 INCONSISTENT (the holder took
//   it from a dead owner and has not called markConsistent()), bits 3-31 the holder's threadId + 1.
// FREE is 0; NOT_RECOVERABLE (INCONSISTENT alone, no holder) is final.
const FREE = 0;
const LOCKED = 1;
const CONTENDED = 2;
const INCONSISTENT = 4;
const NOT_RECOVERABLE = INCONSISTENT;
const OWNER_SHIFT = 3;
const HOLDER = ~(CONTENDED | INCONSISTENT); // the owner field and LOCKED
const STATE = 0;
/** The highest threadId whose (threadId + 1) << 3 fits the 32-bit word. */
const MAX_THREAD_ID = 2 ** (32 - OWNER_SHIFT) - 2;

/**
 * How long a sleeping waiter sleeps before it looks again whether the holder's thread ended: the
 * bound on noticing a dead holder (a live holder's unlock wakes it at once).
 */
export const OWNER_CHECK_MS = 10;

/** Bytes of SharedArrayBuffer one SliceMutex needs. */
export const SLICE_MUTEX_BYTES = 4;

export interface SliceMutexOptions {
  /**
   * This thread's handle. Default: one `open()` per thread, shared by its mutexes; where that
   * handle is the fallback (the kernel cannot grant), no requests are made, since none could be
   * granted. `null`: no extension requests.
   */
  slice?: SliceExtension | null;
  /** Attempts while spinning before sleeping (default 100). */
  spin?: number;
}

/** Called by `withLock()` with the lock held when the previous holder died; return to go on. */
export type OwnerDiedHandler = (error: OwnerDiedError) => void;

let threadSlice: SliceExtension | null | undefined;

/** @internal The handle a SliceMutex built without `slice` uses on this thread (null: no requests). */
export function defaultSlice(): SliceExtension | null {
  if (threadSlice === undefined) {
    const handle = open();
    // The fallback simulator never interrupts this handle: its requests could only ever end
    // clean, so the mutex skips them and costs what `slice: null` costs.
    threadSlice = handle.fallbackReason === undefined ? handle : null;
  }
  return threadSlice;
}

// A lock taken by a locker whose section could not start goes back as it was taken: FREE, or the
// dead holder's word, so that the next locker is told of the death; waiters are woken to look.
function giveBack(word: Int32Array, died: number): void {
  if ((Atomics.exchange(word, STATE, died === FREE ? FREE : died | CONTENDED) & CONTENDED) !== 0)
    Atomics.notify(word, STATE);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object')
    return `an object (${Object.getPrototypeOf(value)?.constructor?.name ?? 'no prototype'})`;
  return typeof value;
}

export class SliceMutex {
  readonly #word: Int32Array;
  readonly #slice: SliceExtension | null;
  readonly #spin: number;
  // This thread's locked word: (threadId + 1) << 3 | LOCKED, so that no holder encodes as FREE.
  readonly #mine: number;
  // Whether dead holders can be seen (the addon records thread ends); false: waiters just sleep.
  readonly #watching: boolean;
  readonly #wake = (): void => {
    Atomics.notify(this.#word, STATE, 1);
  };
  readonly #wakeAll = (): void => {
    Atomics.notify(this.#word, STATE);
  };

  /**
   * A mutex over `buffer` (a SharedArrayBuffer of at least SLICE_MUTEX_BYTES bytes, zeroed for an
   * unlocked mutex, at `byteOffset`, a multiple of 4). Construct one in every thread that uses it,
   * over the same buffer.
   */
  constructor(buffer: SharedArrayBuffer, byteOffset = 0, options: SliceMutexOptions = {}) {
    if (!(buffer instanceof SharedArrayBuffer)) {
      throw new TypeError('SliceMutex: buffer must be a SharedArrayBuffer (share it with the workers that lock it)');
    }
    checkInteger('byteOffset', byteOffset, 0, 0, Math.max(0, buffer.byteLength - SLICE_MUTEX_BYTES));
    if (byteOffset % 4 !== 0) throw new RangeError(`byteOffset must be a multiple of 4; got ${byteOffset}`);
    if (buffer.byteLength - byteOffset < SLICE_MUTEX_BYTES) {
      throw new RangeError(
        `SliceMutex needs ${SLICE_MUTEX_BYTES} bytes at byteOffset ${byteOffset}; the buffer has ${buffer.byteLength}`,
      );
    }
    checkOptionsObject('SliceMutex options', options, ['slice', 'spin']);
    const slice = options.slice;
    if (slice !== undefined && slice !== null && !(slice instanceof SliceExtension)) {
      throw new TypeError(
        `SliceMutex options.slice must be a handle from open(), null (no requests) or undefined (this thread's default handle); got ${describe(slice)}`,
      );
    }
    if (threadId > MAX_THREAD_ID) {
      throw new RangeError(`SliceMutex: threadId ${threadId} is above ${MAX_THREAD_ID}, the most its lock word holds`);
    }
    this.#word = new Int32Array(buffer, byteOffset, 1);
    this.#spin = checkInteger('spin', options.spin, 100, 0, 1e6);
    this.#mine = ((threadId + 1) << OWNER_SHIFT) | LOCKED;
    this.#watching = watchThisThread();
    this.#slice = slice === undefined ? defaultSlice() : slice;
  }

  /** A new, unlocked mutex with its own buffer (`mutex.buffer` to share it). */
  static create(options?: SliceMutexOptions): SliceMutex {
    return new SliceMutex(new SharedArrayBuffer(SLICE_MUTEX_BYTES), 0, options);
  }

  /** The SharedArrayBuffer to post to workers. */
  get buffer(): SharedArrayBuffer {
    return this.#word.buffer as SharedArrayBuffer;
  }

  /** Whether this thread holds the lock. */
  get held(): boolean {
    return (Atomics.load(this.#word, STATE) & HOLDER) === this.#mine;
  }

  /**
   * Takes the lock if it is free (or its holder's thread has ended); returns whether it did.
   * Never blocks. Throws OwnerDiedError with the lock held when the previous holder died, and
   * MutexNotRecoverableError when the mutex is not recoverable.
   */
  tryLock(): boolean {
    const c = Atomics.compareExchange(this.#word, STATE, FREE, this.#mine);
    if (c !== FREE) return this.#tryLockHeld(c);
    this.#enterTaken();
    return true;
  }

  /**
   * Takes the lock, waiting (spinning, then sleeping) while another thread holds it. Not
   * recursive. When the holder's thread ends, a waiter takes the lock within OWNER_CHECK_MS (plus
   * scheduling) and throws OwnerDiedError with the lock held; MutexNotRecoverableError when the
   * mutex is not recoverable. Any other error leaves the lock as it was.
   */
  lock(): void {
    const c = Atomics.compareExchange(this.#word, STATE, FREE, this.#mine);
    if (c !== FREE) this.#lockHeld(c);
    else this.#enterTaken();
  }

  // The uncontended take's section. No call between the take and the try: nothing can throw
  // (not even a stack overflow) with the lock taken and the section not started.
  #enterTaken(): void {
    const slice = this.#slice;
    if (slice === null) return;
    try {
      slice.enter();
    } catch (err) {
      if ((Atomics.exchange(this.#word, STATE, FREE) & CONTENDED) !== 0) Atomics.notify(this.#word, STATE);
      throw err;
    }
  }

  #lockHeld(seen: number): void {
    let died = FREE;
    let taken = false;
    try {
      died = this.#lockSlow(seen);
      taken = true;
      const slice = this.#slice;
      if (slice !== null) slice.enter();
    } catch (err) {
      if (taken) giveBack(this.#word, died);
      throw err;
    }
    if (died !== FREE) throw new OwnerDiedError((died >>> OWNER_SHIFT) - 1);
  }

  #tryLockHeld(seen: number): boolean {
    const w = this.#word;
    let died = FREE;
    let taken = false;
    try {
      let c = seen;
      while (c !== FREE) {
        if ((c & HOLDER) === this.#mine)
          throw new Error('SliceMutex: tryLock() by the thread that holds it (not recursive)');
        if (c === NOT_RECOVERABLE) throw new MutexNotRecoverableError();
        if (!this.#holderEnded(c)) return false;
        const was = Atomics.compareExchange(w, STATE, c, this.#mine | INCONSISTENT | (c & CONTENDED));
        if (was === c) {
          died = c;
          break;
        }
        c = was === FREE ? Atomics.compareExchange(w, STATE, FREE, this.#mine) : was;
      }
      taken = true;
      const slice = this.#slice;
      if (slice !== null) slice.enter();
    } catch (err) {
      if (taken) giveBack(w, died);
      throw err;
    }
    if (died !== FREE) throw new OwnerDiedError((died >>> OWNER_SHIFT) - 1);
    return true;
  }

  // Takes the lock; returns the word of a dead holder it was taken from, else FREE.
  #lockSlow(seen: number): number {
    const w = this.#word;
    const mine = this.#mine;
    let c = seen;
    if ((c & HOLDER) === mine)
      throw new Error('SliceMutex: lock() by the thread that holds it would deadlock (not recursive)');
    for (let i = 0; i < this.#spin; i++) {
      if (c === FREE) {
        c = Atomics.compareExchange(w, STATE, FREE, mine);
        if (c === FREE) return FREE;
      } else {
        c = Atomics.load(w, STATE);
      }
    }
    // Mark contended and sleep until the word is free; take it as contended (others may wait).
    // Sleeps are bounded so that a holder whose thread ended is noticed: checked before the first
    // sleep (a locker arriving after the death) and after every sleep that did not find the word
    // already changed.
    const contended = mine | CONTENDED;
    let check = true;
    for (;;) {
      if (c === FREE) {
        c = Atomics.compareExchange(w, STATE, FREE, contended);
        if (c === FREE) return FREE;
        continue;
      }
      if (c === NOT_RECOVERABLE) throw new MutexNotRecoverableError();
      if (check && this.#holderEnded(c)) {
        const taken = Atomics.compareExchange(w, STATE, c, contended | INCONSISTENT);
        if (taken === c) return c;
        c = taken;
        continue;
      }
      if ((c & CONTENDED) === 0) {
        const marked = Atomics.compareExchange(w, STATE, c, c | CONTENDED);
        if (marked !== c) {
          c = marked;
          continue;
        }
        c |= CONTENDED;
      }
      // Woken (or timed out) on an unchanged word: look again, since a locker that could not start
      // its section gives a dead holder's word back and wakes everyone.
      check = Atomics.wait(w, STATE, c, OWNER_CHECK_MS) !== 'not-equal';
      c = Atomics.load(w, STATE);
    }
  }

  // Whether the word's holder is a thread known to have ended (never, where ends are not seen).
  #holderEnded(c: number): boolean {
    const owner = c >>> OWNER_SHIFT;
    if (!this.#watching || (c & LOCKED) === 0 || owner === 0) return false;
    return threadEnded(owner - 1);
  }

  /**
   * After OwnerDiedError: says the protected data is repaired, so the mutex goes on as usual.
   * Only the holder may call it; idempotent.
   */
  markConsistent(): void {
    const w = this.#word;
    for (;;) {
      const c = Atomics.load(w, STATE);
      if ((c & HOLDER) !== this.#mine)
        throw new Error('SliceMutex: markConsistent() by a thread that does not hold the lock');
      if ((c & INCONSISTENT) === 0 || Atomics.compareExchange(w, STATE, c, c & ~INCONSISTENT) === c) return;
    }
  }

  /** Releases the lock (only its holder may), then ends the section, yielding if extended. */
  unlock(): void {
    const mine = this.#mine;
    // Uncontended and consistent: one compare-exchange. Anything else (waiters announced, an
    // unrepaired lock, misuse) takes the slow path.
    if (Atomics.compareExchange(this.#word, STATE, mine, FREE) !== mine) {
      this.#unlockSlow();
      return;
    }
    // The section ends after the release, so a granted extension is given back with the lock free.
    const slice = this.#slice;
    if (slice !== null) slice.exit();
  }

  #unlockSlow(): void {
    const w = this.#word;
    const c = Atomics.load(w, STATE);
    if ((c & HOLDER) !== this.#mine) {
      throw new Error(
        c === FREE || c === NOT_RECOVERABLE
          ? 'SliceMutex: unlock() of an unlocked mutex'
          : 'SliceMutex: unlock() by a thread that does not hold the lock',
      );
    }
    const slice = this.#slice;
    if ((c & INCONSISTENT) !== 0) {
      // Taken from a dead owner and never marked consistent: the mutex becomes not recoverable,
      // and every waiter is woken to learn it.
      Atomics.store(w, STATE, NOT_RECOVERABLE);
      if (slice !== null) slice.exitAround(this.#wakeAll);
      else this.#wakeAll();
      return;
    }
    // Contended: waiters only ever add CONTENDED, already set, so the word is ours to clear. A
    // waiter is woken with `request` already clear (see SliceExtension.exitAround).
    Atomics.store(w, STATE, FREE);
    if (slice !== null) slice.exitAround(this.#wake);
    else this.#wake();
  }

  /**
   * Runs `fn` with the lock held and returns its value; `fn` must be synchronous. The lock is
   * released when `fn` throws. When the previous holder died, `onOwnerDied` runs first with the
   * lock held (repair the data there); if it returns, the mutex is marked consistent and `fn`
   * runs. Without `onOwnerDied`, or when it throws, the lock is released unrepaired (the mutex
   * becomes not recoverable) and the error propagates.
   */
  withLock<T>(fn: () => T, onOwnerDied?: OwnerDiedHandler): T {
    if (typeof fn !== 'function') throw notAFunction('withLock(fn)', fn);
    if (onOwnerDied !== undefined && typeof onOwnerDied !== 'function')
      throw new TypeError(`withLock(fn, onOwnerDied): onOwnerDied must be a function; got ${describe(onOwnerDied)}`);
    try {
      this.lock();
    } catch (err) {
      if (!(err instanceof OwnerDiedError)) throw err;
      this.#recover(err, onOwnerDied);
    }
    let result: T;
    try {
      result = fn();
    } finally {
      this.unlock();
    }
    if (isThenable(result)) throw returnedThenable('withLock(fn)', 'the lock is held only while fn runs synchronously');
    return result;
  }

  #recover(err: OwnerDiedError, onOwnerDied: OwnerDiedHandler | undefined): void {
    if (onOwnerDied === undefined) {
      this.unlock();
      throw err;
    }
    try {
      onOwnerDied(err);
    } catch (repairFailed) {
      this.unlock();
      throw repairFailed;
    }
    this.markConsistent();
  }
}
