/**
 * SliceMutex: a mutex over a SharedArrayBuffer for worker_threads that holds a slice-extension
 * request for as long as the lock is held, so the holder is not preempted in its critical
 * section. Uncontended lock/unlock is one compare-exchange each; contention spins briefly, then
 * sleeps in Atomics.wait (futex) and is woken by Atomics.notify.
 */
import { threadId } from 'node:worker_threads';
import type { SliceExtension } from './extension';
import { open } from './open';
import { checkInteger, checkOptionsObject, isThenable } from './validate';

// Lock word states (Drepper, "Futexes Are Tricky", mutex 2).
const UNLOCKED = 0;
const LOCKED = 1;
const CONTENDED = 2;
const STATE = 0;
const OWNER = 1;

/** Bytes of SharedArrayBuffer one SliceMutex needs. */
export const SLICE_MUTEX_BYTES = 8;

export interface SliceMutexOptions {
  /** This thread's handle; default: one `open()` per thread, shared by its mutexes. `null`: no extension requests. */
  slice?: SliceExtension | null;
  /** Compare-exchange attempts before sleeping (default 100). */
  spin?: number;
}

let threadSlice: SliceExtension | undefined;

function defaultSlice(): SliceExtension {
  if (threadSlice === undefined) threadSlice = open();
  return threadSlice;
}

export class SliceMutex {
  readonly #word: Int32Array;
  readonly #slice: SliceExtension | null;
  readonly #spin: number;
  // threadId + 1 of the holder, so that 0 means "nobody".
  readonly #me = threadId + 1;

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
      throw new RangeError(`SliceMutex needs ${SLICE_MUTEX_BYTES} bytes at byteOffset ${byteOffset}; the buffer has ${buffer.byteLength}`);
    }
    checkOptionsObject('SliceMutex options', options, ['slice', 'spin']);
    this.#word = new Int32Array(buffer, byteOffset, 2);
    this.#spin = checkInteger('spin', options.spin, 100, 0, 1e6);
    this.#slice = options.slice === undefined ? defaultSlice() : options.slice;
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
    return Atomics.load(this.#word, OWNER) === this.#me;
  }

  /** Takes the lock if it is free; returns whether it did. Never blocks. */
  tryLock(): boolean {
    if (Atomics.compareExchange(this.#word, STATE, UNLOCKED, LOCKED) !== UNLOCKED) {
      if (Atomics.load(this.#word, OWNER) === this.#me) throw new Error('SliceMutex: tryLock() by the thread that holds it (not recursive)');
      return false;
    }
    this.#acquired();
    return true;
  }

  /** Takes the lock, waiting (spinning, then sleeping) while another thread holds it. Not recursive. */
  lock(): void {
    const w = this.#word;
    let c = Atomics.compareExchange(w, STATE, UNLOCKED, LOCKED);
    if (c !== UNLOCKED) {
      if (Atomics.load(w, OWNER) === this.#me) throw new Error('SliceMutex: lock() by the thread that holds it would deadlock (not recursive)');
      for (let i = 0; i < this.#spin && c !== UNLOCKED; i++) c = Atomics.compareExchange(w, STATE, UNLOCKED, LOCKED);
      if (c !== UNLOCKED) {
        // Mark contended, sleep until woken, and take it as contended (others may still wait).
        if (c !== CONTENDED) c = Atomics.exchange(w, STATE, CONTENDED);
        while (c !== UNLOCKED) {
          Atomics.wait(w, STATE, CONTENDED);
          c = Atomics.exchange(w, STATE, CONTENDED);
        }
      }
    }
    this.#acquired();
  }

  /** Releases the lock (only its holder may), then ends the section, yielding if extended. */
  unlock(): void {
    const w = this.#word;
    const owner = Atomics.load(w, OWNER);
    if (owner !== this.#me) {
      throw new Error(owner === 0 ? 'SliceMutex: unlock() of an unlocked mutex' : 'SliceMutex: unlock() by a thread that does not hold the lock');
    }
    Atomics.store(w, OWNER, 0);
    if (Atomics.exchange(w, STATE, UNLOCKED) === CONTENDED) Atomics.notify(w, STATE, 1);
    // After the release: a granted extension is given back with the lock already free.
    this.#slice?.exit();
  }

  /** Runs `fn` with the lock held and returns its value; `fn` must be synchronous. */
  withLock<T>(fn: () => T): T {
    if (typeof fn !== 'function') throw new TypeError(`withLock(fn): fn must be a function; got ${fn === null ? 'null' : typeof fn}`);
    this.lock();
    let result: T;
    try {
      result = fn();
    } finally {
      this.unlock();
    }
    if (isThenable(result)) {
      throw new TypeError('withLock(fn): fn returned a promise or thenable; the lock is held only while fn runs synchronously');
    }
    return result;
  }

  #acquired(): void {
    Atomics.store(this.#word, OWNER, this.#me);
    this.#slice?.enter();
  }
}
