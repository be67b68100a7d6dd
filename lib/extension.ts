/**
 * SliceExtension: the per-thread handle. enter()/exit() are the critical-section fast path; on
 * the native backend with a view of the area they make no addon call unless a grant must be
 * yielded.
 */
import {
  OFFSET_CPU_ID,
  OFFSET_FLAGS,
  OFFSET_GRANTED,
  OFFSET_MM_CID,
  OFFSET_NODE_ID,
  OFFSET_REQUEST,
  PR_RSEQ_SLICE_EXTENSION_GET,
  PR_RSEQ_SLICE_EXTENSION_SET,
  PR_RSEQ_SLICE_EXT_ENABLE,
  RSEQ_CS_FLAG_SLICE_EXT_ENABLED,
  type Outcome,
} from './kernel/abi';
import type { NativeCallSections, SectionClock, SectionNesting, SliceBackend, SliceKernel } from './backend';
import { isThenable, notAFunction, returnedThenable } from './validate';

// Module-local copies of the slice_ctrl offsets (the type ties them to abi.ts): the JIT folds a
// module constant into the fast path, while an imported one stays a property load per access.
const REQUEST: typeof OFFSET_REQUEST = 28;
const GRANTED: typeof OFFSET_GRANTED = 29;

// Only fromBackend() holds it: the class is exported (for instanceof and types), and a `new` from
// user code gets a clear TypeError instead of failing on the missing backend.
const CONSTRUCT = Symbol('SliceExtension.fromBackend');

const SYNCHRONOUS_SECTION = 'a critical section must be synchronous';

/**
 * Outcome counts of the sections this handle ended. A section nested across handles of one
 * thread is counted once, by the handle whose exit() ended the outermost section.
 */
export interface SliceStats {
  /** Outermost sections completed. */
  sections: number;
  /** `request` was still set at exit: nothing happened. */
  clean: number;
  /** An extension was granted and the yield gave the CPU back. */
  yielded: number;
  /** An extension was granted but revoked before the yield (the yield returned 0). */
  raced: number;
  /** The kernel revoked the request or scheduled the thread during the section. */
  revoked: number;
}

/** @internal The sections counted between two readings of a handle's `stats`. */
export function sliceStatsDelta(after: SliceStats, before: SliceStats): SliceStats {
  return {
    sections: after.sections - before.sections,
    clean: after.clean - before.clean,
    yielded: after.yielded - before.yielded,
    raced: after.raced - before.raced,
    revoked: after.revoked - before.revoked,
  };
}

export class SliceExtension {
  /** `'native'` (the kernel grants) or `'simulator'` (the simulated kernel). */
  readonly backend: 'native' | 'simulator';
  /** `'javascript'` (zero-call fast path over the area) or `'native-call'` (through the addon). */
  readonly fastPath: 'javascript' | 'native-call';
  /** Why `open()` fell back to the simulator, when it did. */
  readonly fallbackReason: string | undefined;
  // ES private fields: the area view must stay unreachable from user code, even at run time.
  readonly #kernel: SliceKernel;
  // Exactly one of #area (JavaScript path) and #calls (native-call path) is set.
  readonly #area: Uint8Array | null;
  readonly #calls: NativeCallSections | null;
  readonly #clock: SectionClock | null;
  // The area when sections need nothing but byte stores and loads (JavaScript path, no
  // simulated time); null sends enter() and exit() off the zero-call fast path.
  readonly #fastArea: Uint8Array | null;
  // The thread's nesting depth, shared with every other handle over the same area: the kernel
  // sees one `request` byte per thread, so an inner handle's exit must not end the outer section.
  readonly #nesting: SectionNesting;
  readonly #counts: Record<Outcome, number> = { clean: 0, yielded: 0, raced: 0, revoked: 0 };

  // Private: handles come from open(), which picks and checks the backend. The published types
  // keep `private constructor`, so `new SliceExtension()` does not type-check for users; the
  // token check catches it at run time (plain JavaScript, or a cast).
  private constructor(token: typeof CONSTRUCT, impl: SliceBackend, fallbackReason?: string) {
    if (token !== CONSTRUCT) {
      throw new TypeError('SliceExtension cannot be constructed with new: use open() to get a handle');
    }
    this.#kernel = impl;
    this.#nesting = impl.nesting;
    this.backend = impl.kind;
    const sections = impl.sections;
    this.#area = sections.kind === 'javascript' ? sections.area : null;
    this.#calls = sections.kind === 'native-call' ? sections : null;
    this.#clock = impl.clock;
    this.#fastArea = impl.clock === null ? this.#area : null;
    this.fastPath = sections.kind;
    this.fallbackReason = fallbackReason;
  }

