/**
 * The published types as TypeScript users compile them: the packed tarball installed into a fresh
 * project with no @types/node, and a consumer of the public API type-checked by several compilers
 * with their default settings (no tsconfig) and with Node's module modes. TypeScript 5.x defaults
 * to target ES5 with the ES5 lib, which is what the shipped declarations must survive (#private
 * members, SharedArrayBuffer); 4.5 is the floor the README and docs/compatibility.md state.
 *
 * The older compilers come from test/repo/typescript-versions (its lockfile pins them), installed into
 * a scratch directory; TypeScript 7 is the repository's own.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../support/paths';
import { projectWithPackage, skipUnlessPacking } from '../support/packed_tarball';

// Each line of `EXPECT_ERRORS` must be an error: were the package's types missing or `any`, these
// would pass silently under the default (non-strict) settings, and @ts-expect-error reports that.
const CONSUMER = `
import {
  abi,
  detect,
  errnoName,
  MutexNotRecoverableError,
  open,
  OWNER_CHECK_MS,
  OwnerDiedError,
  RseqError,
  SimulatedKernel,
  SLICE_MUTEX_BYTES,
  SliceExtension,
  SliceMutex,
} from 'rseq-slice';
import type { Detection, OpenOptions, Outcome, SliceMutexOptions, SliceStats } from 'rseq-slice';

const detection: Detection = detect();
const available: boolean = detection.sliceExtension.available;
const options: OpenOptions = { backend: 'simulator', simulator: { seed: 1, kernel: new SimulatedKernel() } };
const handle: SliceExtension = open(options);
const value: number = handle.run(() => 42);
const outcome: Outcome = handle.exit();
const abiOutcome: abi.Outcome = outcome;
const stats: SliceStats = handle.stats;
const mutexOptions: SliceMutexOptions = { slice: handle, spin: 10 };
const mutex = new SliceMutex(new SharedArrayBuffer(SLICE_MUTEX_BYTES), 0, mutexOptions);
const shared: SharedArrayBuffer = SliceMutex.create().buffer;
const locked: string = mutex.withLock(() => 'x', (e: OwnerDiedError) => void e.previousOwner);
const offset: number = abi.OFFSET_SLICE_CTRL + OWNER_CHECK_MS;
function describeError(e: unknown): string {
  if (e instanceof RseqError) return e.code + e.errno + e.syscall + errnoName(e.errno);
  if (e instanceof MutexNotRecoverableError) return e.code;
  return String(e);
}

// EXPECT_ERRORS
// @ts-expect-error: backend is 'native' | 'simulator'
const wrongBackend: 'kernel' = handle.backend;
// @ts-expect-error: an unknown option
open({ backnd: 'native' });
// @ts-expect-error: open() takes an options object
open('native');
// SliceMutex stays nominal (its private state is in the type): an object with all of its public
// members is no SliceMutex.
type SliceMutexShape = { [K in keyof SliceMutex]: SliceMutex[K] };
declare const shape: SliceMutexShape;
// @ts-expect-error: not a SliceMutex
const notAMutex: SliceMutex = shape;

export const used = [available, value, abiOutcome, stats, shared, locked, offset, describeError, wrongBackend, notAMutex];
`;

// The ESM entry's extras: the default export is the whole module.
const ESM_EXTRA = `
import rseqSlice from 'rseq-slice';
export const sameOpen: typeof open = rseqSlice.open;
`;

// The CommonJS form: import = require.
const CJS_EXTRA = `
import rseqSliceCjs = require('rseq-slice');
export const cjsOpen: typeof open = rseqSliceCjs.open;
`;

interface Compiler {
  name: string;
  tsc: string;
}

describe('types: the packed declarations type-check in a consumer, without @types/node', function () {
  this.timeout(600_000);
  let project = '';
  let ts45: Compiler;
  let ts59: Compiler;
  let ts60: Compiler;
  const ts7: Compiler = { name: 'TypeScript 7', tsc: path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc') };

  before(function () {
    skipUnlessPacking(this);
    project = projectWithPackage('app-types');
    fs.writeFileSync(path.join(project, 'app.ts'), CONSUMER + CJS_EXTRA);
    fs.writeFileSync(path.join(project, 'app.cts'), CONSUMER + CJS_EXTRA);
    fs.writeFileSync(path.join(project, 'app.mts'), CONSUMER + ESM_EXTRA);

    // The pinned older compilers, in a directory of their own beside the project.
    const compilers = path.join(path.dirname(project), 'typescript-versions');
    fs.mkdirSync(compilers);
    for (const f of ['package.json', 'package-lock.json'])
      fs.copyFileSync(path.join(ROOT, 'test', 'repo', 'typescript-versions', f), path.join(compilers, f));
    npm(['ci', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], compilers);
    const at = (v: string): Compiler => ({
      name: `TypeScript ${v}`,
      tsc: path.join(compilers, 'node_modules', `typescript-${v}`, 'bin', 'tsc'),
    });
    [ts45, ts59, ts60] = [at('4.5'), at('5.9'), at('6.0')];
  });

  /** Runs `compiler` on `args` in the project; fails with its output unless it reports nothing. */
  function typeCheck(compiler: Compiler, args: string[]): void {
    const r = spawnSync(process.execPath, [compiler.tsc, '--noEmit', ...args], { cwd: project, encoding: 'utf8' });
    expect(r.status, `${compiler.name} ${args.join(' ')}:\n${r.stdout}${r.stderr}`).to.equal(0);
  }

  it('the project has no @types/node and no tsconfig.json (a consumer needs neither)', () => {
    expect(fs.existsSync(path.join(project, 'node_modules', '@types', 'node'))).to.equal(false);
    expect(fs.existsSync(path.join(project, 'tsconfig.json'))).to.equal(false);
  });

  it('the compilers are the versions asked for', () => {
    for (const [c, v] of [
      [ts45, '4.5.'],
      [ts59, '5.9.'],
      [ts60, '6.0.'],
      [ts7, '7.'],
    ] as const) {
      const r = spawnSync(process.execPath, [c.tsc, '--version'], { encoding: 'utf8' });
      expect(r.stdout, c.name).to.contain(`Version ${v}`);
    }
  });

  it('the consumer has type errors where it should (a check that the types are there at all)', () => {
    // Without the @ts-expect-error lines the errors they mark must appear, each one.
    fs.writeFileSync(path.join(project, 'bad.ts'), CONSUMER.replace(/^\/\/ @ts-expect-error.*$/gm, ''));
    const r = spawnSync(process.execPath, [ts59.tsc, '--noEmit', 'bad.ts'], { cwd: project, encoding: 'utf8' });
    const errors = r.stdout.split('\n').filter((l) => /^bad\.ts\(\d+,\d+\): error/.test(l));
    expect(errors, r.stdout).to.have.length(CONSUMER.match(/@ts-expect-error/g)?.length ?? 0);
  });

  it('TypeScript 4.5 (the stated minimum), default settings', () => typeCheck(ts45, ['app.ts']));

  it('TypeScript 5.9, default settings (target ES5)', () => typeCheck(ts59, ['app.ts']));

  it('TypeScript 5.9, --strict --exactOptionalPropertyTypes', () =>
    typeCheck(ts59, ['--strict', '--exactOptionalPropertyTypes', 'app.ts']));

  it('TypeScript 5.9, --module node16 --moduleResolution node16: CommonJS (.ts, .cts) and ESM (.mts)', () =>
    typeCheck(ts59, ['--module', 'node16', '--moduleResolution', 'node16', 'app.ts', 'app.cts', 'app.mts']));

  it('TypeScript 5.9, --module esnext --moduleResolution bundler (ESM)', () =>
    typeCheck(ts59, ['--module', 'esnext', '--moduleResolution', 'bundler', 'app.mts']));

  it('TypeScript 6.0, default settings', () => typeCheck(ts60, ['app.mts']));

  it('TypeScript 7, default settings and --module nodenext', () => {
    typeCheck(ts7, ['app.mts']);
    typeCheck(ts7, ['--module', 'nodenext', 'app.ts', 'app.cts', 'app.mts']);
  });
});

function npm(args: string[], cwd: string): void {
  const r = spawnSync('npm', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} in ${cwd}:\n${r.stdout}${r.stderr}`);
}
