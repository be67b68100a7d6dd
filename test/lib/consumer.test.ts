/**
 * A consumer addon of the native API (test/native/consumer: its own binding.gyp, include/rseq_slice.h
 * found through require('rseq-slice').include), built here with the project's node-gyp: init with
 * the table and clear refusals of anything else; sections on the JavaScript thread, on libuv pool
 * threads and on std::threads under one contended spin lock, with no lost update; each thread's
 * "why not" is the host's.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { detect, native, include, errnoName, explainThreadError } from '../../lib';
import { addonState, type NativeAddon } from '../../lib/addon/addon';
import { TEST_CONSUMER, type ConsumerAddon, type ConsumerCounts, type ThreadExitView } from '../support/consumer';
import { freshConsumer } from '../support/fresh_consumer';
import { ROOT } from '../support/paths';
import { fixtureJson } from '../support/child_node';
import { skipBecause } from '../support/skip';
import { checkJsNativeNesting, RSEQ_SLICE_NESTED } from '../support/js_native_nesting';

const ENOSYS_ = 38;

interface Scenario {
  js: ConsumerCounts[];
  pool: ConsumerCounts[];
  thread: ConsumerCounts[];
  counter: number;
  expected: number;
  /** prctl SET ENABLE as JavaScript's addon asked it on the fixture's main thread: 0 or -errno. */
  hostSet: number | null;
}

function describeRuns(kind: string, runs: ConsumerCounts[]): string {
  const sum = (k: keyof ConsumerCounts): number => runs.reduce((s, r) => s + (r[k] as number), 0);
  const first = runs[0] as ConsumerCounts;
  const why = first.whyNot === 0 ? 'enabled' : `why not: ${errnoName(first.whyNot)} at ${first.step}`;
  return (
    `${kind} (${runs.length} run${runs.length === 1 ? '' : 's'}): ${sum('sections')} sections, clean ${sum('clean')}, ` +
    `yielded ${sum('yielded')}, raced ${sum('raced')}, revoked ${sum('revoked')}, waited ${sum('waited')}; ${why}`
  );
}

function checkScenario(r: Scenario, n: number): void {
  expect(r.hostSet, 'the addon answered prctl').to.be.a('number');
  const host = r.hostSet as number;
  for (const [kind, runs] of [
    ['JavaScript thread', r.js],
    ['libuv pool', r.pool],
    ['std::thread', r.thread],
  ] as const) {
    console.log(`      ${describeRuns(kind, runs)}`);
    for (const run of runs) {
      expect(run.locked, kind).to.equal(n);
      expect(run.sections, `${kind}: locked sections and lost races`).to.equal(n + run.lostRaces);
      expect(run.clean + run.yielded + run.raced + run.revoked, `${kind}: outcomes add up`).to.equal(run.sections);
      expect(run.errors, `${kind}: no yield failed`).to.equal(0);
      expect(run.hasArea, `${kind}: the thread has an area`).to.equal(true);
      if (host < 0) {
        // The host cannot grant: the same errno on every kind of thread, sections are no-ops.
        expect(run.whyNot, kind).to.equal(-host);
        expect(run.step, kind).to.equal('prctl(PR_RSEQ_SLICE_EXTENSION, SET)');
        expect(run.enabled, kind).to.equal(false);
        expect(run.clean, `${kind}: no-op sections are clean`).to.equal(run.sections);
      } else {
        expect(run.whyNot, kind).to.equal(0);
        expect(run.enabled, kind).to.equal(true);
      }
    }
  }
  expect(r.counter, 'every increment under the lock counted (no lost update)').to.equal(r.expected);
  const waited = [...r.js, ...r.pool, ...r.thread].reduce((s, x) => s + x.waited, 0);
  // Printed, not asserted: whether lockers ever met is up to scheduling.
  console.log(`      lockers that found the lock held: ${waited}`);
}

