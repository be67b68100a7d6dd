/**
 * SliceMutex: a mutex over a SharedArrayBuffer for worker_threads that holds a slice-extension
 * request for as long as the lock is held, so the holder is not preempted in its critical
 * section. Uncontended lock/unlock is one compare-exchange each; contention spins briefly, then
 * sleeps in Atomics.wait (futex) and is woken by Atomics.notify.
 */
import { threadId } from 'node:worker_threads';
import type { SliceExtension } from './extension';
import { open } from './open';
import { runSynchronously } from './run_synchronously';
import { checkInteger, checkOptionsObject } from './validate';

// One lock word: 0 when free, else (owner << 2) | LOCKED, with CONTENDED set while others may
// sleep on it (after Drepper, "Futexes Are Tricky", mutex 2). Keeping the owner in the same word
// lets unlock() check ownership without an extra atomic store on either path.
const FREE = 0;
const LOCKED = 1;
const CONTENDED = 2;
const STATE = 0;

/** Bytes of SharedArrayBuffer one SliceMutex needs. */
export const SLICE_MUTEX_BYTES = 4;

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
  // This thread's locked word: (threadId + 1) << 2 | LOCKED, so that no holder encodes as FREE.
  readonly #mine = ((threadId + 1) << 2) | LOCKED;
  readonly #lock = (): void => this.lock();
  readonly #unlock = (): void => this.unlock();

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
    this.#word = new Int32Array(buffer, byteOffset, 1);
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
    return (Atomics.load(this.#word, STATE) & ~CONTENDED) === this.#mine;
  }

  /** Takes the lock if it is free; returns whether it did. Never blocks. */
  tryLock(): boolean {
    const c = Atomics.compareExchange(this.#word, STATE, FREE, this.#mine);
    if (c !== FREE) {
      if ((c & ~CONTENDED) === this.#mine)
        throw new Error('SliceMutex: tryLock() by the thread that holds it (not recursive)');
      return false;
    }
    this.#slice?.enter();
    return true;
  }

  /** Takes the lock, waiting (spinning, then sleeping) while another thread holds it. Not recursive. */
  lock(): void {
    const w = this.#word;
    let c = Atomics.compareExchange(w, STATE, FREE, this.#mine);
    if (c !== FREE) {
      if ((c & ~CONTENDED) === this.#mine)
        throw new Error('SliceMutex: lock() by the thread that holds it would deadlock (not recursive)');
      this.#lockSlow(c);
    }
    this.#slice?.enter();
  }

  #lockSlow(seen: number): void {
    const w = this.#word;
    let c = seen;
    for (let i = 0; i < this.#spin && c !== FREE; i++) c = Atomics.compareExchange(w, STATE, FREE, this.#mine);
    if (c === FREE) return;
    // Mark contended and sleep until the word is free; take it as contended (others may wait).
    const contended = this.#mine | CONTENDED;
    for (;;) {
      c = Atomics.load(w, STATE);
      if (c === FREE) {
        if (Atomics.compareExchange(w, STATE, FREE, contended) === FREE) return;
        continue;
      }
      if ((c & CONTENDED) === 0 && Atomics.compareExchange(w, STATE, c, c | CONTENDED) !== c) continue;
      Atomics.wait(w, STATE, c | CONTENDED);
    }
  }

  /** Releases the lock (only its holder may), then ends the section, yielding if extended. */
  unlock(): void {
    const w = this.#word;
    const c = Atomics.load(w, STATE);
    if ((c & ~CONTENDED) !== this.#mine) {
      throw new Error(
        c === FREE
          ? 'SliceMutex: unlock() of an unlocked mutex'
          : 'SliceMutex: unlock() by a thread that does not hold the lock',
      );
    }
    // Only the holder clears the word; a waiter may have set CONTENDED meanwhile, so exchange.
    // The section ends after the release, so a granted extension is given back with the lock
    // free; a waiter is woken with `request` already clear (see SliceExtension.exitAround).
    const slice = this.#slice;
    if ((Atomics.exchange(w, STATE, FREE) & CONTENDED) === 0) slice?.exit();
    else if (slice) slice.exitAround(() => Atomics.notify(w, STATE, 1));
    else Atomics.notify(w, STATE, 1);
  }

  /** Runs `fn` with the lock held and returns its value; `fn` must be synchronous. */
  withLock<T>(fn: () => T): T {
    return runSynchronously(
      'withLock(fn)',
      fn,
      this.#lock,
      this.#unlock,
      'the lock is held only while fn runs synchronously',
    );
  }
}
