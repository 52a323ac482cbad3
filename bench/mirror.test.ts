import { test } from 'node:test';
import { resolve } from 'node:path';
import assert from 'node:assert/strict';
import { BenchUsageError } from './benchmark.ts';
import { parseMirrorArgs } from './mirror.ts';
import { spread } from './mirror-run.ts';

test('defaults are the issue spec: N = 1,000 and 10,000 at the controller default of 16 workers', () => {
  assert.deepEqual(parseMirrorArgs([]), {
    ns: [1000, 10000],
    workers: 16,
    concurrency: 32,
    flips: 50,
    timeoutS: undefined,
    workerReference: false,
    heapSnapshotDir: undefined,
  });
});

test('--quick is a 200-Service smoke run; --n takes a list', () => {
  assert.deepEqual(parseMirrorArgs(['--quick']).ns, [200]);
  assert.deepEqual(parseMirrorArgs(['--n', '1000, 5000']).ns, [1000, 5000]);
  assert.equal(parseMirrorArgs(['--timeout-s', '900']).timeoutS, 900);
  assert.equal(parseMirrorArgs(['--worker-reference']).workerReference, true);
  assert.equal(parseMirrorArgs(['--heap-snapshot', 'snaps']).heapSnapshotDir, resolve('snaps'));
});

test('bad flags are usage errors that name the flag', () => {
  assert.throws(
    () => parseMirrorArgs(['--n', '1e3']),
    (e: unknown) => e instanceof BenchUsageError && /--n "1e3"/.test(e.message),
  );
  assert.throws(() => parseMirrorArgs(['--workers', '0']), BenchUsageError);
  assert.throws(() => parseMirrorArgs(['--quick', '--n', '5']), BenchUsageError);
  assert.throws(() => parseMirrorArgs(['--bogus']), BenchUsageError);
});

test('flip targets are spread over all Services and never repeat', () => {
  assert.deepEqual(spread(10, 5), [0, 2, 4, 6, 8]);
  assert.deepEqual(spread(3, 50), [0, 1, 2]);
  const s = spread(10000, 50);
  assert.equal(new Set(s).size, 50);
  assert.ok(s.every((i) => i >= 0 && i < 10000));
});
