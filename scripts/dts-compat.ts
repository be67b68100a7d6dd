/**
 * Runs after tsc: makes the emitted declarations compile under TypeScript's default settings.
 *
 * For a class with ES private members (`#x`) tsc emits a `#private;` member in the .d.ts, which
 * TypeScript rejects below target ES2015 (TS18028) — and ES5 is TypeScript 5.x's default target.
 * Each such line becomes a TS `private` member. That keeps what `#private;` is there for: the class
 * stays nominal (an object of the same shape is not assignable to it), and the member is not part of
 * the public API. Its name is a string no user would declare, so subclasses do not collide with it.
 *
 *   node -r tsx/cjs scripts/dts-compat.ts [DIR]   (DIR defaults to dist/)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The member tsc emits for a class's ES private members, alone on its line. */
const ES_PRIVATE = /^(\s*)#private;$/gm;
export const REPLACEMENT = 'private "#private";';

/** `text` (one .d.ts) with each `#private;` member replaced. */
export function rewriteDeclarations(text: string): string {
  const out = text.replace(ES_PRIVATE, `$1${REPLACEMENT}`);
  // Any other line starting with a private name would be a form tsc did not emit before: fail
  // rather than ship a declaration file that older settings reject.
  const left = /^\s*#\w+/m.exec(out);
  if (left) throw new Error(`unexpected ES private name in a declaration: ${left[0].trim()}`);
  return out;
}

/** Rewrites every .d.ts under `dir`; returns how many files changed. */
export function rewriteDir(dir: string): number {
  let changed = 0;
  for (const rel of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (!rel.endsWith('.d.ts')) continue;
    const file = path.join(dir, rel);
    const text = fs.readFileSync(file, 'utf8');
    let out: string;
    try {
      out = rewriteDeclarations(text);
    } catch (e) {
      throw new Error(`${file}: ${(e as Error).message}`);
    }
    if (out !== text) {
      fs.writeFileSync(file, out);
      changed++;
    }
  }
  return changed;
}

if (require.main === module) {
  const dir = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'dist'));
  if (!fs.existsSync(dir)) {
    console.error(`dts-compat: ${dir} does not exist (run tsc first)`);
    process.exit(1);
  }
  rewriteDir(dir);
}
