/**
 * Where the installed package is, and its version. This module sits directly in lib/ (built:
 * directly in dist/), one level below the package root: the one place that counts levels up to it.
 */
import * as path from 'node:path';

/** The package's root directory (package.json, include/, native/, prebuilds/). */
export const PACKAGE_ROOT = path.join(__dirname, '..');

/** The package's version, from package.json (one source for the CLI and reports). */
export function packageVersion(): string {
  return (require(path.join(PACKAGE_ROOT, 'package.json')) as { version: string }).version;
}
