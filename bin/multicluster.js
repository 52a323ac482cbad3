#!/usr/bin/env node
// Entrypoint of the `multicluster` binary. The sources are TypeScript; loading them through
// a TypeScript loader on every start costs seconds (its hooks see every module, including
// @kubernetes/client-node's hundreds of files), so the CLI is bundled once with esbuild
// (our code only; packages stay external) into a cache keyed by the sources' sizes and
// modification times, and run with plain Node. Any edit to a source gives a new bundle.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SKIP = new Set(['node_modules', '.git', '.tmp', 'testdata', 'bench', 'k3d']);

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
  const key = fingerprint(root, createHash('sha256')).digest('hex').slice(0, 16);
  const dir = join(root, 'node_modules', '.cache', 'multicluster-cli');
  const out = join(dir, `cli-${key}.mjs`);
  if (!existsSync(out)) {
    const { build } = await import('esbuild');
    mkdirSync(dir, { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    await build({
      entryPoints: [join(root, 'cli', 'main.ts')],
      outfile: tmp,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      sourcemap: 'inline',
      logLevel: 'error',
    });
    renameSync(tmp, out);
    for (const old of readdirSync(dir)) {
      if (old.startsWith('cli-') && old.endsWith('.mjs') && join(dir, old) !== out) rmSync(join(dir, old), { force: true });
    }
  }
  return out;
}

let entry;
try {
  entry = pathToFileURL(await bundle()).href;
} catch (err) {
  // No esbuild (or an unwritable cache): fall back to loading the sources directly.
  const { register } = await import('tsx/esm/api');
  register();
  entry = pathToFileURL(join(root, 'cli', 'main.ts')).href;
}
await import(entry);
