/**
 * Guest suite, glibc's registration off: one section per thread, whatever the number of handles.
 * An outer section of one handle around an inner section of another (a SliceMutex on its default
 * handle, or a second open()) on a kernel that grants: the inner exit must leave the thread's
 * slice_ctrl alone, and the outcomes, counted once by the outermost exit, must match the kernel's
 * debugfs rseq/stats deltas.
 */
import { expect } from 'chai';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { OFFSET_GRANTED, OFFSET_REQUEST } from '../../lib/kernel/abi';
import { addonState } from '../../lib/addon/addon';
import { open, SliceMutex, type SliceExtension, type SliceStats } from '../../lib';
import { sliceStatsDelta } from '../../lib/extension';
import { DIST } from '../support/paths';
import { bootDescription, readStats, statsDelta, withLongExtension, type KernelStats } from './guest';

const SECONDS = Number(process.env.RSEQ_SLICE_VM_SECONDS ?? 2);
const SECTION_NS = 20000;
const ATTEMPTS = 3;
const hr = process.hrtime.bigint;

function spin(ns: number): void {
  const end = hr() + BigInt(ns); // clock_gettime through the vDSO: no syscall, so no grant ends
  while (hr() < end);
}

/** The thread's slice_ctrl word (request in byte 0, granted in byte 1), read without a syscall. */
function sliceCtrl(): number {
  const addon = addonState().addon;
  if (!addon) throw new Error(`the addon did not load: ${addonState().error}`);
  return addon.readField(OFFSET_REQUEST)! >>> 0;
}

/** The selftest's noise thread (test/vm/scenario-worker.js) on the pinned CPU, until stopped. */
async function withNoise<T>(run: () => T): Promise<T> {
  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(path.join(__dirname, 'scenario-worker.js'), {
    workerData: { role: 'noise', dist: DIST, stop },
  });
  const messages: string[] = [];
  const next = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const count = messages.length;
      const check = (m: string): void => {
        messages.push(m);
        if (messages.length > count) resolve();
      };
      worker.once('message', check);
      worker.once('error', reject);
    });
  await next(); // 'ready'
  try {
    return run();
  } finally {
    const done = next();
    Atomics.store(new Int32Array(stop), 0, 1);
    await done;
    await worker.terminate();
  }
}

interface NestedRun {
  iterations: number;
  outer: SliceStats;
  inner: SliceStats | null;
  kernel: KernelStats;
  /** slice_ctrl after the inner exit: request still set, granted set, or cleared by the kernel. */
  afterInner: { requested: number; granted: number; cleared: number };
  /** Iterations where slice_ctrl was clear after the inner exit and the outer exit was not 'revoked'. */
  clearedNotRevoked: number;
}

/** Outer sections of `outer` for SECONDS, each around `inner` (an inner section of another handle). */
function runNested(outer: SliceExtension, inner: (body: () => void) => void, innerHandle: SliceExtension | null) {
  const before = { outer: outer.stats, inner: innerHandle?.stats ?? null, kernel: readStats() };
  const afterInner = { requested: 0, granted: 0, cleared: 0 };
  let clearedNotRevoked = 0;
  let iterations = 0;
  const deadline = hr() + BigInt(SECONDS * 1e9);
  while (hr() < deadline) {
    for (let i = 0; i < 100; i++) {
      outer.enter();
      spin(SECTION_NS / 4);
      inner(() => spin(SECTION_NS / 2));
      const word = sliceCtrl();
      spin(SECTION_NS / 4);
      const outcome = outer.exit();
      iterations++;
      if (((word >> ((OFFSET_GRANTED - OFFSET_REQUEST) * 8)) & 0xff) !== 0) afterInner.granted++;
      else if ((word & 0xff) !== 0) afterInner.requested++;
      else {
        afterInner.cleared++;
        if (outcome !== 'revoked') clearedNotRevoked++;
      }
    }
  }
  const kernel = statsDelta(before.kernel, readStats());
  return {
    iterations,
    outer: sliceStatsDelta(outer.stats, before.outer),
    inner: innerHandle && before.inner ? sliceStatsDelta(innerHandle.stats, before.inner) : null,
    kernel,
    afterInner,
    clearedNotRevoked,
  } satisfies NestedRun;
}

