/** What a call throws, for tests that inspect the error itself (its class, code, errno). */

/** What `fn` throws (fails the test when it returns). */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error(`expected ${fn.toString()} to throw`);
}
