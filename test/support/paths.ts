/** Where the tests find the repository, the compiled package and their fixtures. */
import * as path from 'node:path';

/** The repository root. */
export const ROOT = path.join(__dirname, '..', '..');
/** The compiled package (npm run build), as users load it. */
export const DIST = path.join(ROOT, 'dist');
/** Where the programs that tests run in a child process or a worker live (TypeScript, run by tsx). */
export const FIXTURES = path.join(ROOT, 'test', 'fixtures');
