/**
 * detect(): what this process and kernel can do, in plain words, for the calling thread. It never
 * throws: every failure becomes a reason (and an errno name where the kernel gave one).
 */
import {
  OFFSET_FLAGS,
  ORIG_RSEQ_SIZE,
  PR_RSEQ_SLICE_EXTENSION_GET,
  PR_RSEQ_SLICE_EXT_ENABLE,
  RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE,
  RSEQ_CS_FLAG_SLICE_EXT_ENABLED,
} from './kernel/abi';
import { AREA_OWNER, addonState, type NativeAddon, type NativeAreaInfo } from './addon/addon';
import { probeEnable } from './addon/native_backend';
import { errnoName, knownErrno, RseqError } from './errors';
import { envBackend, type BackendChoice } from './backend_choice';
import { platformInfo, type PlatformInfo } from './kernel/platform';
import { bootParamDisables, readBootParam, readExtensionNsec } from './kernel/knobs';

export interface RseqDetection {
  /** The calling thread has a registered rseq area. */
  registered: boolean;
  /** Who registered it: libc, this addon (when libc did not), or nobody. */
  owner: 'libc' | 'addon' | null;
  /** Bytes of the area the kernel keeps up to date (the usable feature size). */
  featureSize: number | null;
  /** `'legacy'` for a 32-byte registration (no slice extension on 7.0.10+), `'optimized'` for a longer one. */
  mode: 'legacy' | 'optimized' | null;
  /** Registration length in bytes. */
  length: number | null;
  /** `getauxval(AT_RSEQ_FEATURE_SIZE)` and `AT_RSEQ_ALIGN` (null when the kernel does not say). */
  kernelFeatureSize: number | null;
  kernelAlignment: number | null;
  /** glibc's `__rseq_size` (0: glibc did not register; null: no such symbol). */
  libcRseqSize: number | null;
  reason?: string;
  errno?: string;
}

export interface SliceExtensionDetection {
  /** The kernel can grant extensions to this thread. */
  available: boolean;
  /** Enabled for this thread now (prctl GET). */
  enabled: boolean;
  /** The AVAILABLE and ENABLED bits the kernel wrote into the area's `flags`. */
  flags: { available: boolean; enabled: boolean };
  /** The rseq_slice_yield syscall exists. */
  yieldSyscall: boolean;
  /** The extension length in ns, when the kernel knob is readable (debugfs needs root). */
  extensionNsec: number | null;
  /** The `rseq_slice_ext=` value on the kernel command line, or null when absent. */
  bootParam: string | null;
  /** Why it is not available. */
  reason?: string;
  /** The errno name of the call that said no. */
  errno?: string;
  /** What to do about it. */
  remedy?: string;
}

export interface Detection {
  platform: PlatformInfo;
  /** Whether the native addon loaded, the binary it loaded from (or tried), or why it did not. */
  addon: { loaded: boolean; path?: string; error?: string; btrl?: boolean };
  rseq: RseqDetection;
  sliceExtension: SliceExtensionDetection;
  /**
   * The backend `open()` picks by default here (RSEQ_SLICE_BACKEND included), or null when it would
   * throw instead: `backendError` then has its message.
   */
  backend: 'native' | 'simulator' | null;
  /** Why `open()` would throw with default options (a bad RSEQ_SLICE_BACKEND, or `native` forced where the kernel cannot grant). */
  backendError?: string;
  /** How sections run on the native backend: JavaScript over the area, or calls into the addon. */
  fastPath: 'javascript' | 'native-call' | null;
}

const KERNEL_NEEDED = 'Linux 7.0 or later built with CONFIG_RSEQ_SLICE_EXTENSION=y';

/**
 * How to get such a kernel where the distribution's kernel leaves the option off (Debian's 7.2
 * amd64 does): its own config with the one option turned on.
 */
const KERNEL_BUILD =
  "a kernel built with CONFIG_RSEQ_SLICE_EXTENSION=y: in its source tree, start from your distribution's config, `scripts/config --enable RSEQ_SLICE_EXTENSION`, `make olddefconfig`, build; or ask your vendor to enable it";

