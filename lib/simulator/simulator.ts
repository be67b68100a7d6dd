/**
 * A pure-TypeScript model of the kernel side of the rseq time slice extension (Linux 7.0+, with
 * the 7.0.10 legacy/optimized split), for running code where the kernel lacks the feature and for
 * testing code deterministically against grants, revocations and timer expiry.
 *
 * It models the strictest kernel (rseq debug checks on): user space writing a kernel-owned byte
 * terminates the simulated thread with SIGSEGV instead of passing silently. The rules, each with
 * its test, are listed in docs/simulator.md ("Simulator fidelity").
 */
import {
  OFFSET_CPU_ID,
  RSEQ_ALLOC_ALIGN_SLICE_EXT,
  RSEQ_FEATURE_SIZE_MM_CID,
  RSEQ_FEATURE_SIZE_SLICE_EXT,
  OFFSET_CPU_ID_START,
  OFFSET_FLAGS,
  OFFSET_GRANTED,
  OFFSET_MM_CID,
  OFFSET_NODE_ID,
  OFFSET_REQUEST,
  OFFSET_SLICE_CTRL,
  ORIG_RSEQ_SIZE,
  PR_RSEQ_SLICE_EXTENSION,
  PR_RSEQ_SLICE_EXTENSION_GET,
  PR_RSEQ_SLICE_EXTENSION_SET,
  PR_RSEQ_SLICE_EXT_ENABLE,
  RSEQ_CPU_ID_UNINITIALIZED,
  RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE,
  RSEQ_CS_FLAG_SLICE_EXT_ENABLED,
  SLICE_EXT_NSEC_DEFAULT,
  SLICE_EXT_NSEC_MAX,
  SLICE_EXT_NSEC_MIN,
} from '../kernel/abi';
import { knownErrno, RseqError } from '../errors';
import { checkBoolean, checkInteger, checkOptionsObject } from '../validate';

// slice_ctrl.all (little-endian) with `granted` set and `request` clear, derived from the byte offsets.
const SLICE_CTRL_GRANTED_ONLY = 1 << (8 * (OFFSET_GRANTED - OFFSET_SLICE_CTRL));

/** Options of {@link SimulatedKernel}. */
export interface SimulatedKernelOptions {
  /** Built with `CONFIG_RSEQ_SLICE_EXTENSION` (default true). */
  configured?: boolean;
  /** Not disabled with `rseq_slice_ext=0` on the command line (default true). */
  bootEnabled?: boolean;
  /** debugfs `rseq/slice_ext_nsec`: 5000 (default) to 50000. */
  extensionNsec?: number;
  /** Seed of the generator that draws interrupts for the facade's simulator backend (default 1). */
  seed?: number;
  /** Number of CPUs threads are spread over (default 2). */
  cpus?: number;
  /**
   * The kernel preempts in kernel mode (`PREEMPT_LAZY`/`FULL`/`RT`, default true) or not
   * (`PREEMPT_NONE`/`VOLUNTARY`). Matters only when a grant's timer fires inside a syscall's entry
   * (see {@link SyscallOptions.entryNs}).
   */
  preemptive?: boolean;
  /**
   * false: a kernel before 7.0, which has no slice extension ABI at all (default true): prctl
   * `PR_RSEQ_SLICE_EXTENSION` → `EINVAL` (kernel/sys.c: unknown option), `rseq_slice_yield` →
   * `ENOSYS`, `RSEQ_FLAG_SLICE_EXT_DEFAULT_ON` → `EINVAL` (sys_rseq: unknown flag). Implies
   * `configured: false`.
   */
  extensionAbi?: boolean;
}

/** Options of {@link SimulatedThread.syscall} and {@link SimulatedThread.sliceYield}. */
export interface SyscallOptions {
  /**
   * Virtual nanoseconds the syscall spends in its entry before the slice work cancels the grant's
   * timer (default 0). The clock advances by that much there; a grant timer falling due in that
   * window counts an expiry, and then on a preemptive kernel the thread is scheduled inside the
   * entry and the work ends the grant with no counter (the yield answers 0), on a non-preemptive
   * one the work ends it as a yield or abort (kernel/rseq.c rseq_slice_expired,
   * rseq_syscall_enter_work). So `expirations` can exceed `revocations`, as debugfs sexpir can
   * exceed srevok.
   */
  entryNs?: number;
}

