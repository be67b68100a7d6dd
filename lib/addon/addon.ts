/**
 * Loads the native addon (a prebuilt binary shipped in the package, or the local build) and
 * describes its surface. Loading never throws: a failure is kept and reported by detect().
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as abi from '../kernel/abi';
import { platformOverride } from '../kernel/platform';
import { PACKAGE_ROOT } from '../package_root';

declare const nativeApiBrand: unique symbol;

/**
 * rseq-slice's C function table (`struct rseq_slice_api` of include/rseq_slice.h), a
 * `napi_external` with no JavaScript properties. Pass it to a consumer addon's init, which takes
 * the table out with `rseq_slice_api_from_napi()`.
 */
export interface NativeApi {
  readonly [nativeApiBrand]: 'rseq-slice native API';
}

/** Who registered the thread's area: native/rseq_area.h `AreaOwner`, numbered alike. */
export const AREA_OWNER = { none: 0, libc: 1, addon: 2 } as const;
export type AreaOwner = (typeof AREA_OWNER)[keyof typeof AREA_OWNER];

/** What native/addon.cc returns for the calling thread's area. */
export interface NativeAreaInfo {
  owner: AreaOwner;
  length: number;
  featureSize: number;
  error: number;
  defaultOn: boolean;
  libcSymbols: boolean;
  libcRseqSize: number;
  auxFeatureSize: number;
  auxAlign: number;
  alignment: number;
}

/** The ABI numbers of lib/kernel/abi.ts, as the addon compiled them (native/constants.cc). */
export type NativeConstants = {
  readonly [K in keyof typeof abi as (typeof abi)[K] extends number ? K : never]: number;
};

/**
 * Diagnostics for the test suite and `rseq-slice check` (native/diagnostics.cc).
 * @internal Not part of the package's API: may change or go in any release.
 */
export interface NativeDiagnostics {
  /** Registers a separate area (RSEQ_ALLOC_ALIGN_SLICE_EXT bytes, as aligned) with this length (0 to that) and flags; 0 or -errno. */
  rawRegister(length: number, flags: number): number;
  /** Unregisters the separate area; 0 or -errno. */
  rawUnregister(): number;
  /** The separate area's `flags` word. */
  rawFlags(): number;
  /** fork() a child that exits with prctl GET in bit 0 and the ENABLED flag in bit 1 (100: GET failed). */
  forkProbe(): number;
  /** The addon's own areas registered now, process-wide (they are unregistered at thread exit). */
  ownAreas(): number;
  /**
   * Requests a grant on this thread's area, waits up to `waitNs` for it, then does the action
   * (lib/lab/conformance/instants.ts): the ten numbers it reports, or -ENXIO without an optimized area.
   */
  grantInstant(action: number, waitNs: number, holdLimitNs: number): number[] | number;
}

/**
 * The benchmark's native entries (native/bench_loop.cc, the addon's `bench` object): sections at
 * C++ speed for `rseq-slice bench`, `npm run bench` and the tests. Internal: not part of the API.
 * @internal
 */
export interface NativeBench {
  /** `count` sections in C++, each spinning `spinNs`: [clean, yielded, raced, revoked] or -errno. */
  sectionLoop(count: number, spinNs: number): [number, number, number, number] | number;
  /** The benchmark's C++ spin-lock loop: [sections, recorded, clean, yielded, raced, revoked] or -errno. */
  spinLockLoop(
    word: Int32Array,
    stop: Int32Array,
    request: boolean,
    minNs: number,
    maxNs: number,
    seed: number,
    baseNs: bigint,
    acquired: Float64Array,
    released: Float64Array,
    waits: Float64Array,
  ): [number, number, number, number, number, number] | number;
  /** sched_getcpu() through N-API (the baseline of `cpu()` read from the area): the CPU or -errno. */
  schedGetcpu(): number;
}

/**
 * The addon's exports on Linux (numbers are results or -errno). Arguments are checked in C++
 * (native/napi_args.h): a wrong type throws a TypeError, a value out of range a RangeError.
 */
