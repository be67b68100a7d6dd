/**
 * Whether a thread that may hold a SliceMutex has ended: the addon's process-wide record
 * (native/thread_watch.cc), written at each watched thread's environment teardown. Without the
 * addon nothing is known, and every thread counts as alive.
 */
import { threadId } from 'node:worker_threads';
import { addonState } from './addon/addon';

let watching: boolean | undefined;

/**
 * Watches this thread (once per thread): from now on its end, however it comes, is recorded.
 * Returns whether the ends of this process's threads can be seen at all (false without the addon).
 */
export function watchThisThread(): boolean {
  if (watching === undefined) {
    const { addon } = addonState();
    watching = addon !== null && addon.watchThread(threadId) === 0;
  }
  return watching;
}

/** Whether the thread with this `threadId` is known to have ended (never, without the addon). */
export function threadEnded(id: number): boolean {
  const { addon } = addonState();
  return addon !== null && addon.threadEnded(id);
}
