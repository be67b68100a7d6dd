/**
 * What a SliceExtension needs from the kernel side, native or simulated, split by what differs:
 * every backend answers the kernel calls; how sections run (bytes of the area, or calls into the
 * addon) and whether simulated time passes around them are separate, optional parts.
 */
import type { Outcome } from './kernel/abi';

/** The kernel calls every backend answers. */
export interface SliceKernel {
  readonly kind: 'native' | 'simulator';
  /** rseq_slice_yield(): 1 or 0; throws RseqError. */
  sliceYield(): number;
  /**
   * After a `revoked` section: a harmless syscall (rseq_slice_yield, answering 0) that clears the
   * check a revoked grant leaves armed, so a syscall inside the next section is not fatal on
   * rseq_debug kernels. Never throws.
   */
  disarm(): void;
  /** prctl(PR_RSEQ_SLICE_EXTENSION, op, arg3, 0, 0); throws RseqError. */
  prctl(op: number, arg3: number): number;
  /** The area's 32-bit fields, signed, by byte offset. */
  readField(offset: number): number;
}

/** The JavaScript path: sections write `request` and read `granted` in the thread's area. */
export interface AreaSections {
  readonly kind: 'javascript';
  /** The thread's `struct rseq` (its slice_ctrl bytes). */
  readonly area: Uint8Array;
}

/** The native-call path: the addon sets `request` and takes the whole exit path in C++. */
export interface NativeCallSections {
  readonly kind: 'native-call';
  enter(): void;
  /** The section's outcome, the grant already yielded or the revoked check disarmed. */
  exit(): Outcome;
}

/** Simulated time passing around a section (the simulator injecting interrupts). */
export interface SectionClock {
  sectionStart(): void;
  /** After the section's body, before its exit path. */
  sectionEnd(): void;
  /** Between reading `granted` and the yield syscall (the window a revocation can hit). */
  beforeYield(): void;
}

/**
 * The nesting depth of the sections over one area, in element 0. Every handle over that area holds
 * the same array: the kernel sees one `request` byte per thread, so a section is one per thread,
 * however many handles enter it. On the native backend the array views the addon's per-thread
 * depth (include/rseq_slice.h `rseq_slice_thread.depth`), which addons' native sections on the
 * thread count in too.
 */
export type SectionNesting = Int32Array;

/** A 32-bit field of the thread's real rseq area by byte offset, signed (cpu_id, node_id, mm_cid). */
export type FieldReader = (offset: number) => number;

export interface SliceBackend extends SliceKernel {
  readonly sections: AreaSections | NativeCallSections;
  /** Shared by every backend over the same area (the native thread's, or one simulated thread's). */
  readonly nesting: SectionNesting;
  /** Null when sections take no simulated time (the native kernel, or no interrupts). */
  readonly clock: SectionClock | null;
}
