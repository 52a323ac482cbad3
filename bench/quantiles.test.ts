import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quantile, quantileSorted, roundMs, summarize } from './quantiles.ts';

test('a single sample is every quantile', () => {
  for (const q of [0, 0.5, 0.99, 1]) assert.equal(quantile([7], q), 7);
});

test('the median of an even count is the mean of the two middle samples', () => {
  assert.equal(quantile([4, 1, 3, 2], 0.5), 2.5);
});

test('quantiles interpolate linearly between ranks (numpy/R type 7)', () => {
  const s = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
  assert.equal(quantileSorted(s, 0), 1);
  assert.equal(quantileSorted(s, 1), 100);
  assert.ok(Math.abs(quantileSorted(s, 0.99) - 99.01) < 1e-9);
  assert.ok(Math.abs(quantileSorted(s, 0.5) - 50.5) < 1e-9);
  assert.equal(quantileSorted([10, 20], 0.25), 12.5);
});

test('one outlier in 100 samples moves p99 but not p50', () => {
  const s = [...Array.from({ length: 99 }, () => 5), 1000];
  const sum = summarize(s);
  assert.equal(sum?.p50, 5);
  assert.ok(sum && sum.p99 > 5 && sum.p99 < 1000, String(sum?.p99));
  assert.equal(sum?.max, 1000);
});

test('the input is not reordered', () => {
  const s = [3, 1, 2];
  quantile(s, 0.5);
  assert.deepEqual(s, [3, 1, 2]);
});

test('empty samples and out-of-range quantiles are rejected; summarize returns undefined', () => {
  assert.throws(() => quantile([], 0.5), RangeError);
  assert.throws(() => quantile([1], 1.5), RangeError);
  assert.throws(() => quantile([1], Number.NaN), RangeError);
  assert.equal(summarize([]), undefined);
});

test('summary fields', () => {
  assert.deepEqual(summarize([2, 4, 6]), { count: 3, min: 2, p50: 4, p90: 5.6, p99: 5.96, max: 6, mean: 4 });
  assert.equal(roundMs(1.234), 1.2);
});