/** Options of {@link SimulatedThread.interrupt}: what the return from interrupt finds. */
export interface InterruptOptions {
  /** A reschedule is pending (default true: an interrupt without one changes nothing). */
  needResched?: boolean;
  /** Other exit work is pending: a signal, notify-resume… (default false). */
  workPending?: boolean;
}

/** Options of {@link SimulatedThread.registerRseq}. */
export interface RegisterOptions {
  /** Registration length: 32 is legacy (no extension), 33+ aligned to 64 optimized (default 64). */
  length?: number;
  /** Register with `RSEQ_FLAG_SLICE_EXT_DEFAULT_ON` (default false). */
  defaultOn?: boolean;
}

/** Per-thread event counters, named after debugfs `rseq/stats` where one exists. */
export interface SimulatedCounters {
  /** Extensions granted (sgrant). */
  grants: number;
  /** Grants revoked on an interrupt return: a second interrupt, pending work or expiry (srevok). */
  revocations: number;
  /**
   * Grant timers that fired while the grant was live (sexpir). One that fires in user space is
   * followed by a revocation; one that fires inside a syscall's entry is not (see
   * {@link SyscallOptions.entryNs}). Never more than `grants`.
   */
  expirations: number;
  /** Grants ended by rseq_slice_yield (syield). */
  yields: number;
  /** Grants ended by another syscall (sabort). */
  aborts: number;
  /** Context switches of this thread. */
  schedules: number;
}

type Registration = 'none' | 'legacy' | 'optimized';

/** Thrown by every call on a thread the simulated kernel killed. */
export class SimulatedSignal extends Error {
  readonly signal: 'SIGSEGV';
  constructor(readonly reason: string) {
    super(`simulated thread killed by SIGSEGV: ${reason}`);
    this.name = 'SimulatedSignal';
    this.signal = 'SIGSEGV';
  }
}

function fail(syscall: string, code: string, detail: string): never {
  throw new RseqError(syscall, knownErrno(code), detail);
}

function entryNsOption(call: string, options: SyscallOptions): number {
  checkOptionsObject(`${call} options`, options, ['entryNs']);
  return checkInteger('entryNs', options.entryNs, 0, 0, Number.MAX_SAFE_INTEGER);
}

/**
 * @internal SimulatedKernelOptions read and checked, every default applied: what a SimulatedKernel
 * is built from. Only readKernelOptions() makes one, so holding one means the options were read.
 */
export class KernelSettings implements Required<SimulatedKernelOptions> {
  readonly configured: boolean;
  readonly bootEnabled: boolean;
  readonly extensionNsec: number;
  readonly seed: number;
  readonly cpus: number;
  readonly preemptive: boolean;
  readonly extensionAbi: boolean;

  /** @internal */
  constructor(settings: Required<SimulatedKernelOptions>) {
    this.configured = settings.configured;
    this.bootEnabled = settings.bootEnabled;
    this.extensionNsec = settings.extensionNsec;
    this.seed = settings.seed;
    this.cpus = settings.cpus;
    this.preemptive = settings.preemptive;
    this.extensionAbi = settings.extensionAbi;
    Object.freeze(this);
  }
}

const KERNEL_KEYS = ['configured', 'bootEnabled', 'extensionNsec', 'seed', 'cpus', 'preemptive', 'extensionAbi'];

/**
 * @internal Reads a SimulatedKernel's options (`object` names them in errors as a whole, each one
 * as `${prefix}${name}`: open() passes its `simulator.seed` and `simulator.extensionNsec` through
 * with prefix `simulator.`). The extension length is bounded as the kernel bounds debugfs
 * `rseq/slice_ext_nsec` (SLICE_EXT_NSEC_MIN to SLICE_EXT_NSEC_MAX, SLICE_EXT_NSEC_DEFAULT at boot).
 */