export interface NativeAddon {
  areaInfo(defaultOn: boolean): NativeAreaInfo;
  /** The thread's area as a 32-byte ArrayBuffer; -errno without an area; 1 if refused. */
  areaView(): ArrayBuffer | number;
  /**
   * The thread's section depth (include/rseq_slice.h `rseq_slice_thread.depth`) as a 4-byte
   * ArrayBuffer, shared with addons' native sections; 1 where the runtime refuses external buffers.
   */
  threadNesting(): ArrayBuffer | number;
  /** The signed 32-bit field at this byte offset of the area (a multiple of 4, 0 to 28); null without an area. */
  readField(offset: number): number | null;
  /** prctl(PR_RSEQ_SLICE_EXTENSION, op, arg3, arg4, arg5); each argument 0 to 2**32 - 1. */
  prctl(op: number, arg3: number, arg4: number, arg5: number): number;
  sliceYield(): number;
  enter(): number;
  exit(): number;
  /** execvp(file, argv, env as NAME=value strings): never returns on success; -errno on failure. */
  execvp(file: string, argv: string[], env: string[]): number;
  /** Marks `threadId` (this thread's) ended at its environment's teardown: 0, or -EEXIST when this thread watches another id. */
  watchThread(threadId: number): number;
  /** Whether a watched thread with this id has ended (false for an id never watched). */
  threadEnded(threadId: number): boolean;
  /** @internal Not part of the API: see {@link NativeBench}. */
  readonly bench: NativeBench;
  /** @internal Not part of the API: see {@link NativeDiagnostics}. */
  readonly diagnostics: NativeDiagnostics;
  /** What detect() asks without leaving anything behind (native/addon.cc ProbeExports). */
  readonly probes: {
    /**
     * Runs fn; an rseq area only fn's calls registered is unregistered after it. Returns 1 when it
     * released one, 0 when there was none to release (or a view of it was made), -errno when the
     * kernel refused the unregistration (the area then stays registered).
     */
    withThreadArea(fn: () => void): number;
    /** Whether this runtime allows external ArrayBuffers (asked once per thread, never over the area). */
    externalBuffers(): boolean;
  };
  /** The ABI numbers the addon was compiled with (frozen). */
  readonly constants: NativeConstants;
  readonly btrl: boolean;
  /** The C function table for other addons (native/native_api.cc); absent where the runtime refused to tag it. */
  readonly native?: NativeApi;
}

export interface AddonState {
  addon: NativeAddon | null;
  /** The binary that loaded (a source build in native/build, else the fitting prebuild). */
  path?: string;
  error?: string;
}

/**
 * Where a source build lands: node-gyp runs in native/ (binding.gyp is kept out of the package
 * root so that npm never compiles at install), so its output is native/build/Release.
 */
const SOURCE_BUILD = path.join(PACKAGE_ROOT, 'native', 'build', 'Release', 'rseq_slice.node');

/**
 * The binary to load: a source build when there is one (the user ran `rseq-slice build`, or this
 * is the repository), else what node-gyp-build picks from prebuilds/ for this platform and libc
 * (it throws "No native build was found for ..." when none fits). Whatever loads the addon
 * (workers, test fixtures, the guest's scenario) asks here, so all load the same file.
 * @internal
 */
export function addonBinaryPath(): string {
  if (fs.existsSync(SOURCE_BUILD)) return SOURCE_BUILD;
  const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };
  return nodeGypBuild.path(PACKAGE_ROOT);
}

let state: AddonState | undefined;

function load(): AddonState {
  // Test hook and escape hatch: run without the addon, as where no binary fits the platform.
  if (process.env.RSEQ_SLICE_DISABLE_ADDON === '1') {
    return { addon: null, error: 'disabled by RSEQ_SLICE_DISABLE_ADDON=1' };
  }
  try {
    const simulated = platformOverride();
    if (simulated && (simulated.os !== process.platform || simulated.arch !== process.arch)) {
      return {
        addon: null,
        error: `no native binary for ${simulated.os}-${simulated.arch} can load in this ${process.platform}-${process.arch} process (RSEQ_SLICE_PLATFORM simulates that platform)${simulated.os === 'linux' ? '' : '; rseq exists only on Linux'}`,
      };
    }
    const binary = addonBinaryPath();
    const loaded = require(binary) as Partial<NativeAddon> & { unsupported?: string };
    if (typeof loaded.unsupported === 'string') return { addon: null, path: binary, error: loaded.unsupported };
    if (typeof loaded.areaInfo !== 'function')
      return { addon: null, path: binary, error: 'the loaded addon has an unexpected surface' };
    return { addon: loaded as NativeAddon, path: binary };
  } catch (err) {
    return { addon: null, error: err instanceof Error ? err.message.split('\n')[0] : String(err) };
  }
}

/** The addon, loaded once per thread on first use. */
export function addonState(): AddonState {
  if (state === undefined) state = load();
  return state;
}