/**
 * Why no arm64 kernel grants: init/Kconfig makes RSEQ_SLICE_EXTENSION depend on GENERIC_ENTRY
 * and HAVE_GENERIC_TIF_BITS, which arch/arm64/Kconfig does not select as of 7.2 (Debian's 7.2.13
 * arm64 config has GENERIC_IRQ_ENTRY only; a conversion was still on the list in 2026); x86,
 * s390, loongarch and riscv select both.
 */
const ARM64_NO_EXTENSION =
  'arm64 kernels do not offer the slice extension yet (CONFIG_RSEQ_SLICE_EXTENSION needs GENERIC_ENTRY, which arm64 does not select as of Linux 7.2)';
const ARM64_GRANTS_ELSEWHERE =
  'sections still run (on the simulator) and cost almost nothing here; grants need an x86-64 kernel (or s390, riscv or loongarch, which have GENERIC_ENTRY) built with CONFIG_RSEQ_SLICE_EXTENSION=y';

/** @internal The platform facts an explanation depends on: platformInfo()'s, or a test's. */
export type ExplainPlatform = Pick<PlatformInfo, 'arch' | 'kernelVersion'>;

/** Linux 7.0 or later: the first release with prctl PR_RSEQ_SLICE_EXTENSION. Unknown counts as older. */
function knowsSlicePrctl(version: PlatformInfo['kernelVersion']): boolean {
  return version !== null && version[0] >= 7;
}

/** @internal Why registering rseq failed (`errno` positive), as detect() says it. */
export function rseqReason(errno: number): string {
  switch (errnoName(errno)) {
    case 'ENOSYS':
      return 'the kernel has no rseq system call, or a seccomp filter hides it (ENOSYS)';
    case 'EPERM':
      return 'registering rseq is forbidden, usually by a seccomp filter (EPERM)';
    case 'EINVAL':
      return 'the kernel refused the registration (EINVAL): another component may have registered an rseq area for this thread';
    default:
      return `registering rseq failed (${errnoName(errno)})`;
  }
}

/** @internal Which prctl said no, and what was known when it did. */
export interface SliceRefusal {
  call: 'GET' | 'SET';
  rseq: Pick<RseqDetection, 'owner' | 'mode'>;
  bootParam: string | null;
  platform: ExplainPlatform;
}

interface SliceRefusalRow {
  /** The errno name the row explains; undefined for any. */
  errno?: string;
  when: (r: SliceRefusal) => boolean;
  reason: (r: SliceRefusal, errno: string) => string;
  remedy?: string;
}

/**
 * Why prctl(PR_RSEQ_SLICE_EXTENSION_GET or _SET) failed, first matching row wins; both calls use
 * it. From kernel/rseq.c rseq_slice_extension_prctl and kernel/sys.c (7.0 to 7.2): a kernel
 * before 7.0 does not know the option (prctl's default case, EINVAL); from 7.0 on kernel/sys.c
 * always dispatches it, and a kernel built without CONFIG_RSEQ_SLICE_EXTENSION answers every
 * operation with the stub's ENOTSUPP (include/linux/rseq.h). With the option, GET only reports
 * the state (never ENOTSUPP, even when disabled at boot); SET answers ENOTSUPP when disabled at
 * boot or on a legacy (v1) registration, ENXIO when the thread has no registration.
 */
