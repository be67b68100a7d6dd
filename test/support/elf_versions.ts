/**
 * The symbol versions a shared object requires (its .gnu.version_r, read with binutils' readelf,
 * which reads any architecture's ELF), checked against the oldest runtime the package supports:
 * glibc 2.28 (Node 20's floor; RHEL 8) with that era's C++ runtime (GCC 8: GLIBCXX_3.4.25,
 * CXXABI_1.3.11, libgcc_s GCC_8.0.0).
 */
import { spawnSync } from 'node:child_process';

/** The newest version of each versioned library a binary may require. */
export const FLOOR: Readonly<Record<string, string>> = {
  GLIBC: '2.28',
  GLIBCXX: '3.4.25',
  CXXABI: '1.3.11',
  GCC: '8.0.0',
};

/** readelf's absence, as a skip reason; null when it runs. */
export function readelfMissing(): string | null {
  return spawnSync('readelf', ['--version']).status === 0 ? null : 'readelf (binutils) is not installed';
}

/** Every version name the binary requires, e.g. ['GLIBC_2.2.5', 'GLIBCXX_3.4.21']. */
export function requiredVersions(file: string): string[] {
  const r = spawnSync('readelf', ['-V', '--wide', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`readelf -V ${file} failed: ${r.stderr}`);
  const needs = r.stdout.slice(r.stdout.indexOf(".gnu.version_r'"));
  return [...needs.matchAll(/Name: (\S+)\s+Flags:/g)].map((m) => m[1] as string);
}

function compare(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The required versions newer than FLOOR allows (an unknown versioned library counts as newer). */
export function aboveFloor(versions: string[]): string[] {
  return versions.filter((v) => {
    const m = /^([A-Z]+)_([0-9.]+)$/.exec(v);
    if (!m) return true;
    const max = FLOOR[m[1] as string];
    return max === undefined || compare(m[2] as string, max) > 0;
  });
}
