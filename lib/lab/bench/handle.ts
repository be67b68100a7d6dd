/**
 * The slice handle the benchmarks measure. Lab-only: not exported from the package's index, for
 * `npm run bench` (scripts/bench.ts requires it from the measured dist) and the benchmark workers.
 *
 * Where the kernel grants, it is `open({ backend: 'native' })`. Where it does not, open() would
 * refuse the native backend, so the lab builds the same native fast path over the thread's real
 * rseq area itself: the kernel never grants, and what is measured is the fast path's own cost,
 * which is the same on a 7.0+ kernel for every section that is not extended. Where the addon does
 * not load at all, the simulator's handle.
 */
import { addonState } from '../../addon/addon';
import { NativeBackend } from '../../addon/native_backend';
import { detect } from '../../detect';
import { SliceExtension } from '../../extension';
import { open } from '../../open';
import type { OpenOptions } from '../../options';

/**
 * The handle to measure on this thread: the kernel's extension where it grants, else the native
 * fast path over the real area (never granted), else (no addon) the simulator's.
 */
export function measuredHandle(fastPath: 'javascript' | 'native-call'): SliceExtension {
  if (detect().sliceExtension.available) return open({ backend: 'native', fastPath } satisfies OpenOptions);
  const { addon } = addonState();
  if (!addon) return open({ backend: 'simulator' });
  addon.areaInfo(false); // resolve this thread's area (libc's, or the addon's own) before the view
  return SliceExtension.fromBackend(new NativeBackend(addon, fastPath === 'javascript'));
}
