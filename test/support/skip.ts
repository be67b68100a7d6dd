/** Skipping a test, never silently: the reason is printed, and in CI what .ci/run provides cannot be skipped. */
import type { Context } from 'mocha';

/** Skips the test and prints why, so a skip is never silent. */
export function skipBecause(ctx: Context, reason: string): never {
  console.log(`      (skipped: ${reason})`);
  ctx.skip();
}

/**
 * For what .ci/run installs or fetches (cross compiler, qemu-user, other glibcs, readelf): in CI
 * (CI=true) its absence is a failure, so a green run cannot hide skipped coverage; elsewhere a
 * skip with the reason printed.
 */
export function skipUnlessCi(ctx: Context, reason: string): never {
  if (process.env.CI === 'true') throw new Error(`CI must run this test, but: ${reason}`);
  return skipBecause(ctx, reason);
}
