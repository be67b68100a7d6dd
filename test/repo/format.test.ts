/**
 * The formatters' configs and scripts/format.ts (npm run format, format:check): one line width for
 * both languages, and a check that finds exactly the files out of format, which a write then fixes.
 */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { outOfFormat } from '../../scripts/format';
import { ROOT } from '../support/paths';

const CONFIGS = ['.prettierrc.json', '.prettierignore', '.clang-format'];

describe('formatting', () => {
  let tmp = '';

  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('Prettier and clang-format hold lines to one width', () => {
    const prettier = JSON.parse(fs.readFileSync(path.join(ROOT, '.prettierrc.json'), 'utf8')) as {
      printWidth?: number;
    };
    const clang = /^ColumnLimit:\s*(\d+)\s*$/m.exec(fs.readFileSync(path.join(ROOT, '.clang-format'), 'utf8'));
    expect(prettier.printWidth).to.be.a('number');
    expect(Number(clang?.[1]), '.clang-format ColumnLimit').to.equal(prettier.printWidth);
  });

  it('the check lists exactly the files out of format (not ignored ones); a write fixes them', async function () {
    this.timeout(60_000);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rseq-slice-format-'));
    for (const c of CONFIGS) fs.copyFileSync(path.join(ROOT, c), path.join(tmp, c));
    const files: Record<string, string> = {
      'good.ts': "export const a = { b: 'c' };\n",
      'bad.ts': 'export const a = {b:"c"}\n',
      'docs/benefit/data.ts': 'export const ignored = {b:"c"}\n',
      'native/good.h': 'int F(int* x);\n',
      'native/bad.cc': 'int  F( int *x ){return *x;}\n',
      'test/bad.c': 'int main(void){return 0;}\n',
    };
    for (const [name, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(tmp, name)), { recursive: true });
      fs.writeFileSync(path.join(tmp, name), text);
    }
    expect(await outOfFormat(tmp, false)).to.deep.equal(['bad.ts', 'native/bad.cc', 'test/bad.c']);
    expect(fs.readFileSync(path.join(tmp, 'bad.ts'), 'utf8'), 'a check writes nothing').to.equal(files['bad.ts']);
    expect(await outOfFormat(tmp, true)).to.deep.equal(['bad.ts', 'native/bad.cc', 'test/bad.c']);
    expect(fs.readFileSync(path.join(tmp, 'bad.ts'), 'utf8')).to.equal(files['good.ts']);
    expect(fs.readFileSync(path.join(tmp, 'native/bad.cc'), 'utf8')).to.equal('int F(int* x) { return *x; }\n');
    expect(await outOfFormat(tmp, false)).to.deep.equal([]);
  });
});
