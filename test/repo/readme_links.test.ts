/**
 * README.md as the registry shows it: npm renders the README of the published tarball with no
 * repository to resolve relative paths against, so every link and image must be absolute. Files of
 * the package itself are linked through unpkg at the exact published version, and must be in the
 * tarball; in-page anchors must match a heading; anything else is an explicitly allowed host.
 */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../support/paths';
import { packedFiles, skipUnlessPacking } from '../support/packed_tarball';
import { scan } from '../support/markdown_links';

/**
 * Hosts outside the package that README.md may link to. Empty today (the README links nowhere
 * else); adding one is a decision that the page stays up for as long as the release is read.
 */
const ALLOWED_HOSTS: ReadonlySet<string> = new Set<string>([]);

/** Why `href` does not resolve on the registry's page, or null when it does. */
export function problem(
  href: string,
  ctx: { name: string; version: string; anchors: ReadonlySet<string>; files: readonly string[] },
): string | null {
  if (href.startsWith('#'))
    return ctx.anchors.has(decodeURIComponent(href.slice(1))) ? null : 'no heading has this anchor';
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return 'relative: the registry page has no base to resolve it against';
  }
  if (url.protocol !== 'https:') return `${url.protocol} link (only https)`;
  if (url.host === 'unpkg.com') {
    const m = /^\/((?:@[^/]+\/)?[^/@]+)@([^/]+)\/(.*)$/.exec(url.pathname);
    if (!m || m[1] !== ctx.name) return `not a path of ${ctx.name}@version on unpkg`;
    if (m[2] !== ctx.version)
      return `pinned to ${m[2]}, not package.json's ${ctx.version} (update every unpkg URL in README.md)`;
    const file = decodeURIComponent(m[3] as string);
    const found = file.endsWith('/') ? ctx.files.some((f) => f.startsWith(file)) : ctx.files.includes(file);
    return found ? null : `${file} is not in the packed tarball`;
  }
  return ALLOWED_HOSTS.has(url.host) ? null : `${url.host} is not an allowed host (ALLOWED_HOSTS)`;
}

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };

describe('README links: the checker', () => {
  const ctx = {
    name: 'rseq-slice',
    version: '1.2.3',
    anchors: new Set(['api', 'detect-detection']),
    files: ['README.md', 'docs/a/b.svg'],
  };

  it('makes GitHub anchors: code spans and punctuation dropped, repeats numbered', () => {
    const { anchors } = scan(
      '# A\n## `detect(): Detection`\n### Figures: the 7.2.13 guest\n## A\n```\n# not a heading\n```\n',
    );
    expect([...anchors]).to.deep.equal(['a', 'detect-detection', 'figures-the-7213-guest', 'a-1']);
  });

  it('finds links, images, reference definitions and HTML attributes, not code', () => {
    const { links } = scan(
      '[x](#a) ![i](docs/i.svg)\n[r][d]\n<img src="p.png">\n`[no](code)`\n```\n[no](block)\n```\n\n[d]: https://e.org/\n',
    );
    expect(links.map((l) => `${l.kind} ${l.href}`).sort()).to.deep.equal(
      ['link #a', 'image docs/i.svg', 'link https://e.org/', 'html p.png', 'definition https://e.org/'].sort(),
    );
  });

  it('accepts anchors of headings and unpkg paths of the version that the tarball has', () => {
    for (const href of [
      '#api',
      '#detect-detection',
      'https://unpkg.com/rseq-slice@1.2.3/docs/a/b.svg',
      'https://unpkg.com/rseq-slice@1.2.3/docs/a/',
    ])
      expect(problem(href, ctx), href).to.equal(null);
  });

  it('rejects relative paths, unknown anchors, other versions, missing files and other hosts', () => {
    for (const href of [
      'docs/a/b.svg',
      './README.md',
      '#nowhere',
      'https://unpkg.com/rseq-slice@1.2.2/docs/a/b.svg',
      'https://unpkg.com/rseq-slice/docs/a/b.svg',
      'https://unpkg.com/other@1.2.3/docs/a/b.svg',
      'https://unpkg.com/rseq-slice@1.2.3/docs/a/c.svg',
      'https://unpkg.com/rseq-slice@1.2.3/lib/',
      'http://unpkg.com/rseq-slice@1.2.3/docs/a/b.svg',
      'https://github.com/x/rseq-slice',
    ])
      expect(problem(href, ctx), href).to.be.a('string');
  });
});

describe('README links: every link and image of README.md resolves on the registry page', function () {
  this.timeout(300_000);

  it('each one is an anchor, an unpkg URL of this version in the tarball, or an allowed host', function () {
    skipUnlessPacking(this);
    const { anchors, links } = scan(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    expect(links.some((l) => l.kind === 'image')).to.equal(true);
    const ctx = { name: pkg.name, version: pkg.version, anchors, files: packedFiles() };
    const bad = links.flatMap((l) => {
      const why = problem(l.href, ctx);
      return why === null ? [] : [`${l.kind} ${l.href}: ${why}`];
    });
    expect(bad).to.deep.equal([]);
  });
});
