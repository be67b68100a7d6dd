/** The package's version, from package.json (one source for the CLI and reports). */
export function packageVersion(): string {
  return (require('../package.json') as { version: string }).version;
}