describe('a consumer addon of the native API (test/native/consumer)', function () {
  this.timeout(300_000);
  let consumer: ConsumerAddon;

  before(function () {
    consumer = freshConsumer<ConsumerAddon>(this, TEST_CONSUMER);
  });

  it("resolves the header's directory as a consumer's binding.gyp does", () => {
    const r = spawnSync(process.execPath, ['-p', "require('rseq-slice').include"], {
      cwd: TEST_CONSUMER.dir,
      encoding: 'utf8',
    });
    expect(r.stdout.trim()).to.equal(path.join(ROOT, 'include'));
    expect(include).to.equal(path.join(ROOT, 'include'));
    expect(fs.existsSync(path.join(include, 'rseq_slice.h'))).to.equal(true);
  });

  it('refuses calls before init, and anything but the table at init, with a clear error', () => {
    expect(() => consumer.runJs(1)).to.throw(/init\(require\('rseq-slice'\)\.native\) first/);
    const refusals: Array<[string, unknown, RegExp]> = [
      ['null', null, /native API is unavailable .*detect\(\)/],
      ['undefined', undefined, /native API is unavailable/],
      ['a number', 42, /expected require\('rseq-slice'\)\.native \(a napi_external\)/],
      ['an object', {}, /expected require\('rseq-slice'\)\.native/],
      [
        'an untagged external',
        consumer.fakeTable(1, 4096, false),
        /not rseq-slice's native API \(its type tag differs\)/,
      ],
      ['a newer version', consumer.fakeTable(1000, 4096, true), /newer \(incompatible version\).*rebuild the addon/],
      ['an older version', consumer.fakeTable(0, 4096, true), /older \(incompatible version\).*upgrade rseq-slice/],
      ['a shorter table', consumer.fakeTable(1, 8, true), /lacks functions.*upgrade rseq-slice/],
    ];
    for (const [label, value, message] of refusals) {
      for (const init of [consumer.init, consumer.initFromC]) {
        let error: unknown;
        try {
          init(value);
        } catch (err) {
          error = err;
        }
        expect(error, label).to.be.instanceOf(Error);
        expect((error as Error).message, label).to.match(message);
        expect((error as { code?: string }).code).to.equal('ERR_RSEQ_SLICE_API');
      }
    }
    expect(() => consumer.runJs(1), 'a refused init leaves the consumer uninitialised').to.throw(/first/);
  });

  it('takes the table at init (from C++ and from C) and runs sections on this thread', () => {
    consumer.initFromC(native);
    consumer.init(native);
    expect(consumer.cSection()).to.be.oneOf([0, 1, 2, 3]);
    const why = consumer.whyNot();
    expect(why.hasArea).to.equal(true);
    expect(why.enabled).to.equal(why.whyNot === 0);
    if (why.whyNot !== 0) expect(why.whyNot).to.not.equal(ENOSYS_);
    // The "why not" in detect()'s words: on this thread the JavaScript side's prctl answers the
    // same, so the reason and remedy are detect()'s own.
    const explained = explainThreadError(why.whyNot, why.step);
    if (why.whyNot === 0) expect(explained).to.equal(null);
    else {
      const d = detect().sliceExtension;
      console.log(`      thread_error explained: ${explained?.errno} at ${explained?.step}: ${explained?.reason}`);
      expect(explained?.errno).to.equal(errnoName(why.whyNot));
      expect(explained?.reason).to.equal(d.reason);
      expect(explained?.remedy).to.equal(d.remedy);
    }
    const run = consumer.runJs(1000);
    expect(run.locked).to.equal(1000);
    expect(run.lostRaces, 'no other locker on this thread').to.equal(0);
    expect(run.sections).to.equal(1000);
    expect(run.clean + run.yielded + run.raced + run.revoked).to.equal(1000);
  });

  it('a native section inside another section of the thread is one section: the inner end is NESTED', () => {
    consumer.init(native);
    expect(consumer.depth()).to.equal(0);
    const [outer, inner] = consumer.nativeAround(() => [consumer.depth(), consumer.nativeSection()]);
    expect(inner).to.deep.equal([1, RSEQ_SLICE_NESTED]);
    expect(outer).to.be.oneOf([0, 1, 2, 3]);
    expect(consumer.depth()).to.equal(0);
    expect(() => consumer.nativeAround(() => consumer.nativeAround(() => consumer.nativeSection()))).to.not.throw();
    expect(consumer.depth(), 'every section unwound').to.equal(0);
  });

  it("shares the thread's depth with JavaScript's native handles (the addon's threadNesting view)", function () {
    const view = (addonState().addon as NativeAddon).threadNesting();
    if (typeof view === 'number') skipBecause(this, 'this runtime refuses external ArrayBuffers (a V8 sandbox)');
    const depth = new Int32Array(view as ArrayBuffer);
    expect(consumer.nativeAround(() => depth[0])[1], 'a native section counts in the view').to.equal(1);
    depth[0] = 1; // as a JavaScript section of the thread leaves it
    try {
      expect(consumer.nativeSection(), 'inside it, a native section is the inner one').to.equal(RSEQ_SLICE_NESTED);
    } finally {
      depth[0] = 0;
    }
  });

  it('a JavaScript section and a native one nest as one (native backend)', function () {
    const d = detect();
    if (d.backend !== 'native')
      skipBecause(
        this,
        `the kernel cannot grant here (${d.sliceExtension.reason ?? 'unknown'}), so there is no native handle; the guest runs this (test/vm/native-nesting.vm.ts)`,
      );
    checkJsNativeNesting(consumer);
  });

  const N = 20_000;
  it('runs contended sections on the JavaScript thread, pool threads and std::threads: no lost update, the host\'s "why not"', () => {
    checkScenario(fixtureJson<Scenario>('consumer_scenario.ts', [TEST_CONSUMER.binary, String(N), '4', '2']), N);
  });

  it("a thread's exit: rseq-slice's own area is forgotten before it is freed, so a later thread_local destructor's section touches nothing", () => {
    // glibc's registration off: the std::thread gets rseq-slice's own area, freed at its exit.
    const own = fixtureJson<ThreadExitView>('consumer_thread_exit.ts', [TEST_CONSUMER.binary], {
      env: { GLIBC_TUNABLES: 'glibc.pthread.rseq=0' },
    });
    expect(own.threadAreaDuring, 'rseq-slice registered an area for the thread').to.equal(true);
    expect(own.threadAreaAtExit, 'thread_area() after the area was freed').to.equal(false);
    expect(own.areaAtExit, 'thread()->area after the area was freed').to.equal(false);
    expect(own.sectionAtExit, 'a section without an area is clean').to.equal(0);
    // libc's area (glibc 2.35 and later register one) lives as long as the thread: still there in
    // the late destructor. Where libc registered none, the thread's area was rseq-slice's again.
    const libcRegisters = detect().rseq.owner === 'libc';
    const libc = fixtureJson<ThreadExitView>('consumer_thread_exit.ts', [TEST_CONSUMER.binary]);
    expect(libc.threadAreaDuring).to.equal(true);
    expect(libc.threadAreaAtExit, "libc's area outlives thread_local destructors").to.equal(libcRegisters);
    expect(libc.areaAtExit).to.equal(libc.areaDuring);
    expect(libc.sectionAtExit).to.be.oneOf([0, 1, 2, 3]);
  });

  it("the same with glibc's registration off: rseq-slice registers an area on every kind of thread", () => {
    const r = fixtureJson<Scenario>('consumer_scenario.ts', [TEST_CONSUMER.binary, String(N), '4', '2'], {
      env: { GLIBC_TUNABLES: 'glibc.pthread.rseq=0' },
    });
    checkScenario(r, N);
  });
});