const SLICE_REFUSALS: readonly SliceRefusalRow[] = [
  {
    // First, whatever the errno: GET fails on arm64 only because no arm64 kernel has the option
    // (EINVAL before 7.0, ENOTSUPP after, or a filter); rebuilding the kernel cannot change it.
    when: (r) => r.call === 'GET' && r.platform.arch === 'arm64',
    reason: (_r, errno) => `${ARM64_NO_EXTENSION}; prctl PR_RSEQ_SLICE_EXTENSION answers ${errno}`,
    remedy: ARM64_GRANTS_ELSEWHERE,
  },
  {
    errno: 'EINVAL',
    when: (r) => r.call === 'GET' && !knowsSlicePrctl(r.platform.kernelVersion),
    reason: () => 'this kernel predates the slice extension (prctl PR_RSEQ_SLICE_EXTENSION answers EINVAL)',
    remedy: `run ${KERNEL_NEEDED}`,
  },
  {
    // 7.0+ answers valid GET arguments with a state or ENOTSUPP, never EINVAL: something between
    // (a seccomp filter, a patched kernel) refuses the call.
    errno: 'EINVAL',
    when: (r) => r.call === 'GET',
    reason: (r) =>
      `this ${(r.platform.kernelVersion ?? []).slice(0, 2).join('.')} kernel answers prctl PR_RSEQ_SLICE_EXTENSION with EINVAL, which a 7.0+ kernel never answers to this call (built without CONFIG_RSEQ_SLICE_EXTENSION they answer ENOTSUPP): a seccomp filter or a kernel patch refuses the call`,
    remedy: `allow prctl in the seccomp profile, or run ${KERNEL_NEEDED}`,
  },
  {
    errno: 'ENOTSUPP',
    when: (r) => r.call === 'SET' && bootParamDisables(r.bootParam),
    reason: (r) => `the slice extension is disabled at boot (rseq_slice_ext=${r.bootParam} on the kernel command line)`,
    remedy: 'remove rseq_slice_ext= from the kernel command line',
  },
  {
    errno: 'ENOTSUPP',
    when: (r) => r.call === 'GET',
    reason: () =>
      "this kernel was built without CONFIG_RSEQ_SLICE_EXTENSION, as many distributions' stock kernels are (Debian's 7.2 amd64, for one): prctl PR_RSEQ_SLICE_EXTENSION answers ENOTSUPP",
    remedy: `run ${KERNEL_BUILD}`,
  },
  {
    errno: 'ENOTSUPP',
    when: (r) => r.rseq.mode === 'legacy',
    reason: (r) =>
      r.rseq.owner === 'libc'
        ? `libc registered a legacy ${ORIG_RSEQ_SIZE}-byte rseq area, and kernels from 7.0.10 on grant no extension to legacy registrations`
        : `the rseq area is a legacy ${ORIG_RSEQ_SIZE}-byte registration, which gets no extension`,
    remedy:
      'start the process with `rseq-slice exec -- COMMAND` (it adds GLIBC_TUNABLES=glibc.pthread.rseq=0, so rseq-slice registers an optimized area itself), or use glibc 2.41 or later',
  },
  {
    errno: 'ENXIO',
    when: (r) => r.call === 'SET',
    reason: () => 'the kernel sees no rseq registration for this thread (ENXIO)',
  },
];

/** @internal The errno name, reason and remedy of a failed prctl, from SLICE_REFUSALS. */
export function explainRefusal(
  errno: number,
  refusal: SliceRefusal,
): { errno: string; reason: string; remedy?: string } {
  const name = errnoName(errno);
  const row = SLICE_REFUSALS.find((r) => (r.errno === undefined || r.errno === name) && r.when(refusal));
  if (!row) return { errno: name, reason: `prctl(PR_RSEQ_SLICE_EXTENSION_${refusal.call}) failed with ${name}` };
  return row.remedy === undefined
    ? { errno: name, reason: row.reason(refusal, name) }
    : { errno: name, reason: row.reason(refusal, name), remedy: row.remedy };
}

/** @internal Who registered a thread's (registered) area, and whether it is legacy or optimized. */
export function registeredArea(info: NativeAreaInfo): Pick<RseqDetection, 'owner' | 'mode'> {
  return {
    owner: info.owner === AREA_OWNER.libc ? 'libc' : 'addon',
    mode: info.length > ORIG_RSEQ_SIZE ? 'optimized' : 'legacy',
  };
}

/**
 * @internal The RseqError for a failed prctl(PR_RSEQ_SLICE_EXTENSION_GET or _SET) (`rc` its
 * -errno), with the reason and remedy detect() gives for it, so open() and detect() say the same.
 */
export function refusalError(rc: number, refusal: Pick<SliceRefusal, 'call' | 'rseq'>): RseqError {
  const { reason, remedy } = explainRefusalHere(-rc, refusal);
  return new RseqError(`prctl(PR_RSEQ_SLICE_EXTENSION_${refusal.call})`, -rc, reason, remedy);
}

