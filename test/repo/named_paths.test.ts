/**
 * Nothing stale: every repository path named in a comment or a document exists. A move that
 * leaves a comment or a page pointing at the old place fails here, not in a reader's head.
 *
 * A path is a name that starts with one of the repository's top-level directories (`lib/`,
 * `native/`, `test/`…) where a word starts, in the comments of source files (C, C++, TypeScript,
 * JavaScript, shell, gyp) and anywhere in Markdown. Left out, each for its reason:
 * - CHANGELOG.md: its entries name the files of their own release, which later moves change;
 * - paths git ignores (native/build/…, test/native/consumer/build/…): build output, there once built;
 * - the kernel tree's own files (include/linux/…, include/uapi/…, scripts/config…), which the
 *   comments cite as sources and which share two top-level names with this repository;
 * - a path inside a URL or another path (`https://…/docs/x.md`, `/usr/lib/…`).
 * A module may be named without its extension (`lib/open`); a glob (`test/**\/*.test.ts`) must
 * match at least one file.
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../support/paths';

const TOP = ['lib', 'native', 'include', 'scripts', 'test', 'docs', 'examples', 'esm', '.ci'];
const PATH = new RegExp(
  `(?<![\\w./@~-])((?:${TOP.map((t) => t.replace('.', '\\.')).join('|')})/[\\w.+*/-]*[\\w*/])`,
  'g',
);
/** Files of other trees the sources cite, under names this repository also has at its top. */
const FOREIGN = [/^include\/(linux|uapi|asm[\w-]*)\//, /^scripts\/(config|kconfig\/)/];
const C_LIKE = /\.(ts|mts|js|mjs|cjs|c|cc|h)$/;

/** The comments of C-like source: `//` and `/* *\/`, skipping strings, template literals and regular expressions. */
export function cLikeComments(text: string): string {
  let out = '';
  let i = 0;
  let last = ''; // the last significant character of code, to tell a regex from a division
  while (i < text.length) {
    const c = text[i] as string;
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      const end = text.indexOf('\n', i);
      out += text.slice(i, end < 0 ? text.length : end) + '\n';
      i = end < 0 ? text.length : end;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      out += text.slice(i, end < 0 ? text.length : end + 2) + '\n';
      i = end < 0 ? text.length : end + 2;
    } else if (c === '"' || c === "'" || c === '`') {
      i = skipQuoted(text, i, c);
      last = c;
    } else if (c === '/' && (last === '' || '(,=:[!&|?{};+-*%<>~^'.includes(last))) {
      i = skipRegex(text, i);
      last = '/';
    } else {
      if (!/\s/.test(c)) last = c;
      i++;
    }
  }
  return out;
}

function skipQuoted(text: string, start: number, quote: string): number {
  let i = start + 1;
  let depth = 0; // ${…} nesting inside a template literal
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') i += 2;
    else if (quote === '`' && c === '$' && text[i + 1] === '{') (depth++, (i += 2));
    else if (depth > 0 && c === '}') (depth--, i++);
    else if (depth === 0 && c === quote) return i + 1;
    else if (quote !== '`' && c === '\n')
      return i; // an unterminated string ends at the line (C's char literals, #include)
    else i++;
  }
  return i;
}

function skipRegex(text: string, start: number): number {
  let i = start + 1;
  let inClass = false;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') i += 2;
    else if (c === '\n') return i;
    else if (c === '[') ((inClass = true), i++);
    else if (c === ']') ((inClass = false), i++);
    else if (c === '/' && !inClass) return i + 1;
    else i++;
  }
  return i;
}

