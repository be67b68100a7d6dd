/** The errors of SliceMutex's owner-death contract, named after the POSIX robust-mutex errnos. */

/**
 * The previous holder's thread ended while it held the lock. Thrown by `lock()`, `tryLock()` and
 * `withLock()` **with the lock held by the caller**: repair the protected data, then call
 * `markConsistent()`; unlocking without it makes the mutex not recoverable.
 */
export class OwnerDiedError extends Error {
  /** POSIX's name for this condition (pthread_mutex_lock on a robust mutex). */
  readonly code = 'EOWNERDEAD';
  /** The `threadId` of the thread that died holding the lock. */
  readonly previousOwner: number;

  constructor(previousOwner: number) {
    super(
      `SliceMutex: thread ${previousOwner} ended while holding the lock; this thread holds it now. ` +
        'Repair the data it protects and call markConsistent() (unlocking without it makes the mutex unusable)',
    );
    this.name = 'OwnerDiedError';
    this.previousOwner = previousOwner;
  }
}

/**
 * The mutex was unlocked after an owner death without `markConsistent()`: the data it protects
 * may be inconsistent, so every later `lock()`, `tryLock()` and `withLock()` throws this at once.
 */
export class MutexNotRecoverableError extends Error {
  /** POSIX's name for this condition. */
  readonly code = 'ENOTRECOVERABLE';

  constructor() {
    super(
      'SliceMutex: not recoverable: a holder died and the next one unlocked without markConsistent(); ' +
        'rebuild the protected data and the mutex (a zeroed word) to go on',
    );
    this.name = 'MutexNotRecoverableError';
  }
}
