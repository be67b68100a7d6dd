/**
 * What a source build of the addon needs (a C++17 compiler, make, python3, node-gyp) and where
 * each was found: for `rseq-slice build`, and for the repository's prepare script, which builds the
 * addon where these are present and leaves the simulator where they are not.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { PACKAGE_ROOT } from '../package_root';

/** What a source build needs, with where each was found or null when it is missing. */
export interface BuildTools {
  compiler: string | null;
  make: string | null;
  python: string | null;
  nodeGyp: string | null;
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/** A command that exists and answers `--version` with status 0 (CXX may hold a broken path). */
function answers(command: string, env: NodeJS.ProcessEnv): boolean {
  return spawnSync(command, ['--version'], { env, stdio: 'ignore', timeout: 10_000 }).status === 0;
}

/**
 * node-gyp: the package's own dependency tree first, then the copy npm bundles next to this node
 * (every official Node release ships one), then the one npm names in `npm_config_node_gyp`.
 */
function findNodeGyp(env: NodeJS.ProcessEnv): string | null {
  try {
    return require.resolve('node-gyp/bin/node-gyp.js', { paths: [PACKAGE_ROOT] });
  } catch {
    // not installed beside the package
  }
  const candidates = [
    path.join(
      path.dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
    env.npm_config_node_gyp,
  ];
  return candidates.find((f): f is string => f !== undefined && fs.existsSync(f)) ?? null;
}

/** Looks for what node-gyp needs, honouring CXX the way node-gyp's makefiles do. */
export function findBuildTools(env: NodeJS.ProcessEnv = process.env): BuildTools {
  const cxx = env.CXX?.trim();
  const compilerCandidates = cxx ? [cxx.split(/\s+/)[0] as string] : ['g++', 'c++', 'clang++'];
  const compiler =
    compilerCandidates.find((c) => (c.includes('/') || onPath(c, env) !== null) && answers(c, env)) ?? null;
  const python = ['python3', 'python'].find((p) => onPath(p, env) !== null && answers(p, env)) ?? null;
  return { compiler, make: onPath('make', env), python, nodeGyp: findNodeGyp(env) };
}

/** What is missing for a source build, in words; empty when nothing is. */
export function missingTools(tools: BuildTools, env: NodeJS.ProcessEnv = process.env): string[] {
  const missing: string[] = [];
  if (tools.compiler === null)
    missing.push(env.CXX ? `a C++17 compiler (CXX=${env.CXX} does not run)` : 'a C++17 compiler (g++, c++ or clang++)');
  if (tools.make === null) missing.push('make');
  if (tools.python === null) missing.push('python3 (node-gyp runs gyp with it)');
  if (tools.nodeGyp === null) missing.push('node-gyp (npm bundles one; or npm install -g node-gyp)');
  return missing;
}

/** How to install what a source build needs, on the common distributions. */
export const INSTALL_HINT =
  'Debian/Ubuntu: apt-get install g++ make python3; Alpine: apk add build-base python3; Fedora/RHEL: dnf install gcc-c++ make python3';
