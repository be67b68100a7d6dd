/** The native addon for tests that call it directly. */
import type { Context } from 'mocha';
import { addonState, type NativeAddon } from '../../lib/addon/addon';
import { skipBecause, skipUnlessCi } from './skip';

/**
 * This thread's addon, or the test skipped saying why: not Linux, or the addon did not load (in
 * CI a failure: .ci/run builds the addon, so it must load there).
 */
export function loadedAddon(ctx: Context): NativeAddon {
  if (process.platform !== 'linux') skipBecause(ctx, `rseq exists only on Linux (this is ${process.platform})`);
  const { addon, error } = addonState();
  if (!addon) skipUnlessCi(ctx, `the native addon did not load: ${error}`);
  return addon;
}