/**
 * @internal explainRefusal() judged with this host's boot parameter and platform: what open()'s
 * errors and explainThreadError() say for a refusal met outside detect().
 */
export function explainRefusalHere(
  errno: number,
  refusal: Pick<SliceRefusal, 'call' | 'rseq'>,
): { errno: string; reason: string; remedy?: string } {
  return explainRefusal(errno, { ...refusal, bootParam: readBootParam(), platform: platformInfo() });
}

/** Fills in the slice-extension part from what the kernel answers. */
function probeSlice(
  addon: NativeAddon,
  platform: ExplainPlatform,
  rseq: RseqDetection,
  flagsWord: number,
  out: SliceExtensionDetection,
): void {
  out.flags = {
    available: (flagsWord & RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE) !== 0,
    enabled: (flagsWord & RSEQ_CS_FLAG_SLICE_EXT_ENABLED) !== 0,
  };
  // Harmless outside a grant: kernel/rseq.c sys_rseq_slice_yield only returns and clears
  // slice.yielded, which the syscall-entry work sets only for this very call inside a grant, so
  // here it answers 0 (or ENOSYS) and changes nothing.
  out.yieldSyscall = addon.sliceYield() >= 0;
  const get = addon.prctl(PR_RSEQ_SLICE_EXTENSION_GET, 0, 0, 0);
  if (get < 0) {
    Object.assign(out, explainRefusal(-get, { call: 'GET', rseq, bootParam: out.bootParam, platform }));
    return;
  }
  out.enabled = get === PR_RSEQ_SLICE_EXT_ENABLE;
  if (!rseq.registered) {
    out.reason = `no rseq area is registered for this thread: ${rseq.reason ?? 'unknown reason'}`;
    return;
  }
  if (out.enabled) {
    out.available = true;
    return;
  }
  // The AVAILABLE bit alone is not proof (7.0 before the legacy fix set it even when disabled at
  // boot): ask the kernel. probeEnable puts it back exactly: kernel/rseq.c
  // rseq_slice_extension_prctl (7.2, lines 768-788) SET only accepts an area whose flags have
  // AVAILABLE (and ENABLED iff enabled), clears ENABLED, sets AVAILABLE and sets ENABLED only when
  // enabling, then stores slice.state.enabled: enable then disable leaves the flags word and the
  // state as they were (ENABLED clear, disabled). Nothing else in the task changes.
  const set = probeEnable(addon);
  if (set >= 0) {
    out.available = true;
    return;
  }
  Object.assign(out, explainRefusal(-set, { call: 'SET', rseq, bootParam: out.bootParam, platform }));
}

/**
 * @internal What to do when the addon did not load. The package has no install script, so a
 * platform with no prebuilt binary (musl, an architecture not shipped) gets one only by an
 * explicit build. On arm64 loading it brings no grants (no arm64 kernel has the extension), so
 * the remedy says so rather than promise them.
 */
export function addonRemedy(error: string, platform: ExplainPlatform): string {
  const load = error.includes('RSEQ_SLICE_DISABLE_ADDON')
    ? 'unset RSEQ_SLICE_DISABLE_ADDON'
    : error.includes('RSEQ_SLICE_PLATFORM')
      ? 'unset RSEQ_SLICE_PLATFORM'
      : 'build the addon from source with `npx rseq-slice build` (needs a C++17 compiler, make and python3)';
  if (platform.arch !== 'arm64') return load;
  return `no remedy brings grants: ${ARM64_NO_EXTENSION}; ${ARM64_GRANTS_ELSEWHERE}. For cpu() from the kernel's rseq area, ${load}`;
}