export function readKernelOptions(options: unknown, object = 'SimulatedKernel options', prefix = ''): KernelSettings {
  checkOptionsObject(object, options, KERNEL_KEYS);
  const o = (options ?? {}) as SimulatedKernelOptions;
  const name = (key: keyof SimulatedKernelOptions): string => `${prefix}${key}`;
  // Checked in the order the constructor always checked them: the first bad option is the one named.
  return new KernelSettings({
    extensionAbi: checkBoolean(name('extensionAbi'), o.extensionAbi, true),
    configured: checkBoolean(name('configured'), o.configured, true),
    bootEnabled: checkBoolean(name('bootEnabled'), o.bootEnabled, true),
    seed: checkInteger(name('seed'), o.seed, 1, 0, 0xffffffff),
    cpus: checkInteger(name('cpus'), o.cpus, 2, 1, 4096),
    preemptive: checkBoolean(name('preemptive'), o.preemptive, true),
    extensionNsec: checkInteger(
      name('extensionNsec'),
      o.extensionNsec,
      SLICE_EXT_NSEC_DEFAULT,
      SLICE_EXT_NSEC_MIN,
      SLICE_EXT_NSEC_MAX,
    ),
  });
}

// The debugfs write's own answer outside the bounds (kernel/rseq.c): ERANGE, not an option error.
function rejectOutOfRangeExtensionNsec(ns: number): void {
  if (!Number.isInteger(ns) || ns < SLICE_EXT_NSEC_MIN || ns > SLICE_EXT_NSEC_MAX) {
    fail('write(rseq/slice_ext_nsec)', 'ERANGE', `${ns} is outside ${SLICE_EXT_NSEC_MIN}..${SLICE_EXT_NSEC_MAX} ns`);
  }
}

/** The simulated kernel: a virtual clock, the extension's global settings and its threads. */
export class SimulatedKernel {
  readonly configured: boolean;
  readonly bootEnabled: boolean;
  readonly seed: number;
  readonly cpus: number;
  readonly preemptive: boolean;
  readonly extensionAbi: boolean;
  /** What `getauxval(AT_RSEQ_FEATURE_SIZE)` / `AT_RSEQ_ALIGN` answer: 33 on 7.x, 28 before (6.3–6.x, up to mm_cid). */
  readonly featureSize: number;
  readonly alignment = RSEQ_ALLOC_ALIGN_SLICE_EXT;
  private nsec: number;
  private clock = 0;
  private readonly threadList: SimulatedThread[] = [];

  constructor(options: SimulatedKernelOptions = {}) {
    // open() passes the settings it read (naming its options simulator.seed…): not read again.
    const s = options instanceof KernelSettings ? options : readKernelOptions(options);
    this.extensionAbi = s.extensionAbi;
    this.configured = s.configured && s.extensionAbi;
    this.featureSize = s.extensionAbi ? RSEQ_FEATURE_SIZE_SLICE_EXT : RSEQ_FEATURE_SIZE_MM_CID;
    this.bootEnabled = s.bootEnabled;
    this.seed = s.seed;
    this.cpus = s.cpus;
    this.preemptive = s.preemptive;
    this.nsec = s.extensionNsec;
  }

  /** Virtual time in nanoseconds. */
  get now(): number {
    return this.clock;
  }

  /** The extension length, as debugfs `rseq/slice_ext_nsec` reads. */
  get extensionNsec(): number {
    return this.nsec;
  }

  /** Writes debugfs `rseq/slice_ext_nsec`: ERANGE outside 5000..50000. Applies to later grants. */
  setExtensionNsec(ns: number): void {
    rejectOutOfRangeExtensionNsec(ns);
    this.nsec = ns;
  }

  /** Moves the virtual clock forward, firing the expiry timers that fall due, in time order. */
  advance(ns: number): void {
    if (typeof ns !== 'number' || !Number.isFinite(ns) || ns < 0) {
      throw new RangeError(`advance(ns): ns must be a finite number >= 0; got ${String(ns)}`);
    }
    const target = this.clock + ns;
    for (;;) {
      let next: SimulatedThread | undefined;
      for (const t of this.threadList) {
        const expiry = t.grantExpiry;
        if (expiry !== null && expiry <= target && (next === undefined || expiry < (next.grantExpiry as number)))
          next = t;
      }
      if (next === undefined) break;
      this.clock = Math.max(this.clock, next.grantExpiry as number);
      next.expire();
    }
    this.clock = target;
  }

  /** A new thread: not registered, extension disabled (as a new thread starts). */
  createThread(): SimulatedThread {
    const t = new SimulatedThread(this, this.threadList.length % this.cpus, this.threadList.length);
    this.threadList.push(t);
    return t;
  }

