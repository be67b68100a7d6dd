/**
 * The package as a user gets it: `npm pack` once per test run (prepack builds dist/ and the
 * prebuilt binaries, so it is slow), shared by the packaging and install tests, removed at exit.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Context } from 'mocha';
import { ROOT } from './paths';
import { skipBecause } from './skip';

/** Skips the test, saying why, when the tarball tests are turned off (RSEQ_SLICE_SKIP_PACK=1: they pack, which is slow). */
export function skipUnlessPacking(ctx: Context): void {
  if (process.env.RSEQ_SLICE_SKIP_PACK === '1') skipBecause(ctx, 'RSEQ_SLICE_SKIP_PACK=1');
}

let tarball: string | undefined;

/** The path of the packed tarball. */
export function packedTarball(): string {
  if (tarball !== undefined) return tarball;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rseq-slice-pack-'));
  process.on('exit', () => fs.rmSync(work, { recursive: true, force: true }));
  // prepack strips the prepare script from package.json and postpack restores it (scripts/pack-manifest.ts).
  const manifest = path.join(ROOT, 'package.json');
  const before = fs.readFileSync(manifest, 'utf8');
  // prepack (tsc + prebuildify) prints to stdout too, so find the tarball on disk instead.
  execFileSync('npm', ['pack', '--pack-destination', work], { cwd: ROOT, stdio: 'ignore' });
  if (fs.readFileSync(manifest, 'utf8') !== before)
    throw new Error(
      'npm pack left package.json changed: postpack (scripts/pack-manifest.ts restore) did not restore it',
    );
  const packed = fs.readdirSync(work).filter((f) => f.endsWith('.tgz'));
  if (packed.length !== 1) throw new Error(`npm pack left ${packed.length} tarballs in ${work}`);
  tarball = path.join(work, packed[0] as string);
  return tarball;
}

let unpacked: string | undefined;

/** The tarball extracted once: the directory that holds its files (npm's `package/`). */
export function unpackedTarball(): string {
  if (unpacked !== undefined) return unpacked;
  const dir = path.join(path.dirname(packedTarball()), 'unpacked');
  fs.mkdirSync(dir);
  execFileSync('tar', ['-xzf', packedTarball(), '-C', dir]);
  unpacked = path.join(dir, 'package');
  return unpacked;
}

/** The paths of the files in the tarball, relative to the package root, with '/' separators. */
export function packedFiles(): string[] {
  const root = unpackedTarball();
  return fs
    .readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

/** A fresh empty project directory (package.json only) for installing into. */
export function freshProject(name: string): string {
  const dir = path.join(path.dirname(packedTarball()), name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  return dir;
}

/**
 * A fresh project (`name`, see freshProject) with the packed tarball installed as a user installs
 * it with install scripts off: `npm install --ignore-scripts TARBALL`. Throws with npm's output
 * when the install fails.
 */
export function projectWithPackage(name: string): string {
  const project = freshProject(name);
  const args = ['install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', packedTarball()];
  const r = spawnSync('npm', args, { cwd: project, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} in ${project}:\n${r.stdout}${r.stderr}`);
  return project;
}
