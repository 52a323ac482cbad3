// The CLI bundle must stay Latin-1: V8 keeps each loaded script's source in memory, and one
// character beyond U+00FF makes it store the whole 3.5 MB bundle as UTF-16 (twice the RSS of
// every controller). esbuild escapes such characters in ordinary strings but cannot in
// String.raw templates or regular-expression literals, so a source file can still slip one in.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const root = join(import.meta.dirname, '..');

test('the CLI bundle holds no character beyond Latin-1', async () => {
  await promisify(execFile)(process.execPath, [join(root, 'bin', 'multicluster.js'), '--help']);
  const dir = join(root, 'node_modules', '.cache', 'multicluster-cli');
  const bundles = (await readdir(dir)).filter((f) => /^cli-[0-9a-f]+\.mjs$/.test(f));
  assert.ok(bundles.length > 0, `no bundle in ${dir}`);
  const newest = (await Promise.all(bundles.map(async (f) => ({ f, t: (await stat(join(dir, f))).mtimeMs })))).sort((a, b) => b.t - a.t)[0]?.f ?? '';
  const text = await readFile(join(dir, newest), 'utf8');
  assert.ok(text.length > 100_000, 'the bundle includes the packages');
  const offenders: string[] = [];
  for (let i = 0; i < text.length && offenders.length < 5; i++) {
    if (text.charCodeAt(i) > 0xff) offenders.push(`U+${text.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0')} in …${text.slice(Math.max(0, i - 40), i + 10)}…`);
  }
  assert.deepEqual(offenders, [], 'write such characters as \\u escapes in the source');
});