  /** @internal the handle over a backend; use open(). */
  static fromBackend(impl: SliceBackend, fallbackReason?: string): SliceExtension {
    return new SliceExtension(CONSTRUCT, impl, fallbackReason);
  }

  /** Whether the kernel has the extension enabled for this thread (prctl GET). */
  get enabled(): boolean {
    return this.#kernel.prctl(PR_RSEQ_SLICE_EXTENSION_GET, 0) === PR_RSEQ_SLICE_EXT_ENABLE;
  }

  /** Turns the extension on for this thread (prctl SET). Idempotent. Throws RseqError. */
  enable(): void {
    this.set(true);
  }

  /** Turns the extension off for this thread (prctl SET). Not allowed inside a section. */
  disable(): void {
    this.set(false);
  }

  private set(on: boolean): void {
    // The thread's depth: a section another handle of this thread opened counts too.
    if (this.#nesting[0] !== 0) {
      throw new Error(
        `${on ? 'enable' : 'disable'}() inside a critical section: call it outside enter()/exit() (its syscall would end any grant)`,
      );
    }
    this.#kernel.prctl(PR_RSEQ_SLICE_EXTENSION_SET, on ? PR_RSEQ_SLICE_EXT_ENABLE : 0);
  }

  /**
   * Starts a critical section: asks the kernel not to preempt this thread. Nests, across every
   * handle of the thread: only the outermost enter() sets `request`.
   */
  enter(): void {
    if (this.#nesting[0]++ !== 0) return;
    const area = this.#fastArea;
    if (area !== null) area[REQUEST] = 1;
    else this.#slowEnter();
  }

  #slowEnter(): void {
    this.#clock?.sectionStart();
    const area = this.#area;
    if (area !== null) area[REQUEST] = 1;
    else {
      try {
        (this.#calls as NativeCallSections).enter();
      } catch (err) {
        this.#nesting[0] = 0; // no section started: the next enter() must try again, not nest
        throw err;
      }
    }
  }

  /**
   * Ends a critical section and yields the CPU when the kernel granted an extension. Returns the
   * outcome; an inner exit() of a nested section (through this or another handle of the thread)
   * returns 'clean' and changes nothing: `request` stays set until the outermost exit().
   */
  exit(): Outcome {
    const nesting = this.#nesting;
    if (nesting[0] !== 1) return this.#innerExit();
    nesting[0] = 0;
    const area = this.#fastArea;
    if (area === null) return this.#exitPath(undefined);
    // The zero-call case: `request` still set and nothing granted. Clear request first, then
    // read granted: a grant landing between the two is still seen. Anything else settles below.
    // `granted` is read once: the outcome must come from the same read that ruled out `clean`.
    const requested = area[REQUEST];
    area[REQUEST] = 0;
    const granted = area[GRANTED];
    if (requested !== 0 && granted === 0) {
      this.#counts.clean++;
      return 'clean';
    }
    return this.#settle(requested, granted);
  }

  /**
   * @internal exit() that runs `between` after clearing `request` and before looking at
   * `granted`: SliceMutex wakes a waiter there, so its futex syscall never runs with `request`
   * set (fatal after a revoked grant on rseq_debug kernels), and a live grant ends in that
   * syscall (the kernel reschedules then, as a yield would) instead of in a separate yield.
   */
  exitAround(between: () => void): Outcome {
    const nesting = this.#nesting;
    if (nesting[0] !== 1) {
      // `between` wakes SliceMutex's waiters on a word already released: it runs even when this
      // exit is a misuse that throws.
      try {
        return this.#innerExit();
      } finally {
        between();
      }
    }
    nesting[0] = 0;
    return this.#exitPath(between);
  }

  #innerExit(): Outcome {
    const nesting = this.#nesting;
    if (nesting[0] === 0) throw new Error('exit() without a matching enter()');
    nesting[0]--;
    return 'clean';
  }

