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

export function platformInfo(): PlatformInfo {
  if (cached) return cached;
  const kernel = os.release();
  const k = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(kernel);
  let libc = 'unknown';
  let glibcVersion: [number, number] | null = null;
  if (process.platform === 'linux') {
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
    os: process.platform,
    arch: process.arch,
    kernel,
    kernelVersion: k ? [Number(k[1]), Number(k[2]), Number(k[3] ?? 0)] : null,
    libc,
    glibcVersion,
  };
  return cached;
}