/** The comments of shell, gyp, Dockerfile and systemd files: from a `#` that starts a line or follows a blank. */
export function hashComments(text: string): string {
  return text
    .split('\n')
    .map((line) => /(?:^|\s)(#.*)$/.exec(line)?.[1] ?? '')
    .join('\n');
}

/** What of a tracked file is prose: the comments of a source file, all of a Markdown file; null for neither. */
function prose(file: string): string | null {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  if (file.endsWith('.md')) return text;
  if (C_LIKE.test(file)) return cLikeComments(text);
  if (/\.(gyp|service|config)$/.test(file) || path.basename(file) === 'Dockerfile' || /^#!.*\b(ba)?sh\b/.test(text))
    return hashComments(text);
  return null;
}

/** Whether a glob (`*` within a name, `**` across directories) matches one of `files`. */
function globMatches(glob: string, files: readonly string[]): boolean {
  const re = new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*\*\//g, '(.*/)?')
      .replace(/\*/g, '[^/]*')}`,
  );
  return files.some((f) => re.test(f));
}

/** Whether a path exists, or names a module without its extension (`lib/open` for lib/open.ts). */
function exists(named: string): boolean {
  return ['', '.ts', '.js'].some((ext) => fs.existsSync(path.join(ROOT, named + ext)));
}

/** The named paths of `text` that do not exist in the repository, each once. */
export function missingPaths(text: string, tracked: readonly string[], ignored: (p: string) => boolean): string[] {
  const missing = new Set<string>();
  for (const m of text.matchAll(PATH)) {
    const named = m[1] as string;
    if (FOREIGN.some((f) => f.test(named))) continue;
    if (named.includes('*') ? globMatches(named, tracked) : exists(named)) continue;
    if (!ignored(named)) missing.add(named);
  }
  return [...missing];
}

describe('named paths', () => {
  it('every repository path a comment or a document names exists', function () {
    this.timeout(60_000);
    const tracked = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
      cwd: ROOT,
      encoding: 'utf8',
    })
      .split('\n')
      .filter((f) => f !== '' && fs.existsSync(path.join(ROOT, f)));
    const ignored = (p: string): boolean =>
      spawnSync('git', ['check-ignore', '-q', '--no-index', p], { cwd: ROOT }).status === 0;
    const stale: string[] = [];
    let files = 0;
    for (const file of tracked) {
      if (file === 'CHANGELOG.md' || (file.startsWith('docs/benefit/') && !file.endsWith('.md'))) continue;
      const text = prose(file);
      if (text === null) continue;
      files++;
      for (const p of missingPaths(text, tracked, ignored)) stale.push(`${file}: ${p}`);
    }
    expect(files, 'files read').to.be.greaterThan(150);
    expect(stale).to.deep.equal([]);
  });

  it('reads comments, not code: strings, template literals and regular expressions are skipped (synthetic sources)', () => {
    const ts = [
      "const a = 'lib/in_a_string.ts'; // lib/in_a_comment.ts",
      'const b = /lib\\/in_a_regex/; /* native/in_a_block.cc */',
      'const c = `docs/${"x"}/in_a_template.md`;',
      'const d = x / 2; // test/after_a_division.ts',
    ].join('\n');
    const comments = cLikeComments(ts);
    expect(comments).to.include('lib/in_a_comment.ts').and.include('native/in_a_block.cc');
    expect(comments).to.include('test/after_a_division.ts');
    expect(comments).to.not.include('in_a_string').and.not.include('in_a_regex').and.not.include('in_a_template');
    expect(hashComments('x=1 # scripts/in_a_comment\necho "$#" lib/code')).to.equal('# scripts/in_a_comment\n');
  });

  it('finds a stale path and lets a foreign, an ignored, a URL and a matching glob pass (synthetic text)', () => {
    const text = [
      'See lib/open.ts and lib/gone.ts, include/linux/rseq.h, native/build/Release/x.node,',
      'https://unpkg.com/rseq-slice@1.0.0/docs/nowhere.md, test/**/*.test.ts and test/**/*.nothing.ts.',
    ].join('\n');
    const ignored = (p: string): boolean => p.startsWith('native/build/');
    expect(missingPaths(text, ['test/repo/layering.test.ts'], ignored)).to.deep.equal([
      'lib/gone.ts',
      'test/**/*.nothing.ts',
    ]);
  });
});
