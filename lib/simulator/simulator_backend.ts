/**
 * The simulator backend: the same JavaScript fast path, over a simulated thread's area. On each
 * exit it draws, from a seeded generator, the interrupts that would have hit a section of that
 * length at the configured rate, applies them in order on the virtual clock (timer expiry
 * included), and then runs the real exit path.
 */
import { OFFSET_FLAGS, ORIG_RSEQ_SIZE, PR_RSEQ_SLICE_EXTENSION } from '../kernel/abi';
import type { AreaSections, FieldReader, SectionClock, SectionNesting, SliceBackend } from '../backend';
import { PoissonInterrupts } from './simulated_interrupts';
import type { SimulatedKernel, SimulatedThread } from './simulator';

/** The virtual time the exit path takes between reading `granted` and the yield syscall. */
export const EXIT_WINDOW_NS = 100;

/** Section time on the virtual clock: measured (or fixed by `sectionNsec`), filled with interrupts. */
class InterruptClock implements SectionClock {
  private startedAt = 0n;

  constructor(
    private readonly interrupts: PoissonInterrupts,
    private readonly sectionNsec: number | undefined,
  ) {}

  sectionStart(): void {
    if (this.sectionNsec === undefined) this.startedAt = process.hrtime.bigint();
  }

  sectionEnd(): void {
    this.interrupts.over(this.sectionNsec ?? Number(process.hrtime.bigint() - this.startedAt));
  }

  beforeYield(): void {
    this.interrupts.over(EXIT_WINDOW_NS);
  }
}

// One nesting depth per simulated thread (its area), shared by every handle over that thread;
// handles over other threads or kernels keep their own.
const THREAD_NESTING = new WeakMap<SimulatedThread, SectionNesting>();

function nestingOf(thread: SimulatedThread): SectionNesting {
  let nesting = THREAD_NESTING.get(thread);
  // Over an ArrayBuffer, as the native backend's view is: one typed-array representation for
  // extension.ts's depth accesses, whichever backend.
  if (nesting === undefined) THREAD_NESTING.set(thread, (nesting = new Int32Array(new ArrayBuffer(4))));
  return nesting;
}

export class SimulatorBackend implements SliceBackend {
  readonly kind = 'simulator' as const;
  readonly sections: AreaSections;
  readonly nesting: SectionNesting;
  readonly clock: SectionClock | null;
  private readonly fields: Int32Array;

  constructor(
    readonly kernel: SimulatedKernel,
    readonly thread: SimulatedThread,
    interruptRateHz: number,
    sectionNsec: number | undefined,
    private readonly realFields: FieldReader | null = null,
  ) {
    this.sections = { kind: 'javascript', area: thread.area };
    this.nesting = nestingOf(thread);
    this.fields = new Int32Array(thread.area.buffer, thread.area.byteOffset, ORIG_RSEQ_SIZE >> 2);
    this.clock =
      interruptRateHz > 0
        ? new InterruptClock(new PoissonInterrupts(kernel, thread, kernel.seed, interruptRateHz), sectionNsec)
        : null;
  }

  disarm(): void {
    this.thread.sliceYield();
  }

  sliceYield(): number {
    return this.thread.sliceYield();
  }

  prctl(op: number, arg3: number): number {
    return this.thread.prctl(PR_RSEQ_SLICE_EXTENSION, op, arg3, 0, 0);
  }

  // cpu_id, node_id and mm_cid come from the thread's real area when it has one (the kernel keeps
  // them current even where it cannot grant); flags belong to the simulated registration.
  readField(offset: number): number {
    if (this.realFields !== null && offset !== OFFSET_FLAGS) return this.realFields(offset);
    return this.fields[offset >> 2] as number;
  }
}
