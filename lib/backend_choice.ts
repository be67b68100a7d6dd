/**
 * The backend choice (`'auto'`, `'native'`, `'simulator'`), and the one read of it from the
 * environment (RSEQ_SLICE_BACKEND), so that open() and detect() give one answer.
 */
import { checkChoice } from './validate';

export type BackendChoice = 'auto' | 'native' | 'simulator';
export const BACKENDS: readonly BackendChoice[] = ['auto', 'native', 'simulator'];

/**
 * The backend env RSEQ_SLICE_BACKEND asks for (`'auto'` when unset or empty). Throws TypeError
 * naming the accepted values for anything else: a typo must not silently pick a backend.
 */
export function envBackend(): BackendChoice {
  const value = process.env.RSEQ_SLICE_BACKEND;
  if (value === undefined || value === '') return 'auto';
  return checkChoice('env RSEQ_SLICE_BACKEND', value, BACKENDS, 'auto');
}
