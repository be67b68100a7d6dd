/** The platform facts detect() reports: operating system, architecture, kernel and libc. */
import * as os from 'node:os';

export interface PlatformInfo {
  /** `process.platform`, e.g. `'linux'`. */
  os: string;
  /** `process.arch`, e.g. `'x64'`. */
  arch: string;
  /** Kernel release (`uname -r`). */
  kernel: string;
  /** Kernel version as [major, minor, patch] when the release string starts with one. */
  kernelVersion: [number, number, number] | null;
  /** `'glibc 2.36'`, `'musl'`, or `'unknown'`. */
  libc: string;
  /** glibc version as [major, minor], or null for other libcs. */
  glibcVersion: [number, number] | null;
}

interface ReportHeader {
  glibcVersionRuntime?: string;
}

let cached: PlatformInfo | undefined;

/**
 * The platform this process runs on as `os-arch`, or as RSEQ_SLICE_PLATFORM says (a test hook that
 * simulates another platform, e.g. `darwin-arm64`: the addon is then not loaded).
 */
export function platformOverride(): { os: string; arch: string } | null {
  const value = process.env.RSEQ_SLICE_PLATFORM;
  if (value === undefined || value === '') return null;
  const m = /^([a-z0-9]+)-([a-z0-9]+)$/.exec(value);
  if (!m)
    throw new TypeError(
      `env RSEQ_SLICE_PLATFORM must look like os-arch (e.g. linux-arm64, darwin-x64); got ${JSON.stringify(value)}`,
    );
  return { os: m[1] as string, arch: m[2] as string };
}

export function platformInfo(): PlatformInfo {
  if (cached) return cached;
  let override: { os: string; arch: string } | null = null;
  try {
    override = platformOverride();
  } catch {
    // A malformed override is reported by the addon loader (detect().addon.error), not thrown here.
  }
  const kernel = os.release();
  const k = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(kernel);
  let libc = 'unknown';
  let glibcVersion: [number, number] | null = null;
  if (process.platform === 'linux' && (override === null || override.os === 'linux')) {
    const header = (process.report?.getReport() as { header?: ReportHeader } | undefined)?.header;
    const g = header?.glibcVersionRuntime;
    if (g) {
      libc = `glibc ${g}`;
      const m = /^(\d+)\.(\d+)/.exec(g);
      if (m) glibcVersion = [Number(m[1]), Number(m[2])];
    } else {
      libc = 'musl';
    }
  }
  cached = {
    os: override?.os ?? process.platform,
    arch: override?.arch ?? process.arch,
    kernel,
    kernelVersion: k ? [Number(k[1]), Number(k[2]), Number(k[3] ?? 0)] : null,
    libc,
    glibcVersion,
  };
  return cached;
}