  /** The threads of this kernel, in creation order (forked children included). */
  get threads(): readonly SimulatedThread[] {
    return this.threadList;
  }

  /** @internal a forked child's thread, which keeps its parent's state. */
  adoptThread(t: SimulatedThread): void {
    this.threadList.push(t);
  }
}

/**
 * One simulated thread and its rseq area. `area` is the thread's `struct rseq` (32 bytes, real
 * offsets) that user code reads and writes; the methods are the kernel entries that act on it.
 */
export class SimulatedThread {
  /** The thread's `struct rseq`, laid out as the kernel's. */
  // Declared, not inferred: the inferred Uint8Array<ArrayBuffer> in the .d.ts needs TypeScript 5.7.
  readonly area: Uint8Array = new Uint8Array(ORIG_RSEQ_SIZE);
  readonly counters: SimulatedCounters = {
    grants: 0,
    revocations: 0,
    expirations: 0,
    yields: 0,
    aborts: 0,
    schedules: 0,
  };
  private readonly view = new DataView(this.area.buffer);
  private registration: Registration = 'none';
  private registeredLength = 0;
  private enabledState = false;
  private expiry: number | null = null;
  // Inside a syscall's entry, before the slice work: a timer firing now does not revoke.
  private inEntry = false;
  // The grant's timer fired inside the entry: the grant lives on until the slice work ends it.
  private expiredInEntry = false;
  // The syscall-entry work a grant arms; it stays armed after a revocation until the next syscall.
  private sliceWork = false;
  private killed: SimulatedSignal | null = null;
  // What the kernel last wrote to the kernel-owned fields, to catch user space tampering.
  private kernelFlags = 0;
  private cpu: number;
  private mmCid: number;

  constructor(
    readonly kernel: SimulatedKernel,
    cpu: number,
    mmCid: number,
  ) {
    this.cpu = cpu;
    this.mmCid = mmCid;
    this.view.setInt32(OFFSET_CPU_ID, RSEQ_CPU_ID_UNINITIALIZED, true);
  }

  /** `null`, or `'SIGSEGV'` once the kernel killed the thread. */
  get terminated(): 'SIGSEGV' | null {
    return this.killed ? this.killed.signal : null;
  }

  /** Why the thread was killed, or null. */
  get terminationReason(): string | null {
    return this.killed ? this.killed.reason : null;
  }

  /** `'none'`, `'legacy'` (32 bytes) or `'optimized'`. */
  get registrationMode(): Registration {
    return this.registration;
  }

  /** The kernel's own view of the enabled state (what prctl GET answers). */
  get enabled(): boolean {
    return this.enabledState;
  }

  /** Virtual time the active grant expires at, or null when no grant is active. */
  get grantExpiry(): number | null {
    return this.expiry;
  }

  /** rseq(area, length, flags, RSEQ_SIG). Returns 0 or throws RseqError. */
  registerRseq(options: RegisterOptions = {}): number {
    this.alive();
    checkOptionsObject('registerRseq options', options, ['length', 'defaultOn']);
    const length = checkInteger('length', options.length, RSEQ_ALLOC_ALIGN_SLICE_EXT, 0, 0xffffffff);
    const defaultOn = checkBoolean('defaultOn', options.defaultOn, false);
    this.syscallEntry(false);
    if (defaultOn && !this.kernel.configured)
      fail('rseq', 'EINVAL', 'RSEQ_FLAG_SLICE_EXT_DEFAULT_ON is unknown to a kernel built without the extension');
    if (this.registration !== 'none') {
      if (length !== this.registeredLength) fail('rseq', 'EINVAL', 'this thread already registered an rseq area');
      fail('rseq', 'EBUSY', 'this area is already registered');
    }
    if (length < ORIG_RSEQ_SIZE) fail('rseq', 'EINVAL', `length ${length} is shorter than ${ORIG_RSEQ_SIZE}`);
    // A longer registration must cover the feature size (its address must also be aligned to
    // AT_RSEQ_ALIGN, which the simulated area always is).
    if (length !== ORIG_RSEQ_SIZE && length < this.kernel.featureSize) {
      fail(
        'rseq',
        'EINVAL',
        `a length other than ${ORIG_RSEQ_SIZE} must be at least the feature size ${this.kernel.featureSize}`,
      );
    }
    this.registration = length === ORIG_RSEQ_SIZE ? 'legacy' : 'optimized';
    this.registeredLength = length;
    this.writeIds();
    // flags are written on every registration (0 on a legacy one); slice_ctrl only on an optimized one.
    const available = this.registration === 'optimized' && this.kernel.configured && this.kernel.bootEnabled;
    this.enabledState = available && defaultOn;
    this.kernelFlags =
      (available ? RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE : 0) | (this.enabledState ? RSEQ_CS_FLAG_SLICE_EXT_ENABLED : 0);
    this.view.setUint32(OFFSET_FLAGS, this.kernelFlags, true);
    if (this.registration === 'optimized') this.view.setUint32(OFFSET_SLICE_CTRL, 0, true);
    return 0;
  }

