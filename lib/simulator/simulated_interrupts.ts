/**
 * Interrupts arriving on a simulated thread as a Poisson process: exponential gaps drawn from a
 * seeded generator, so a seed repeats its interrupts exactly. The simulator backend and the port
 * of the kernel selftest both spend virtual time through this one loop.
 */
import { SeededRandom } from './random';
import type { SimulatedKernel, SimulatedThread } from './simulator';

export class PoissonInterrupts {
  private readonly random: SeededRandom;
  private readonly meanGapNs: number;

  /** `rateHz` interrupts per second of virtual time (0: none), each with a reschedule pending. */
  constructor(
    private readonly kernel: SimulatedKernel,
    private readonly thread: SimulatedThread,
    seed: number,
    rateHz: number,
  ) {
    this.random = new SeededRandom(seed);
    this.meanGapNs = rateHz > 0 ? 1e9 / rateHz : Infinity;
  }

  /** Advances the kernel's clock by `windowNs`, delivering the interrupts that fall inside it in order. */
  over(windowNs: number): void {
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
}
