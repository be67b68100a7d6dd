/** What a SliceExtension needs from the kernel side, native or simulated. */
import type { Outcome } from './abi';

export interface SliceBackend {
  readonly kind: 'native' | 'simulator';
  /**
   * The thread's `struct rseq` for the JavaScript fast path (request/granted bytes written and
   * read directly), or null when sections must go through the addon (native-call path).
   */
  readonly area: Uint8Array | null;
  /** True when sectionStart/sectionEnd must run (the simulator injecting interrupts). */
  readonly timed: boolean;
  sectionStart(): void;
  /** Called after a section's body, before its exit path. */
  sectionEnd(): void;
  /** Called between reading `granted` and the yield syscall (the window a revocation can hit). */
  beforeYield(): void;
  /**
   * After a `revoked` section: a harmless syscall (rseq_slice_yield, answering 0) that clears the
   * check a revoked grant leaves armed, so a syscall inside the next section is not fatal on
   * rseq_debug kernels. Never throws.
   */
  disarm(): void;
  /** rseq_slice_yield(): 1 or 0; throws RseqError. */
  sliceYield(): number;
  /** prctl(PR_RSEQ_SLICE_EXTENSION, op, arg3, 0, 0); throws RseqError. */
  prctl(op: number, arg3: number): number;
  /** Native-call path (area null): set request / take the exit path in C++. */
  nativeEnter(): void;
  nativeExit(): Outcome;
  /** The area's 32-bit fields, signed, by byte offset. */
  readField(offset: number): number;
}