  /** rseq(area, length, RSEQ_FLAG_UNREGISTER, RSEQ_SIG): drops the registration and the extension state. */
  unregisterRseq(): number {
    this.alive();
    this.syscallEntry(false);
    if (this.registration === 'none') fail('rseq', 'EINVAL', 'no rseq area is registered');
    // rseq_reset(): all kernel-side state goes (grant and enabled included); the user-space
    // flags and slice_ctrl bytes are left as they were.
    this.registration = 'none';
    this.registeredLength = 0;
    this.enabledState = false;
    this.expiry = null;
    this.sliceWork = false;
    this.kernelFlags = this.view.getUint32(OFFSET_FLAGS, true);
    this.view.setUint32(OFFSET_CPU_ID_START, 0, true);
    this.view.setInt32(OFFSET_CPU_ID, RSEQ_CPU_ID_UNINITIALIZED, true);
    this.view.setUint32(OFFSET_NODE_ID, 0, true);
    this.view.setUint32(OFFSET_MM_CID, 0, true);
    return 0;
  }

  /**
   * prctl(option, arg2, arg3, arg4, arg5), for option PR_RSEQ_SLICE_EXTENSION (79); any other
   * option answers EINVAL here. Returns the kernel's value or throws RseqError.
   */
  prctl(option: number, arg2 = 0, arg3 = 0, arg4 = 0, arg5 = 0): number {
    this.alive();
    const args = [option, arg2, arg3, arg4, arg5];
    args.forEach((a, i) => checkInteger(i === 0 ? 'option' : `arg${i + 1}`, a, 0, 0, Number.MAX_SAFE_INTEGER));
    this.syscallEntry(false);
    const name =
      arg2 === PR_RSEQ_SLICE_EXTENSION_GET
        ? 'prctl(PR_RSEQ_SLICE_EXTENSION_GET)'
        : arg2 === PR_RSEQ_SLICE_EXTENSION_SET
          ? 'prctl(PR_RSEQ_SLICE_EXTENSION_SET)'
          : 'prctl(PR_RSEQ_SLICE_EXTENSION)';
    if (option !== PR_RSEQ_SLICE_EXTENSION)
      fail(
        'prctl',
        'EINVAL',
        `option ${option} is not modelled (only PR_RSEQ_SLICE_EXTENSION = ${PR_RSEQ_SLICE_EXTENSION})`,
      );
    if (!this.kernel.extensionAbi) fail('prctl', 'EINVAL', 'PR_RSEQ_SLICE_EXTENSION is unknown before Linux 7.0');
    // kernel/sys.c checks arg4/arg5 before dispatching; a kernel built without the feature then
    // answers ENOTSUPP to every operation.
    if (arg4 !== 0 || arg5 !== 0) fail(name, 'EINVAL', 'arg4 and arg5 must be 0');
    if (!this.kernel.configured) fail(name, 'ENOTSUPP', 'kernel built without CONFIG_RSEQ_SLICE_EXTENSION');
    if (arg2 === PR_RSEQ_SLICE_EXTENSION_GET) {
      if (arg3 !== 0) fail(name, 'EINVAL', 'arg3 must be 0 for GET');
      return this.enabledState ? PR_RSEQ_SLICE_EXT_ENABLE : 0;
    }
    if (arg2 !== PR_RSEQ_SLICE_EXTENSION_SET) fail(name, 'EINVAL', `unknown operation ${arg2}`);
    if ((arg3 & ~PR_RSEQ_SLICE_EXT_ENABLE) !== 0) fail(name, 'EINVAL', 'arg3 must be 0 or PR_RSEQ_SLICE_EXT_ENABLE');
    if (!this.kernel.bootEnabled) fail(name, 'ENOTSUPP', 'disabled at boot (rseq_slice_ext=0)');
    if (this.registration === 'none') fail(name, 'ENXIO', 'no rseq area registered');
    if (this.registration === 'legacy') fail(name, 'ENOTSUPP', 'legacy (32-byte) rseq registration');
    const enable = arg3 === PR_RSEQ_SLICE_EXT_ENABLE;
    if (enable === this.enabledState) return 0;
    this.checkFlags();
    this.enabledState = enable;
    this.kernelFlags = RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE | (enable ? RSEQ_CS_FLAG_SLICE_EXT_ENABLED : 0);
    this.view.setUint32(OFFSET_FLAGS, this.kernelFlags, true);
    return 0;
  }

