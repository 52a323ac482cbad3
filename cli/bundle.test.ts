// The CLI bundle must stay Latin-1: V8 keeps each loaded script's source in memory, and one
// character beyond U+00FF makes it store the whole 3.5 MB bundle as UTF-16 (twice the RSS of
// every controller). esbuild escapes such characters in ordinary strings but cannot in
// String.raw templates or regular-expression literals, so a source file can still slip one in.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { cliBundle } from '../e2e/fixtures/cli.ts';

test('the CLI bundle holds no character beyond Latin-1', async () => {
  const bundle = await cliBundle();
  assert.ok(bundle, 'bin/multicluster.js produced no bundle');
  const text = await readFile(bundle, 'utf8');
  assert.ok(text.length > 100_000, 'the bundle includes the packages');
  const offenders: string[] = [];
  for (let i = 0; i < text.length && offenders.length < 5; i++) {
    if (text.charCodeAt(i) > 0xff)
      offenders.push(`U+${text.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0')} in …${text.slice(Math.max(0, i - 40), i + 10)}…`);
  }
  assert.deepEqual(offenders, [], 'write such characters as \\u escapes in the source');
});