function record(label: string, r: NestedRun, figures: string[]): void {
  const o = r.outer;
  const k = r.kernel;
  const a = r.afterInner;
  figures.push(
    `      ${label}: ${r.iterations} outer sections; after the inner exit: requested ${a.requested}, granted ${a.granted}, cleared ${a.cleared}; ` +
      `outer: sections ${o.sections}, clean ${o.clean}, yielded ${o.yielded}, raced ${o.raced}, revoked ${o.revoked}; ` +
      `inner handle sections ${r.inner?.sections ?? '(hidden default handle)'}; debugfs sgrant ${k.sgrant}, syield ${k.syield}, srevok ${k.srevok}, sexpir ${k.sexpir}, sabort ${k.sabort}`,
  );
}

/**
 * Only kernel invariants (Debian linux-source 7.2.13), plus our own once-per-section accounting.
 * The inner handle's outcomes are zero when it is readable, and otherwise (the SliceMutex's hidden
 * default handle) any outcome it counted would show as a kernel yield the outer handle lacks.
 */
function checkNested(r: NestedRun): void {
  const o = r.outer;
  const k = r.kernel;
  // Our accounting: the outermost exit counts every section once; an inner exit never does.
  expect(o.sections, 'one outcome per outer section').to.equal(r.iterations);
  expect(o.clean + o.yielded + o.raced + o.revoked).to.equal(o.sections);
  if (r.inner) expect(r.inner.sections, 'the inner handle ended no section').to.equal(0);
  // kernel/rseq.c rseq_syscall_enter_work counts s_yielded exactly when it sets slice.yielded, and
  // sys_rseq_slice_yield returns that flag: each yield answering 1 is one syield. Only this thread
  // yields, so the outer handle's yields are all of them: an inner exit that yielded (the bug: it
  // ended the outer section) would be a syield no handle we read counted.
  expect(k.syield, "the outer handle's yields are the kernel's").to.equal(o.yielded);
  // A grant (include/linux/rseq_entry.h __rseq_grant_slice_extension, s_granted) ends at most once
  // with a counter: rseq_slice_clear_grant (s_revoked) or rseq_syscall_enter_work (s_yielded /
  // s_aborted).
  expect(k.sgrant, 'sgrant >= syield + srevok + sabort').to.be.at.least(k.syield + k.srevok + k.sabort);
  // User space sees granted=1 only from a grant, and each outer section yields at most once.
  expect(o.yielded + o.raced, 'yielded + raced <= sgrant').to.be.at.most(k.sgrant);
  // The kernel only clears request (granting replaces it by granted, revoking or scheduling clears
  // the word: rseq_entry.h __rseq_grant_slice_extension, rseq_slice_clear_grant) and sets granted
  // only while request is set: a word clear after the inner exit stays clear, and the outer exit
  // must see 'revoked'.
  expect(r.clearedNotRevoked, 'a cleared word stays cleared until the outer exit').to.equal(0);
  // The inner exit left slice_ctrl to the outer section. Had it cleared request (a per-handle
  // depth), every word read after it would be clear: the kernel never sets request.
  expect(
    r.afterInner.requested + r.afterInner.granted,
    'request or grant still set after the inner exit',
  ).to.be.greaterThan(0);
}

/** Runs until the outer section saw a live grant survive an inner exit and then yielded it, at most ATTEMPTS times. */
async function runUntilGranted(label: string, run: () => NestedRun, figures: string[]): Promise<void> {
  for (let i = 1; i <= ATTEMPTS; i++) {
    const r = await withNoise(run);
    record(i === 1 ? label : `${label} (attempt ${i})`, r, figures);
    checkNested(r);
    if (r.afterInner.granted > 0 && r.outer.yielded > 0) return;
  }
  expect.fail(`no run of ${ATTEMPTS} had a grant live after the inner exit and a yield: grants were not exercised`);
}

describe(`guest, one section per thread across handles: ${bootDescription()}`, function () {
  this.timeout(600_000);
  const figures: string[] = [];
  withLongExtension(figures, SECONDS);

  it('outer open() handle around SliceMutex.withLock on its default handle (a second open())', async () => {
    const outer = open({ backend: 'native' });
    expect(outer.backend).to.equal('native');
    const mutex = SliceMutex.create();
    mutex.withLock(() => 0); // its default handle opens here, outside any section (open() makes syscalls)
    await runUntilGranted(
      'open() around withLock',
      () => runNested(outer, (body) => mutex.withLock(body), null),
      figures,
    );
  });

  it('outer open() handle around run() of a second open() handle', async () => {
    const outer = open({ backend: 'native' });
    const inner = open({ backend: 'native' });
    await runUntilGranted(
      'open() around open().run',
      () => runNested(outer, (body) => inner.run(body), inner),
      figures,
    );
  });
});
