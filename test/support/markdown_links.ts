/**
 * Markdown as GitHub and the registry render it: headings' anchors and the links of a page, for the
 * link checks of README.md (readme_links.test.ts) and of docs/ (doc_blocks.test.ts).
 */
import { marked, type Token } from 'marked';

export interface Link {
  kind: 'link' | 'image' | 'definition' | 'html';
  href: string;
}

/** GitHub's heading anchor (github-slugger): lower case, punctuation dropped, spaces to '-'. */
export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** marked escapes HTML in text and code spans; headings' anchors are made from the plain text. */
function unescapeHtml(s: string): string {
  return s.replace(
    /&(amp|lt|gt|quot|#39);/g,
    (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!,
  );
}

/** The plain text of a heading's inline tokens. */
function plainText(tokens: Token[]): string {
  return tokens
    .map((t) => {
      if ('tokens' in t && t.tokens) return plainText(t.tokens);
      if (t.type === 'html') return '';
      return 'text' in t ? unescapeHtml(t.text) : '';
    })
    .join('');
}

/** Every heading's anchor, numbered as GitHub does for repeats, and every link of `markdown`. */
export function scan(markdown: string): { anchors: Set<string>; links: Link[] } {
  const tokens = marked.lexer(markdown, { gfm: true });
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const links: Link[] = [];
  marked.walkTokens(tokens, (t) => {
    if (t.type === 'heading') {
      const base = slug(plainText(t.tokens ?? []));
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    } else if (t.type === 'link' || t.type === 'image') {
      links.push({ kind: t.type, href: t.href });
    } else if (t.type === 'html') {
      for (const m of t.raw.matchAll(/\b(?:href|src)\s*=\s*["']([^"']*)["']/gi))
        links.push({ kind: 'html', href: m[1] as string });
    }
  });
  // Reference definitions, used or not: a dead one is still a dead link in the source.
  for (const def of Object.values(tokens.links)) links.push({ kind: 'definition', href: def.href });
  return { anchors, links };
}
