/**
 * The kernel selftest's scenario (tools/testing/selftests/rseq/slice_test.c), ported to run
 * against the simulated kernel: each section sets request, "spins" for a slice of virtual time
 * while interrupts arrive, then checks and yields. Counters as the selftest counts them:
 * total = success + yielded + scheduled, raced is the part of yielded whose yield returned 0, and
 * the no-yield variant ends a grant with another syscall instead (aborted).
 *
 *   npx tsx test/support/slice_test_scenario.ts [sections] [sectionNsec] [interruptRateHz] [seed]
 */
import { OFFSET_GRANTED, OFFSET_REQUEST } from '../../lib/kernel/abi';
import { PoissonInterrupts } from '../../lib/simulator/simulated_interrupts';
import { SimulatedKernel } from '../../lib/simulator/simulator';
import { EXIT_WINDOW_NS } from '../../lib/simulator/simulator_backend';

export interface SliceTestOptions {
  sections: number;
  sectionNsec: number;
  interruptRateHz: number;
  seed: number;
  extensionNsec?: number;
  /** End a grant with an ordinary syscall instead of rseq_slice_yield. */
  noYield?: boolean;
}

export interface SliceTestCounters {
  total: number;
  success: number;
  yielded: number;
  scheduled: number;
  raced: number;
  aborted: number;
}

export function runSliceTest(o: SliceTestOptions): SliceTestCounters {
  const kernel = new SimulatedKernel({ seed: o.seed, extensionNsec: o.extensionNsec });
  const thread = kernel.createThread();
  thread.registerRseq({ defaultOn: true });
  const interrupts = new PoissonInterrupts(kernel, thread, o.seed, o.interruptRateHz);
  const c: SliceTestCounters = { total: 0, success: 0, yielded: 0, scheduled: 0, raced: 0, aborted: 0 };
  const area = thread.area;
  for (let i = 0; i < o.sections; i++) {
    area[OFFSET_REQUEST] = 1;
    interrupts.over(o.sectionNsec);
    c.total++;
    if (area[OFFSET_REQUEST] !== 0) {
      area[OFFSET_REQUEST] = 0;
      c.success++;
    } else if (area[OFFSET_GRANTED] !== 0) {
      interrupts.over(EXIT_WINDOW_NS); // the check-to-syscall window
      if (o.noYield) {
        thread.syscall('getppid');
        c.aborted++;
      } else {
        c.yielded++;
        if (thread.sliceYield() === 0) c.raced++;
      }
    } else {
      c.scheduled++;
    }
  }
  return c;
}

if (require.main === module) {
  const [sections = 100000, sectionNsec = 2000, rate = 100000, seed = 1] = process.argv.slice(2).map(Number);
  for (const noYield of [false, true]) {
    const r = runSliceTest({ sections, sectionNsec, interruptRateHz: rate, seed, noYield });
    console.log(`${noYield ? 'no-yield' : 'yield   '} ${JSON.stringify(r)}`);
  }
}
