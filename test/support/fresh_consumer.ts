/** A consumer addon built afresh for a test, which skips, saying why, where none can be. */
import type { Context } from 'mocha';
import { native } from '../../lib';
import { consumerBuildUnavailable, type ConsumerBuild } from '../../scripts/consumer_build';
import { skipBecause } from './skip';

/**
 * `build`'s addon built afresh (node-gyp rebuild) and loaded, or the test skipped saying why: no
 * toolchain here, or rseq-slice's addon gave no table to hand over. Any other build failure (dist/
 * missing, a compile error) fails the test.
 */
export function freshConsumer<T>(ctx: Context, build: ConsumerBuild): T {
  const unavailable = consumerBuildUnavailable();
  if (unavailable !== null) skipBecause(ctx, unavailable);
  if (native === null) skipBecause(ctx, "rseq-slice's addon did not load here, so there is no table to hand over");
  const built = build.build();
  if (!built.ok) throw new Error(built.reason);
  return require(built.binary) as T;
}
