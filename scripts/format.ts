/**
 * The project's formatters with the configs in the repository root: Prettier for TypeScript and
 * JavaScript (.prettierrc.json, .prettierignore), clang-format for C and C++ (.clang-format), both
 * at one line width. Both are pinned devDependencies; clang-format is LLVM's, compiled to
 * WebAssembly, so it runs wherever node does.
 *
 *   node -r tsx/cjs scripts/format.ts           rewrites the files out of format (npm run format)
 *   node -r tsx/cjs scripts/format.ts --check   lists them and exits 1 (npm run format:check)
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');
/** Where the C and C++ sources are (searched recursively). */
const CXX_DIRS = ['include', 'native', 'scripts', 'test'];
const CXX_EXTENSIONS = ['.c', '.cc', '.h'];

interface ClangFormat {
  format(content: string, filename: string, style: string): string;
}

/** The C and C++ files under CXX_DIRS of `root`, relative to it, sorted. */
export function cxxFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (CXX_EXTENSIONS.includes(path.extname(entry.name))) found.push(rel);
    }
  };
  for (const dir of CXX_DIRS) if (fs.existsSync(path.join(root, dir))) walk(dir);
  return found.sort();
}

/** Runs Prettier over `root`; returns the files it found (check) or changed (write) out of format. */
function prettier(root: string, write: boolean): string[] {
  const pkg = require.resolve('prettier/package.json');
  const bin = path.join(path.dirname(pkg), (require(pkg) as { bin: string }).bin);
  const r = spawnSync(process.execPath, [bin, ...(write ? ['--write'] : []), '--list-different', '.'], {
    cwd: root,
    encoding: 'utf8',
  });
  // --list-different: exit 1 and one name a line when files differ; exit 2 on errors (syntax, config).
  if (r.error || (r.status !== 0 && r.status !== 1) || r.stderr.trim() !== '') {
    throw new Error(`prettier failed (${r.error?.message ?? `status ${r.status}`}): ${r.stderr.trim()}`);
  }
  return r.stdout.split('\n').filter((line) => line !== '');
}

/** Runs clang-format over cxxFiles(root); returns the files out of format (rewritten when `write`). */
async function clangFormat(root: string, write: boolean): Promise<string[]> {
  // An ES module: import() loads it from this CommonJS script.
  const { format } = (await import('@wasm-fmt/clang-format')) as ClangFormat;
  const style = fs.readFileSync(path.join(root, '.clang-format'), 'utf8');
  const changed: string[] = [];
  for (const file of cxxFiles(root)) {
    const full = path.join(root, file);
    const text = fs.readFileSync(full, 'utf8');
    const formatted = format(text, file, style);
    if (formatted === text) continue;
    changed.push(file);
    if (write) fs.writeFileSync(full, formatted);
  }
  return changed;
}

/**
 * The files under `root` (relative, Prettier's first, then clang-format's) out of format with the
 * configs in `root`; with `write`, each is rewritten.
 */
export async function outOfFormat(root: string, write: boolean): Promise<string[]> {
  return [...prettier(root, write), ...(await clangFormat(root, write))];
}

async function main(argv: string[]): Promise<number> {
  const unknown = argv.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    console.error(`format: unknown argument ${JSON.stringify(unknown[0])}; accepted: --check`);
    return 2;
  }
  const write = !argv.includes('--check');
  const files = await outOfFormat(ROOT, write);
  if (write) {
    for (const f of files) console.log(`formatted ${f}`);
    return 0;
  }
  if (files.length === 0) return 0;
  for (const f of files) console.error(`out of format: ${f}`);
  console.error(`${files.length} file(s) out of format: run npm run format`);
  return 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (status) => {
      process.exitCode = status;
    },
    (e: unknown) => {
      console.error(`format: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 2;
    },
  );
}