  // The one exit path off the zero-call case: the section's simulated time, clearing `request`,
  // `between`, then the outcome. On the native-call path the addon takes the whole exit in C++,
  // so `between` runs after it, even when the exit throws (SliceMutex's waiters must be woken).
  #exitPath(between: (() => void) | undefined): Outcome {
    const area = this.#area;
    if (area === null) {
      try {
        return this.#record((this.#calls as NativeCallSections).exit());
      } finally {
        between?.();
      }
    }
    if (this.#clock !== null) {
      try {
        this.#clock.sectionEnd();
      } catch (err) {
        // A simulated signal ended the section: `request` cleared and waiters woken all the same.
        area[REQUEST] = 0;
        between?.();
        throw err;
      }
    }
    const requested = area[REQUEST];
    area[REQUEST] = 0;
    between?.();
    return this.#settle(requested, area[GRANTED]);
  }

  // The outcome once `request` is clear, from what it was and the one read of `granted` after.
  #settle(requested: number, granted: number): Outcome {
    if (granted !== 0) {
      this.#clock?.beforeYield();
      return this.#record(this.#kernel.sliceYield() === 1 ? 'yielded' : 'raced');
    }
    if (requested !== 0) return this.#record('clean');
    // Both bytes clear: the kernel revoked a grant or scheduled us. A revoked grant leaves the
    // kernel's syscall-entry check armed, and on rseq_debug kernels a syscall with `request` set
    // (V8's GC or JIT can make one inside any later section) is then fatal: disarm it now (counted
    // first, so a simulated thread killed by the disarm still shows the section).
    this.#record('revoked');
    this.#kernel.disarm();
    return 'revoked';
  }

  #record(outcome: Outcome): Outcome {
    this.#counts[outcome]++;
    return outcome;
  }

  /**
   * Runs `fn` as a critical section (enter, fn, exit in `finally`) and returns its value. `fn`
   * must be synchronous: a returned promise or thenable is a TypeError (after the section ends).
   */
  run<T>(fn: () => T): T {
    // Its own bracket, not one shared with withLock: a shared call site sees every caller's
    // functions and stops inlining (run(fn) cost twice enter()+exit()). catch-and-rethrow rather
    // than finally: the normal path stays straight-line code, measurably cheaper than finally's.
    if (typeof fn !== 'function') throw notAFunction('run(fn)', fn);
    this.enter();
    let result: T;
    try {
      result = fn();
    } catch (err) {
      this.exit();
      throw err;
    }
    this.exit();
    if (isThenable(result)) throw returnedThenable('run(fn)', SYNCHRONOUS_SECTION);
    return result;
  }

  /** rseq_slice_yield(): true when it ended an active grant. Throws RseqError (ENOSYS…). */
  yield(): boolean {
    return this.#kernel.sliceYield() === 1;
  }

  /** Section counts so far (a copy). */
  get stats(): SliceStats {
    const c = this.#counts;
    return { sections: c.clean + c.yielded + c.raced + c.revoked, ...c };
  }

  /** The thread's nesting depth over this handle's area, whichever handles entered (0 outside a section). */
  get depthLevel(): number {
    return this.#nesting[0];
  }

  /**
   * The CPU this thread runs on, read from the thread's real rseq area (`cpu_id`, no syscall) on
   * every backend where one is registered, the simulator fallback included; only a thread with
   * no real area (not Linux, addon missing, rseq denied) reads the simulated one.
   */
  cpu(): number {
    return this.#kernel.readField(OFFSET_CPU_ID);
  }

  /** The NUMA node of that CPU (`node_id`), from the same area as cpu(). */
  numaNode(): number {
    return this.#kernel.readField(OFFSET_NODE_ID);
  }

  /** The memory-map concurrency id (`mm_cid`): a small dense per-process CPU index, from the same area as cpu(). */
  concurrencyId(): number {
    return this.#kernel.readField(OFFSET_MM_CID);
  }

  /** Whether the kernel set the ENABLED bit in the area's `flags` (it mirrors `enabled`, without a syscall). */
  flagsEnabled(): boolean {
    return (this.#kernel.readField(OFFSET_FLAGS) & RSEQ_CS_FLAG_SLICE_EXT_ENABLED) !== 0;
  }
}
