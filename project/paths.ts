// Files the code needs at run time (the kube build script, the CLI entrypoint) are found
// from the project root, not from the module's own location: the CLI runs bundled from a
// cache directory, where relative paths from import.meta.url would point elsewhere.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'linkerd-multicluster-ts';
let cached: string | undefined;

export function projectRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === PACKAGE_NAME) return (cached = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the ${PACKAGE_NAME} project root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** The `multicluster` entrypoint, for starting components as child processes. */
export const cliEntrypoint = (): string => join(projectRoot(), 'bin', 'multicluster.js');