/**
 * Reports what works here and why not, for the calling thread. Never throws.
 *
 * It leaves the thread as it found it. To ask the kernel it needs an rseq area: libc's, the one
 * an earlier open() or cpu() reader in this thread resolved, or else the addon's own, which it
 * registers for the question and unregisters again before returning (the kernel then holds no
 * registration and no extension state for the thread; a later open() registers afresh). Where
 * the extension is disabled it probes `prctl SET` enable and disables again, which restores the
 * kernel state and the area's `flags` word exactly; `rseq_slice_yield` outside a grant answers 0
 * and changes nothing. What stays: the addon is loaded into the process (as by any use of the
 * package), the addon's per-thread bookkeeping (a few bytes), and the answer to "does this runtime
 * allow external buffers", found once per thread by wrapping 8 bytes of the addon's own (never
 * the area, whose single view stays free for open()). The kernel's system-wide debugfs
 * `rseq/stats` counters count the probe registration's updates like any other thread's.
 * Exceptions: if the kernel refused to unregister that area (it cannot for the addon's own), it
 * stays registered and `rseq.reason` says so; called inside an open section, its system calls end
 * any live grant, as every system call does.
 */
export function detect(): Detection {
  const platform = platformInfo();
  const { addon, error, path: binary } = addonState();
  const rseq: RseqDetection = {
    registered: false,
    owner: null,
    featureSize: null,
    mode: null,
    length: null,
    kernelFeatureSize: null,
    kernelAlignment: null,
    libcRseqSize: null,
  };
  const slice: SliceExtensionDetection = {
    available: false,
    enabled: false,
    flags: { available: false, enabled: false },
    yieldSyscall: false,
    extensionNsec: null,
    bootParam: null,
  };
  const result: Detection = {
    platform,
    addon: addon
      ? { loaded: true, ...(binary === undefined ? {} : { path: binary }), btrl: addon.btrl }
      : { loaded: false, ...(binary === undefined ? {} : { path: binary }), error: error ?? 'unknown error' },
    rseq,
    sliceExtension: slice,
    backend: 'simulator',
    fastPath: null,
  };
  if (platform.os !== 'linux') {
    rseq.reason = slice.reason = 'rseq exists only on Linux';
    return result;
  }
  slice.extensionNsec = readExtensionNsec();
  slice.bootParam = readBootParam();
  if (!addon) {
    rseq.reason = slice.reason = `the native addon did not load (${error}); the simulator runs instead`;
    slice.remedy = addonRemedy(error ?? '', platform);
    return result;
  }
  try {
    // Inside the probe an area this call had to register is unregistered again at the end.
    const released = addon.probes.withThreadArea(() => {
      const info = addon.areaInfo(false);
      rseq.kernelFeatureSize = info.auxFeatureSize || null;
      rseq.kernelAlignment = info.auxAlign || null;
      rseq.libcRseqSize = info.libcSymbols ? info.libcRseqSize : null;
      let flagsWord = 0;
      if (info.owner !== AREA_OWNER.none) {
        rseq.registered = true;
        Object.assign(rseq, registeredArea(info));
        rseq.featureSize = info.featureSize;
        rseq.length = info.length;
        flagsWord = addon.readField(OFFSET_FLAGS) ?? 0;
        result.fastPath = addon.probes.externalBuffers() ? 'javascript' : 'native-call';
      } else {
        // 0 when the addon found no errno to report: say ENOSYS, as open() does.
        const errno = info.error || knownErrno('ENOSYS');
        rseq.reason = rseqReason(errno);
        rseq.errno = errnoName(errno);
      }
      probeSlice(addon, platform, rseq, flagsWord, slice);
    });
    if (released < 0) {
      // Cannot happen for the addon's own area (same address, length and signature), but say so.
      rseq.errno = errnoName(-released);
      rseq.reason = `the rseq area detect() registered to ask the kernel could not be unregistered (${rseq.errno}); it stays registered`;
    }
  } catch (err) {
    slice.reason = `detection failed unexpectedly: ${err instanceof Error ? err.message : String(err)}`;
  }
  // The same reading of RSEQ_SLICE_BACKEND as open()'s, and the same answer.
  let choice: BackendChoice;
  try {
    choice = envBackend();
  } catch (err) {
    result.backend = null;
    result.backendError = err instanceof Error ? err.message : String(err);
    return result;
  }
  if (choice === 'native' && !slice.available) {
    result.backend = null;
    result.backendError = `RSEQ_SLICE_BACKEND=native, but the kernel cannot grant here: ${slice.reason ?? 'unknown reason'}`;
  } else {
    result.backend = slice.available && choice !== 'simulator' ? 'native' : 'simulator';
  }
  return result;
}
