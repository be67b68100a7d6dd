/**
 * glibc 2.28 and later: the addon requires no symbol version newer than Node 20's own floor, and
 * it loads and registers its own rseq area under Debian 11's glibc 2.31 (which registers none),
 * run through that glibc's own loader (scripts/other-glibc.ts; .ci/run fetches it).
 */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { glibcRuntime } from '../../scripts/other-glibc';
import { aboveFloor, readelfMissing, requiredVersions } from '../support/elf_versions';
import type { Detection } from '../../lib';
import { DIST, ROOT } from '../support/paths';
import { fixtureJson } from '../support/child_node';
import { skipBecause, skipUnlessCi } from '../support/skip';

const BUILT = path.join(ROOT, 'native', 'build', 'Release', 'rseq_slice.node');

describe('glibc floor: the addon loads on glibc 2.28 and later', () => {
  before(function () {
    if (process.platform !== 'linux') skipBecause(this, 'glibc is Linux-only');
    if (!fs.existsSync(BUILT))
      skipBecause(this, `no local build at ${BUILT} (npm run build:addon makes it; npm test does)`);
  });

  it('requires no GLIBC version above 2.28 (nor GLIBCXX, CXXABI, GCC above GCC 8)', function () {
    const missing = readelfMissing();
    if (missing) skipUnlessCi(this, missing);
    const versions = requiredVersions(BUILT);
    expect(versions).to.include('GLIBC_2.2.5'); // the parse found the libc entries at all
    expect(aboveFloor(versions), versions.join(' ')).to.deep.equal([]);
  });

  it('loads under glibc 2.31 (Debian 11) and registers its own rseq area there', function () {
    const rt = glibcRuntime('bullseye', false);
    if (!rt.ok)
      skipUnlessCi(this, `${rt.reason} (.ci/run fetches it: node -r tsx/cjs scripts/other-glibc.ts bullseye --fetch)`);
    const d = fixtureJson<Detection>('detect_child.ts', [DIST], { prefix: rt.node.slice(0, -1) });
    expect(d.platform.libc).to.equal('glibc 2.31');
    expect(d.addon, d.addon.error).to.deep.include({ loaded: true });
    // glibc 2.31 predates rseq registration (2.35) and its __rseq_* symbols.
    expect(d.rseq.libcRseqSize).to.equal(null);
    expect(d.rseq, d.rseq.reason).to.deep.include({ registered: true, owner: 'addon' });
  });
});
