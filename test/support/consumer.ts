/**
 * The tests' consumer addon of the native API (test/native/consumer): where it is built and its
 * surface, for test/lib/consumer.test.ts, its fixtures and the guest's specs.
 */
import * as path from 'node:path';
import type { NativeApi } from '../../lib';
import { ConsumerBuild } from '../../scripts/consumer_build';
import { ROOT } from './paths';

/**
 * The addon (test/native/consumer/consumer.cc and c_part.c): sections on the JavaScript thread, on
 * libuv pool threads and on std::threads under one contended SpinLock; init's refusals; nesting
 * with JavaScript's sections. test/vm/run.ts (npm run test:vm) builds it on the host before the
 * guest boots: the guest runs the host's root over 9p, so it loads that very file.
 */
export const TEST_CONSUMER = new ConsumerBuild(path.join(ROOT, 'test', 'native', 'consumer'), 'consumer', [
  'consumer.cc',
  'c_part.c',
]);

/** What one run of sections on one thread saw. */
export interface ConsumerCounts {
  /** Every section the thread ended: `locked` ones, and `lostRaces` ended by a lost race for the lock. */
  sections: number;
  /** Sections that held the lock (one per increment asked for). */
  locked: number;
  /** Sections SpinLock opened for its exchange and ended because another thread took the lock first. */
  lostRaces: number;
  /** lock() calls that found the lock held (contention). */
  waited: number;
  /** Outcomes of all `sections` (lost races included). */
  clean: number;
  yielded: number;
  raced: number;
  revoked: number;
  /** Exits whose yield failed (-errno). */
  errors: number;
  /** thread_error(): errno of the failing step, 0 when enabled. */
  whyNot: number;
  step: string | null;
  /** thread_section_area() gave an area. */
  enabled: boolean;
  /** thread_area() found or registered one. */
  hasArea: boolean;
}

/** What a thread_local destructor that runs after rseq-slice's saw (consumer.cc ThreadExit). */
export interface ThreadExitView {
  /** thread()->area while the thread ran: an enabled area. */
  areaDuring: boolean;
  /** thread_area() while it ran: libc's area or rseq-slice's own. */
  threadAreaDuring: boolean;
  areaAtExit: boolean;
  threadAreaAtExit: boolean;
  /** The outcome of a section opened in that destructor. */
  sectionAtExit: number;
}

export interface ConsumerAddon {
  init(native: NativeApi | null | unknown): void;
  initFromC(native: NativeApi | null | unknown): void;
  fakeTable(abiVersion: number, size: number, tagged: boolean): unknown;
  runJs(n: number): ConsumerCounts;
  runPool(n: number, done: (counts: ConsumerCounts) => void): void;
  startThreads(count: number, n: number): void;
  joinThreads(): ConsumerCounts[];
  counter(): number;
  cSection(): number;
  whyNot(): ConsumerCounts;
  /** One section through the table: its outcome (4, RSEQ_SLICE_NESTED, inside another section of the thread). */
  nativeSection(): number;
  /** Calls fn inside a native section: [the section's outcome, fn's result]. */
  nativeAround<T>(fn: () => T): [number, T];
  /** A std::thread whose thread_local destructor runs after rseq-slice's: what it saw there. */
  threadExit(): ThreadExitView;
  /** The thread's section depth as the table's state has it. */
  depth(): number;
}
