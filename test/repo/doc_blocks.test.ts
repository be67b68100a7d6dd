/**
 * The documentation's programs run: every fenced ```js, ```javascript or ```mjs block of README.md,
 * CONTRIBUTING.md and docs/*.md is executed by node as a whole program, in a scratch directory
 * whose node_modules/rseq-slice links to this tree (so `require('rseq-slice')` and `import` load
 * the built package, dist/ and esm/), on whatever kernel the machine has. A block that cannot run
 * carries `<!-- not run: REASON -->` on the line before its fence; the run prints how many blocks
 * ran and each skipped one with its reason. A ```text block marked `<!-- output of the block above -->`
 * is the expected stdout of the block before it ('…' in a line matches anything). The relative
 * links between these pages, files and anchors, must resolve too.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from '../support/paths';
import { scan } from '../support/markdown_links';

/** The pages whose blocks run: README.md, CONTRIBUTING.md and docs/*.md, as paths relative to ROOT. */
export function docFiles(): string[] {
  const docs = fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', 'CONTRIBUTING.md', ...docs];
}

const RUN_LANGS: ReadonlySet<string> = new Set(['js', 'javascript', 'mjs']);
const NOT_RUN = /^<!--\s*not run:\s*(.+?)\s*-->$/;
const OUTPUT = /^<!--\s*output of the block above\s*-->$/;

export interface DocBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
  /** Why it does not run, from `<!-- not run: … -->` on the line before the fence. */
  notRun?: string;
  /** The expected stdout, from a following ```text block marked as its output. */
  output?: string;
}

/** The fenced blocks of `markdown` (any language), with the marker before each. */
export function fencedBlocks(file: string, markdown: string): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: (DocBlock & { marker?: string })[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,}|~{3,})\s*([\w+-]*)/.exec(lines[i] as string);
    if (!open) continue;
    const fence = open[1] as string;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !(lines[i] as string).startsWith(fence); i++) body.push(lines[i] as string);
    let before = start - 1;
    while (before >= 0 && (lines[before] as string).trim() === '') before--;
    const marker = before >= 0 ? (lines[before] as string).trim() : '';
    blocks.push({
      file,
      line: start + 1,
      lang: (open[2] as string).toLowerCase(),
      code: body.join('\n') + '\n',
      marker,
    });
  }
  const result: DocBlock[] = [];
  for (const [k, b] of blocks.entries()) {
    const notRun = NOT_RUN.exec(b.marker ?? '');
    const block: DocBlock = { file: b.file, line: b.line, lang: b.lang, code: b.code };
    if (notRun) block.notRun = notRun[1] as string;
    const next = blocks[k + 1];
    if (next && OUTPUT.test(next.marker ?? '')) block.output = next.code;
    result.push(block);
  }
  return result;
}

