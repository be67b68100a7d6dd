/**
 * The version in package.json and CHANGELOG.md agree: the release being published has its own
 * section, above every older one, under an `## [Unreleased]` heading for what comes next (Keep a
 * Changelog).
 */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../support/paths';
import { packageVersion } from '../../lib/package_root';

const version = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The `## [...]` section headings of CHANGELOG.md, in order: the bracketed name and the rest. */
function sections(): { name: string; rest: string }[] {
  const text = fs.readFileSync(path.join(ROOT, 'CHANGELOG.md'), 'utf8');
  return [...text.matchAll(/^## \[([^\]]+)\](.*)$/gm)].map((m) => ({ name: m[1] as string, rest: m[2] as string }));
}

describe('version: package.json and CHANGELOG.md', () => {
  it('the first section is [Unreleased], then the released versions, newest first, each once', () => {
    const names = sections().map((s) => s.name);
    expect(names[0]).to.equal('Unreleased');
    const released = names.slice(1);
    for (const v of released) expect(v).to.match(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    expect(new Set(released).size).to.equal(released.length);
    const key = (v: string): number[] => v.split(/[.-]/).slice(0, 3).map(Number);
    for (let i = 1; i < released.length; i++) {
      const [a, b] = [key(released[i - 1] as string), key(released[i] as string)];
      const newer = a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
      expect(newer, `${released[i - 1]} above ${released[i]}`).to.be.greaterThan(0);
    }
  });

  it("the top released section is package.json's version, with its date", () => {
    const top = sections()[1];
    expect(top?.name, `CHANGELOG.md has no ## [${version}] section under [Unreleased]`).to.equal(version);
    expect(top?.rest).to.match(/^ - \d{4}-\d{2}-\d{2}$/);
  });

  it('the CLI and reports read that version (lib/package_root.ts)', () => {
    expect(packageVersion()).to.equal(version);
  });
});
