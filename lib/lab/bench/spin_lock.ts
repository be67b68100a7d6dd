/**
 * The raw spin lock every benchmark compares SliceMutex and the slice extension against: one
 * Int32 word, 0 free and 1 held; test and test-and-set, so waiters spin on a load as a plain spin
 * lock's do. One implementation for `rseq-slice bench`'s workers and `npm run bench`'s table and
 * micro-benchmarks (its C++ twin is native/bench_loop.cc spinLockLoop).
 */

/** Takes the lock in `word[0]`, spinning on the CPU until it is free. */
export function spinLock(word: Int32Array): void {
  while (Atomics.compareExchange(word, 0, 0, 1) !== 0) while (Atomics.load(word, 0) !== 0);
}

/** Releases the lock in `word[0]`. */
export function spinUnlock(word: Int32Array): void {
  Atomics.store(word, 0, 0);
}
