/**
 * The simulator backend: the same JavaScript fast path, over a simulated thread's area. On each
 * exit it draws, from a seeded generator, the interrupts that would have hit a section of that
 * length at the configured rate, applies them in order on the virtual clock (timer expiry
 * included), and then runs the real exit path.
 */
import { OFFSET_FLAGS, type Outcome } from './abi';
import type { FieldReader } from './area_fields';
import type { SliceBackend } from './backend';
import { SeededRandom } from './random';
import type { SimulatedKernel, SimulatedThread } from './simulator';

/** The virtual time the exit path takes between reading `granted` and the yield syscall. */
export const EXIT_WINDOW_NS = 100;

export class SimulatorBackend implements SliceBackend {
  readonly kind = 'simulator' as const;
  readonly area: Uint8Array;
  readonly timed: boolean;
  private readonly fields: Int32Array;
  private readonly random: SeededRandom;
  private readonly meanGapNs: number;
  private startedAt = 0n;

  constructor(
    readonly kernel: SimulatedKernel,
    readonly thread: SimulatedThread,
    interruptRateHz: number,
    private readonly sectionNsec: number | undefined,
    private readonly realFields: FieldReader | null = null,
  ) {
    this.area = thread.area;
    this.fields = new Int32Array(thread.area.buffer, thread.area.byteOffset, 8);
    this.random = new SeededRandom(kernel.seed);
    this.meanGapNs = interruptRateHz > 0 ? 1e9 / interruptRateHz : Infinity;
    this.timed = interruptRateHz > 0;
  }

  sectionStart(): void {
    if (this.sectionNsec === undefined) this.startedAt = process.hrtime.bigint();
  }

  sectionEnd(): void {
    const length = this.sectionNsec ?? Number(process.hrtime.bigint() - this.startedAt);
    this.interruptsOver(length);
  }

  beforeYield(): void {
    if (this.timed) this.interruptsOver(EXIT_WINDOW_NS);
  }

  // Interrupt arrivals form a Poisson process: exponential gaps, drawn fresh for each window.
  private interruptsOver(windowNs: number): void {
    let t = this.random.exponential(this.meanGapNs);
    let elapsed = 0;
    while (t < windowNs) {
      this.kernel.advance(t - elapsed);
      elapsed = t;
      this.thread.interrupt({ needResched: true });
      t += this.random.exponential(this.meanGapNs);
    }
    this.kernel.advance(windowNs - elapsed);
  }

  disarm(): void {
    this.thread.sliceYield();
  }

  sliceYield(): number {
    return this.thread.sliceYield();
  }

  prctl(op: number, arg3: number): number {
    return this.thread.prctl(79, op, arg3, 0, 0);
  }

  nativeEnter(): void {
    throw new Error('unreachable: the simulator always runs the JavaScript path');
  }

  nativeExit(): Outcome {
    throw new Error('unreachable: the simulator always runs the JavaScript path');
  }

  // cpu_id, node_id and mm_cid come from the thread's real area when it has one (the kernel keeps
  // them current even where it cannot grant); flags belong to the simulated registration.
  readField(offset: number): number {
    if (this.realFields !== null && offset !== OFFSET_FLAGS) return this.realFields(offset);
    return this.fields[offset >> 2] as number;
  }
}
