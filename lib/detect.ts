/**
 * detect(): what this process and kernel can do, in plain words, for the calling thread. It never
 * throws: every failure becomes a reason (and an errno name where the kernel gave one).
 */
import * as fs from 'node:fs';
import {
  OFFSET_FLAGS,
  ORIG_RSEQ_SIZE,
  PR_RSEQ_SLICE_EXTENSION_GET,
  PR_RSEQ_SLICE_EXT_ENABLE,
  RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE,
  RSEQ_CS_FLAG_SLICE_EXT_ENABLED,
} from './abi';
import { addonState, type NativeAddon } from './addon';
import { probeEnable } from './native_backend';
import { errnoName } from './errors';
import { platformInfo, type PlatformInfo } from './platform';

/** Where the extension length knob lives: debugfs on merged kernels, a sysctl on pre-merge ones. */
const EXTENSION_NSEC_FILES = ['/sys/kernel/debug/rseq/slice_ext_nsec', '/proc/sys/kernel/rseq_slice_extension_nsec'];

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
  addon: { loaded: boolean; error?: string; btrl?: boolean };
  rseq: RseqDetection;
  sliceExtension: SliceExtensionDetection;
  /** The backend `open()` picks by default here. */
  backend: 'native' | 'simulator';
  /** How sections run on the native backend: JavaScript over the area, or calls into the addon. */
  fastPath: 'javascript' | 'native-call' | null;
}

function readNumberFile(file: string): number | null {
  try {
    const n = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

/** The extension length knob, or null when unreadable. */
export function readExtensionNsec(): number | null {
  for (const file of EXTENSION_NSEC_FILES) {
    const n = readNumberFile(file);
    if (n !== null) return n;
  }
  return null;
}

/** The value of `rseq_slice_ext=` on /proc/cmdline, or null. */
export function readBootParam(): string | null {
  try {
    const m = /(?:^|\s)rseq_slice_ext=(\S*)/.exec(fs.readFileSync('/proc/cmdline', 'utf8'));
    return m ? (m[1] as string) : null;
  } catch {
    return null;
  }
}

function bootDisabled(param: string | null): boolean {
  return param !== null && /^(0|off|n|no|false)$/i.test(param);
}

function explainBootDisabled(out: SliceExtensionDetection): void {
  out.reason = `the slice extension is disabled at boot (rseq_slice_ext=${out.bootParam} on the kernel command line)`;
  out.remedy = 'remove rseq_slice_ext= from the kernel command line';
}

const KERNEL_NEEDED = 'Linux 7.0 or later built with CONFIG_RSEQ_SLICE_EXTENSION=y';

function rseqReason(errno: number): string {
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

/** Fills in the slice-extension part from what the kernel answers. */
function probeSlice(addon: NativeAddon, rseq: RseqDetection, flagsWord: number, out: SliceExtensionDetection): void {
  out.flags = {
    available: (flagsWord & RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE) !== 0,
    enabled: (flagsWord & RSEQ_CS_FLAG_SLICE_EXT_ENABLED) !== 0,
  };
  const y = addon.sliceYield();
  out.yieldSyscall = y >= 0;
  const get = addon.prctl(PR_RSEQ_SLICE_EXTENSION_GET, 0, 0, 0);
  if (get < 0) {
    out.errno = errnoName(-get);
    if (out.errno === 'EINVAL') {
      out.reason = 'this kernel predates the slice extension (prctl PR_RSEQ_SLICE_EXTENSION answers EINVAL)';
      out.remedy = `run ${KERNEL_NEEDED}`;
    } else if (out.errno === 'ENOTSUPP' && bootDisabled(out.bootParam)) {
      explainBootDisabled(out);
    } else if (out.errno === 'ENOTSUPP') {
      out.reason = 'this kernel was built without CONFIG_RSEQ_SLICE_EXTENSION (prctl answers ENOTSUPP)';
      out.remedy = `run ${KERNEL_NEEDED}`;
    } else {
      out.reason = `prctl(PR_RSEQ_SLICE_EXTENSION_GET) failed with ${out.errno}`;
    }
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
  // boot): ask the kernel, and put the state back.
  const set = probeEnable(addon);
  if (set >= 0) {
    out.available = true;
    return;
  }
  out.errno = errnoName(-set);
  if (out.errno === 'ENOTSUPP' && bootDisabled(out.bootParam)) {
    explainBootDisabled(out);
  } else if (out.errno === 'ENOTSUPP' && rseq.mode === 'legacy') {
    out.reason =
      rseq.owner === 'libc'
        ? `libc registered a legacy ${ORIG_RSEQ_SIZE}-byte rseq area, and kernels from 7.0.10 on grant no extension to legacy registrations`
        : `the rseq area is a legacy ${ORIG_RSEQ_SIZE}-byte registration, which gets no extension`;
    out.remedy =
      'start the process with `rseq-slice exec -- COMMAND` (it adds GLIBC_TUNABLES=glibc.pthread.rseq=0, so rseq-slice registers an optimized area itself), or use glibc 2.41 or later';
  } else if (out.errno === 'ENXIO') {
    out.reason = 'the kernel sees no rseq registration for this thread (ENXIO)';
  } else {
    out.reason = `prctl(PR_RSEQ_SLICE_EXTENSION_SET) failed with ${out.errno}`;
  }
}

/**
 * What to do when the addon did not load. The package has no install script, so a platform with
 * no prebuilt binary (musl, an architecture not shipped) gets one only by an explicit build.
 */
function addonRemedy(error: string): string {
  if (error.includes('RSEQ_SLICE_DISABLE_ADDON')) return 'unset RSEQ_SLICE_DISABLE_ADDON';
  if (error.includes('RSEQ_SLICE_PLATFORM')) return 'unset RSEQ_SLICE_PLATFORM';
  return 'build the addon from source with `npx rseq-slice build` (needs a C++17 compiler, make and python3)';
}

/** Reports what works here and why not, for the calling thread. Never throws. */
export function detect(): Detection {
  const platform = platformInfo();
  const { addon, error } = addonState();
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
    addon: addon ? { loaded: true, btrl: addon.btrl } : { loaded: false, error: error ?? 'unknown error' },
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
    slice.remedy = addonRemedy(error ?? '');
    return result;
  }
  try {
    const info = addon.areaInfo(false);
    rseq.kernelFeatureSize = info.auxFeatureSize || null;
    rseq.kernelAlignment = info.auxAlign || null;
    rseq.libcRseqSize = info.libcSymbols ? info.libcRseqSize : null;
    let flagsWord = 0;
    if (info.owner !== 0) {
      rseq.registered = true;
      rseq.owner = info.owner === 1 ? 'libc' : 'addon';
      rseq.featureSize = info.featureSize;
      rseq.length = info.length;
      rseq.mode = info.length > ORIG_RSEQ_SIZE ? 'optimized' : 'legacy';
      flagsWord = addon.readField(OFFSET_FLAGS) ?? 0;
      result.fastPath = typeof addon.areaView() === 'number' ? 'native-call' : 'javascript';
    } else {
      rseq.reason = rseqReason(info.error);
      rseq.errno = errnoName(info.error);
    }
    probeSlice(addon, rseq, flagsWord, slice);
  } catch (err) {
    slice.reason = `detection failed unexpectedly: ${err instanceof Error ? err.message : String(err)}`;
  }
  result.backend = slice.available && process.env.RSEQ_SLICE_BACKEND !== 'simulator' ? 'native' : 'simulator';
  return result;
}
