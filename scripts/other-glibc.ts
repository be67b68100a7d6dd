/**
 * Running node under another Debian release's glibc (its own loader and libraries, unpacked by
 * scripts/debian-suite into a cache outside the tree), for the glibc variants of the test suites.
 *
 *   node -r tsx/cjs scripts/other-glibc.ts SUITE [--fetch]   prints the node command, or why not
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The Debian suites whose glibc the suites run under, with what each stands for. */
export const GLIBC_SUITES = {
  /** glibc 2.41: registers an optimized rseq area itself (Debian 13, Ubuntu 25.04+, Fedora 42+). */
  trixie: '2.41',
  /** glibc 2.31: registers no rseq area (Debian 11, Ubuntu 20.04, RHEL 8 era). */
  bullseye: '2.31',
} as const;
export type GlibcSuite = keyof typeof GLIBC_SUITES;

/** The packages node needs besides itself: the C library, the C++ runtime and libgcc_s. */
export const GLIBC_PACKAGES = ['libc6', 'libstdc++6', 'libgcc-s1'];

export type GlibcRuntime =
  | { ok: true; suite: GlibcSuite; glibcVersion: string; root: string; node: string[] }
  | { ok: false; suite: GlibcSuite; reason: string };

const SCRIPT = path.join(__dirname, 'debian-suite');

/**
 * The command prefix that runs node under `suite`'s glibc: [loader, --library-path, dirs, node].
 * With `fetch`, downloads the packages when the cache lacks them; without, only looks.
 */
export function glibcRuntime(suite: GlibcSuite, fetch: boolean): GlibcRuntime {
  const r = spawnSync(SCRIPT, fetch ? [suite, ...GLIBC_PACKAGES] : ['--print-root', suite], { encoding: 'utf8' });
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').pop();
    return { ok: false, suite, reason: `glibc ${GLIBC_SUITES[suite]} (Debian ${suite}) is not at hand: ${why}` };
  }
  const root = r.stdout.trim();
  // bullseye keeps libc in /lib, later releases in /usr/lib.
  const dirs = ['lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu']
    .map((d) => path.join(root, d))
    .filter((d) => fs.existsSync(d));
  const loader = dirs.map((d) => path.join(d, 'ld-linux-x86-64.so.2')).find((f) => fs.existsSync(f));
  if (loader === undefined) return { ok: false, suite, reason: `no ld-linux-x86-64.so.2 under ${root}` };
  // A partial fetch (one package unpacked, another failed) must not pass for a runtime.
  const lacking = ['libc.so.6', 'libstdc++.so.6', 'libgcc_s.so.1'].filter(
    (lib) => !dirs.some((d) => fs.existsSync(path.join(d, lib))),
  );
  if (lacking.length > 0)
    return {
      ok: false,
      suite,
      reason: `${root} lacks ${lacking.join(', ')} (a partial fetch: run scripts/other-glibc.ts ${suite} --fetch)`,
    };
  return {
    ok: true,
    suite,
    glibcVersion: GLIBC_SUITES[suite],
    root,
    node: [loader, '--library-path', dirs.join(':'), process.execPath],
  };
}

if (require.main === module) {
  const [suite, flag] = process.argv.slice(2);
  if (!suite || !(suite in GLIBC_SUITES) || (flag !== undefined && flag !== '--fetch')) {
    console.error(`usage: other-glibc.ts SUITE [--fetch]; SUITE is one of ${Object.keys(GLIBC_SUITES).join(', ')}`);
    process.exit(2);
  }
  const rt = glibcRuntime(suite as GlibcSuite, flag === '--fetch');
  if (!rt.ok) {
    console.error(rt.reason);
    process.exit(1);
  }
  console.log(rt.node.join(' '));
}