/** Whether `code` is an ES module (import/export at the top level); else it runs as CommonJS. */
function isModule(block: DocBlock): boolean {
  return block.lang === 'mjs' || /^\s*(import\s[^(]|export\s)/m.test(block.code);
}

/** Whether `actual` stdout matches `expected`, line by line; '…' in an expected line matches anything. */
export function outputMatches(actual: string, expected: string): boolean {
  const a = actual.trimEnd().split('\n');
  const e = expected.trimEnd().split('\n');
  if (a.length !== e.length) return false;
  return e.every((line, i) => {
    const pattern = line
      .split('…')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    return new RegExp(`^${pattern}$`).test(a[i] as string);
  });
}

describe('doc blocks: the checker', () => {
  it('finds fences, their language, the not-run marker and the output block', () => {
    const md = [
      '```js',
      'console.log(1);',
      '```',
      '<!-- output of the block above -->',
      '```text',
      '1',
      '```',
      '<!-- not run: a fragment -->',
      '',
      '```javascript',
      'x();',
      '```',
      '````mjs',
      '```',
      '````',
    ].join('\n');
    const blocks = fencedBlocks('t.md', md);
    expect(blocks.map((b) => [b.line, b.lang, b.notRun, b.output])).to.deep.equal([
      [1, 'js', undefined, '1\n'],
      [5, 'text', undefined, undefined],
      [10, 'javascript', 'a fragment', undefined],
      [13, 'mjs', undefined, undefined],
    ]);
    expect(blocks[3]?.code).to.equal('```\n');
  });

  it("matches output line by line, '…' matching anything", () => {
    expect(outputMatches('a 1\nb\n', 'a …\nb')).to.equal(true);
    expect(outputMatches('a 1\nb\n', 'a 2\nb')).to.equal(false);
    expect(outputMatches('a\n', 'a\nb')).to.equal(false);
  });
});

describe('doc blocks: every JavaScript block of the README and docs/ runs', function () {
  this.timeout(120_000);
  let scratch: string;
  const ran: string[] = [];
  const skipped: string[] = [];
  const blocks = docFiles().flatMap((file) =>
    fencedBlocks(file, fs.readFileSync(path.join(ROOT, file), 'utf8')).filter((b) => RUN_LANGS.has(b.lang)),
  );

  before(function () {
    if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ is not built: npm run build');
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'rseq-slice-doc-blocks-'));
    fs.mkdirSync(path.join(scratch, 'node_modules'));
    fs.symlinkSync(ROOT, path.join(scratch, 'node_modules', 'rseq-slice'), 'dir');
  });

  after(function () {
    if (scratch !== undefined) fs.rmSync(scratch, { recursive: true, force: true });
    console.log(`      doc blocks: ${ran.length} ran, ${skipped.length} not run`);
    for (const s of skipped) console.log(`        not run: ${s}`);
  });

  it('finds blocks to run in README.md and docs/', () => {
    expect(blocks.filter((b) => b.file === 'README.md' && b.notRun === undefined)).to.not.be.empty;
    expect(blocks.filter((b) => b.file.startsWith('docs/') && b.notRun === undefined)).to.not.be.empty;
  });

  it('every not-run marker stands before a block of a language that runs', () => {
    const stray = docFiles().flatMap((file) =>
      fencedBlocks(file, fs.readFileSync(path.join(ROOT, file), 'utf8'))
        .filter((b) => b.notRun !== undefined && !RUN_LANGS.has(b.lang))
        .map((b) => `${b.file}:${b.line} (${b.lang || 'no language'})`),
    );
    expect(stray, 'a not-run marker before a block that would not run anyway').to.deep.equal([]);
  });

  for (const [i, block] of blocks.entries()) {
    const where = `${block.file}:${block.line}`;
    it(`${where} (${block.lang})${block.notRun === undefined ? '' : ': not run'}`, function () {
      if (block.notRun !== undefined) {
        skipped.push(`${where}: ${block.notRun}`);
        return;
      }
      const file = path.join(scratch, `block-${i}.${isModule(block) ? 'mjs' : 'js'}`);
      fs.writeFileSync(file, block.code);
      const env = { ...process.env };
      delete env.RSEQ_SLICE_BACKEND; // the defaults the docs describe
      const r = spawnSync(process.execPath, [file], { cwd: scratch, env, encoding: 'utf8', timeout: 60_000 });
      const report = `${where} exited ${r.status ?? r.signal}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
      expect(r.error, report).to.equal(undefined);
      expect(r.signal, report).to.equal(null);
      expect(r.status, report).to.equal(0);
      if (block.output !== undefined) {
        expect(outputMatches(r.stdout, block.output), `${report}\n--- expected\n${block.output}`).to.equal(true);
      }
      ran.push(where);
    });
  }
});

describe('doc links: relative links between README.md, CONTRIBUTING.md and docs/ resolve', () => {
  const anchorsOf = new Map<string, Set<string>>();
  const anchors = (file: string): Set<string> => {
    let a = anchorsOf.get(file);
    if (a === undefined) {
      a = scan(fs.readFileSync(file, 'utf8')).anchors;
      anchorsOf.set(file, a);
    }
    return a;
  };

  for (const file of docFiles().filter((f) => f !== 'README.md')) {
    it(file, () => {
      const full = path.join(ROOT, file);
      const bad = scan(fs.readFileSync(full, 'utf8')).links.flatMap((l) => {
        if (/^[a-z]+:/i.test(l.href)) return []; // absolute: not this test's
        const [target, anchor] = l.href.split('#') as [string, string | undefined];
        const resolved = target === '' ? full : path.resolve(path.dirname(full), decodeURIComponent(target));
        if (!fs.existsSync(resolved)) return [`${l.href}: no file ${path.relative(ROOT, resolved)}`];
        if (anchor !== undefined && resolved.endsWith('.md') && !anchors(resolved).has(decodeURIComponent(anchor)))
          return [`${l.href}: no heading with this anchor in ${path.relative(ROOT, resolved)}`];
        return [];
      });
      expect(bad).to.deep.equal([]);
    });
  }
});
