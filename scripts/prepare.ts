/**
 * prepare: what npm runs after `npm install` or `npm ci` in a clone of the repository, and when a
 * project installs rseq-slice from git (`github:owner/rseq-slice`, `git+file://…`), where npm
 * clones, installs the devDependencies, runs this and packs the result. It builds dist/ (tsc) and,
 * where a C++ toolchain is present, the host's binary into prebuilds/ (which the pack keeps;
 * native/build it leaves out). Without a toolchain, or when the compile fails, it says so and
 * exits 0: the install then runs sections on the simulator and detect() says to run
 * `npx rseq-slice build`. It never fails an install for want of a compiler.
 *
 * The published manifest has no prepare script (scripts/pack-manifest.ts strips it when packing):
 * npm never runs prepare for a registry tarball, but npm 11 lists one in its install-scripts warning.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { findBuildTools, INSTALL_HINT, missingTools } from '../lib/cli/build_tools';

const ROOT = path.join(__dirname, '..');

function say(line: string): void {
  process.stderr.write(`rseq-slice prepare: ${line}\n`);
}

function main(): number {
  // The npm running this script (npm sets npm_execpath): a PATH without npm on it still builds.
  const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
  const ts = spawnSync(npm[0] as string, [...npm.slice(1), 'run', 'build:ts', '--silent'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (ts.status !== 0) {
    say(`the TypeScript build failed (npm run build:ts: exit ${ts.status ?? ts.signal})`);
    return 1;
  }
  const missing = missingTools(findBuildTools());
  if (missing.length > 0) {
    say(
      `no native build (missing: ${missing.join('; ')}): sections run on the simulator. ` +
        `To build the addon later: npx rseq-slice build (${INSTALL_HINT}).`,
    );
    return 0;
  }
  const native = spawnSync(path.join(ROOT, 'scripts', 'prebuild'), ['--host'], { cwd: ROOT, encoding: 'utf8' });
  if (native.status !== 0) {
    const tail = `${native.stdout}${native.stderr}`.trimEnd().split('\n').slice(-15).join('\n');
    say(
      `the native build failed (exit ${native.status ?? native.signal}), so sections run on the simulator; ` +
        `npx rseq-slice build retries it. Its last lines:\n${tail}`,
    );
    return 0;
  }
  say(`built dist/ and the native addon (prebuilds/${process.platform}-${process.arch})`);
  return 0;
}

process.exitCode = main();