  /**
   * A return to user space from an interrupt. With a reschedule pending: grants an extension when
   * the thread enabled it and set `request`; revokes an active grant (a second interrupt) or when
   * other work is pending; otherwise schedules the thread out and back.
   */
  interrupt(options: InterruptOptions = {}): void {
    this.alive();
    checkOptionsObject('interrupt options', options, ['needResched', 'workPending']);
    const needResched = checkBoolean('needResched', options.needResched, true);
    const workPending = checkBoolean('workPending', options.workPending, false);
    this.checkUser();
    if (!needResched && !workPending) return;
    if (this.expiry !== null) {
      this.revoke();
      return;
    }
    if (!needResched) return; // other work runs and returns to user space; no switch
    if (this.registration === 'optimized' && this.enabledState && !workPending && this.area[OFFSET_REQUEST] !== 0) {
      this.area[OFFSET_REQUEST] = 0;
      this.area[OFFSET_GRANTED] = 1;
      this.expiry = this.kernel.now + this.kernel.extensionNsec;
      this.sliceWork = true;
      this.counters.grants++;
      return;
    }
    this.schedule(true);
  }

  /** Any syscall other than rseq_slice_yield: ends an active grant (counted as an abort) and schedules. */
  syscall(name = 'getpid', options: SyscallOptions = {}): number {
    this.alive();
    if (typeof name !== 'string' || name.length === 0)
      throw new TypeError(`syscall(name): name must be a non-empty string; got ${String(name)}`);
    this.syscallEntry(false, entryNsOption('syscall', options));
    return 0;
  }

  /** rseq_slice_yield(): 1 when it ended an active grant, 0 otherwise; ENOSYS before 7.0. */
  sliceYield(options: SyscallOptions = {}): 0 | 1 {
    this.alive();
    if (!this.kernel.extensionAbi) fail('rseq_slice_yield', 'ENOSYS', 'no such system call before Linux 7.0');
    // kernel/sys_ni.c COND_SYSCALL(rseq_slice_yield): kernel/rseq.c defines it only with the option.
    if (!this.kernel.configured)
      fail('rseq_slice_yield', 'ENOSYS', 'the kernel is built without CONFIG_RSEQ_SLICE_EXTENSION');
    return this.syscallEntry(true, entryNsOption('sliceYield', options)) ? 1 : 0;
  }

  /** fork(): a child thread (in this kernel) with the same area contents and extension state. */
  fork(): SimulatedThread {
    this.alive();
    this.syscallEntry(false);
    const child = new SimulatedThread(this.kernel, this.cpu, this.mmCid);
    child.area.set(this.area);
    child.registration = this.registration;
    child.registeredLength = this.registeredLength;
    child.enabledState = this.enabledState;
    child.kernelFlags = this.kernelFlags;
    child.sliceWork = false;
    this.kernel.adoptThread(child);
    return child;
  }

  /** @internal the expiry timer fired while the grant was held: revoke on the interrupt return. */
  expire(): void {
    this.counters.expirations++;
    if (!this.inEntry) {
      this.revoke();
      return;
    }
    // kernel/rseq.c rseq_slice_expired: sets need-resched; the grant stays until the slice work.
    this.expiry = null;
    this.expiredInEntry = true;
    if (this.kernel.preemptive) this.schedule(false);
  }

