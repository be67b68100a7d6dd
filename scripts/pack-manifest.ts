/**
 * The manifest a pack ships: package.json without its prepare script (scripts/prepare.ts), which
 * a registry install never runs but npm 11 would list in its install-scripts warning. prepack
 * strips it as its last step and postpack restores the file byte for byte, from a copy kept in
 * package.json.prepack; a strip that finds that copy (a pack that died before postpack) restores
 * it first, so the repository's own manifest is never lost.
 *
 *   node -r tsx/cjs scripts/pack-manifest.ts strip|restore
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const MANIFEST = path.join(__dirname, '..', 'package.json');
const KEPT = `${MANIFEST}.prepack`;

/** package.json's text without scripts.prepare (its other bytes as they were formatted). */
function withoutPrepare(text: string): string {
  const manifest = JSON.parse(text) as { scripts?: Record<string, string> };
  if (manifest.scripts?.prepare === undefined) return text;
  delete manifest.scripts.prepare;
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

function restore(): void {
  if (fs.existsSync(KEPT)) fs.renameSync(KEPT, MANIFEST);
}

if (require.main === module) {
  const action = process.argv[2];
  if (action === 'strip') {
    restore();
    const text = fs.readFileSync(MANIFEST, 'utf8');
    fs.copyFileSync(MANIFEST, KEPT);
    fs.writeFileSync(MANIFEST, withoutPrepare(text));
  } else if (action === 'restore') {
    restore();
  } else {
    console.error('usage: pack-manifest.ts strip|restore');
    process.exit(2);
  }
}
