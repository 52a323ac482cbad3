#!/usr/bin/env node
// Entrypoint of the `multicluster` binary. The sources are TypeScript; loading them through
// a TypeScript loader on every start costs seconds (its hooks see every module, including
// @kubernetes/client-node's hundreds of files), so the CLI is bundled once with esbuild
// into a cache keyed by the sources' and the lockfile's sizes and modification times, and
// run with plain Node. Any edit to a source or a dependency change gives a new bundle.
// Packages are bundled too: loaded as separate modules, client-node alone costs ~85 MB of
// RSS; bundled, ~30 MB.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BUNDLE_OPTIONS } from './bundle-options.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SKIP = new Set(['node_modules', '.git', '.tmp', 'testdata', 'bench']);

function fingerprint(dir, hash) {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.isDirectory()) {
      if (!SKIP.has(entry.name)) fingerprint(join(dir, entry.name), hash);
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.e2e.ts')) {
      const st = statSync(join(dir, entry.name));
      hash.update(`${dir}/${entry.name}:${st.size}:${st.mtimeMs}\n`);
    }
  }
  return hash;
}

async function bundle() {
  const hash = fingerprint(root, createHash('sha256'));
  for (const f of ['package-lock.json', 'bin/multicluster.js', 'bin/bundle-options.js']) {
    const st = statSync(join(root, f));
    hash.update(`${f}:${st.size}:${st.mtimeMs}\n`);
  }
  const key = hash.digest('hex').slice(0, 16);
  const dir = join(root, 'node_modules', '.cache', 'multicluster-cli');
  const out = join(dir, `cli-${key}.mjs`);
  if (!existsSync(out)) {
    const { build } = await import('esbuild');
    mkdirSync(dir, { recursive: true });
    const result = await build({
      entryPoints: [join(root, 'cli', 'main.ts')],
      outfile: out,
      write: false,
      ...BUNDLE_OPTIONS,
      // Beside the bundle, not inline: an inline map would sit in memory as part of the source.
      sourcemap: 'linked',
      logLevel: 'error',
    });
    // Written under temporary names and renamed, map first: a concurrent start sees either
    // no bundle or a complete one.
    const files = [...result.outputFiles].sort((a, b) => Number(b.path.endsWith('.map')) - Number(a.path.endsWith('.map')));
    for (const f of files) {
      const tmp = `${f.path}.${process.pid}.tmp`;
      writeFileSync(tmp, f.contents);
      renameSync(tmp, f.path);
    }
    for (const old of readdirSync(dir)) {
      if (old.startsWith('cli-') && !old.startsWith(`cli-${key}.`)) rmSync(join(dir, old), { force: true });
    }
  }
  return out;
}

let entry;
try {
  entry = pathToFileURL(await bundle()).href;
} catch {
  // No esbuild (or an unwritable cache): fall back to loading the sources directly.
  const { register } = await import('tsx/esm/api');
  register();
  entry = pathToFileURL(join(root, 'cli', 'main.ts')).href;
}
await import(entry);