  private revoke(): void {
    this.counters.revocations++;
    this.expiry = null;
    this.view.setUint32(OFFSET_SLICE_CTRL, 0, true);
    this.schedule(true);
  }

  // Syscall entry. After a grant was issued (even if since revoked) the debug kernel checks that
  // slice_ctrl is exactly its own view: granted=1 request=0 while the grant lives, all zero once
  // it was revoked (so a new request=1 here is fatal). A live grant then ends as a yield or an
  // abort and the deferred reschedule happens. Returns whether a grant ended.
  private syscallEntry(isYield: boolean, entryNs = 0): boolean {
    this.checkUser();
    if (entryNs > 0) {
      this.inEntry = true;
      try {
        this.kernel.advance(entryNs);
      } finally {
        this.inEntry = false;
      }
    }
    const expiredInEntry = this.expiredInEntry;
    this.expiredInEntry = false;
    if (!this.sliceWork) return false;
    this.sliceWork = false;
    const live = this.expiry !== null || expiredInEntry;
    const expected = live ? SLICE_CTRL_GRANTED_ONLY : 0;
    if (this.view.getUint32(OFFSET_SLICE_CTRL, true) !== expected) {
      this.kill(
        live
          ? 'slice_ctrl changed by user space while a grant was outstanding (expected granted=1, request=0, reserved=0)'
          : 'slice_ctrl not clear at the first syscall after a revoked grant (request set again before any syscall)',
      );
    }
    if (!live) return false;
    this.expiry = null;
    this.view.setUint32(OFFSET_SLICE_CTRL, 0, true);
    // kernel/rseq.c rseq_syscall_enter_work: a thread already scheduled in the entry (sched_switch)
    // loses the grant with no counter, and its yield answers 0.
    if (expiredInEntry && this.kernel.preemptive) return false;
    if (isYield) this.counters.yields++;
    else this.counters.aborts++;
    this.schedule(false);
    return true;
  }

  // A context switch. Preempted from user space (fromIrq), an optimized registration gets its ids
  // rewritten and slice_ctrl cleared; a switch inside a syscall with unchanged ids leaves both.
  private schedule(fromIrq: boolean): void {
    this.counters.schedules++;
    if (this.registration === 'none' || !fromIrq) return;
    this.writeIds();
    if (this.registration === 'optimized') this.view.setUint32(OFFSET_SLICE_CTRL, 0, true);
  }

  private writeIds(): void {
    this.view.setUint32(OFFSET_CPU_ID_START, this.cpu, true);
    this.view.setInt32(OFFSET_CPU_ID, this.cpu, true);
    this.view.setUint32(OFFSET_NODE_ID, 0, true);
    this.view.setUint32(OFFSET_MM_CID, this.mmCid, true);
  }

  // The strict (rseq_debug) checks on each kernel entry of an optimized registration.
  private checkUser(): void {
    if (this.registration !== 'optimized') return;
    if (
      this.view.getUint32(OFFSET_CPU_ID_START, true) !== this.cpu ||
      this.view.getInt32(OFFSET_CPU_ID, true) !== this.cpu ||
      this.view.getUint32(OFFSET_NODE_ID, true) !== 0 ||
      this.view.getUint32(OFFSET_MM_CID, true) !== this.mmCid
    ) {
      this.kill('user space wrote a kernel-owned id field (cpu_id_start, cpu_id, node_id or mm_cid)');
    }
    this.checkFlags();
    if (this.expiry === null && this.area[OFFSET_GRANTED] !== 0) this.kill('user space set slice_ctrl.granted');
    if (this.area[OFFSET_SLICE_CTRL + 2] !== 0 || this.area[OFFSET_SLICE_CTRL + 3] !== 0)
      this.kill('user space wrote the reserved slice_ctrl bytes');
  }

  private checkFlags(): void {
    if (this.view.getUint32(OFFSET_FLAGS, true) !== this.kernelFlags) this.kill('user space changed rseq flags');
  }

  private kill(reason: string): never {
    this.killed = new SimulatedSignal(reason);
    this.expiry = null;
    this.expiredInEntry = false;
    this.sliceWork = false;
    throw this.killed;
  }

  private alive(): void {
    if (this.killed) throw this.killed;
  }
}
