/**
 * An arm64 node to run under qemu-user on an x86-64 host: Debian bookworm's nodejs:arm64 (Node
 * 18.20, N-API 9) with its libraries, unpacked by scripts/debian-suite into a cache of its own
 * (CACHE/arm64), run by qemu-aarch64-static with that root as its library prefix.
 *
 *   node -r tsx/cjs scripts/arm64-node.ts [--fetch]   prints the command prefix, or why not
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** nodejs and what it loads: its shared libraries, and the JavaScript builtins Debian keeps outside. */
export const ARM64_NODE_PACKAGES = [
  ...[
    'nodejs',
    'libnode108',
    'libc6',
    'libgcc-s1',
    'libstdc++6',
    'libbrotli1',
    'libc-ares2',
    'libssl3',
    'libicu72',
    'libnghttp2-14',
    'libuv1',
    'zlib1g',
  ].map((p) => `${p}:arm64`),
  'node-cjs-module-lexer',
  'node-acorn',
  'node-undici',
];

export type Arm64Node = { ok: true; root: string; node: string[] } | { ok: false; reason: string };

const SCRIPT = path.join(__dirname, 'debian-suite');

/** The command prefix [qemu-aarch64-static, -L, root, node]; with `fetch`, downloads what is missing. */
export function arm64Node(fetch: boolean): Arm64Node {
  const qemu = spawnSync('sh', ['-c', 'command -v qemu-aarch64-static'], { encoding: 'utf8' });
  if (qemu.status !== 0)
    return { ok: false, reason: 'qemu-aarch64-static is not installed (Debian package qemu-user-static)' };
  const base =
    process.env.RSEQ_SLICE_CACHE ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'rseq-slice');
  const env = { ...process.env, RSEQ_SLICE_CACHE: path.join(base, 'arm64') };
  const r = spawnSync(SCRIPT, fetch ? ['bookworm', ...ARM64_NODE_PACKAGES] : ['--print-root', 'bookworm'], {
    encoding: 'utf8',
    env,
  });
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').pop();
    return { ok: false, reason: `Debian bookworm's nodejs:arm64 is not at hand: ${why}` };
  }
  const root = r.stdout.trim();
  const node = path.join(root, 'usr', 'bin', 'node');
  if (!fs.existsSync(node))
    return { ok: false, reason: `no usr/bin/node under ${root} (run scripts/arm64-node.ts --fetch)` };
  return { ok: true, root, node: [qemu.stdout.trim(), '-L', root, node] };
}

if (require.main === module) {
  const flag = process.argv[2];
  if (flag !== undefined && flag !== '--fetch') {
    console.error('usage: arm64-node.ts [--fetch]');
    process.exit(2);
  }
  const n = arm64Node(flag === '--fetch');
  if (!n.ok) {
    console.error(n.reason);
    process.exit(1);
  }
  console.log(n.node.join(' '));
}
