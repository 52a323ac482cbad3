import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidDurationError, parseGoDuration } from './go-duration.ts';

test('parses Go durations', () => {
  assert.equal(parseGoDuration('24h'), 86_400_000);
  assert.equal(parseGoDuration('20s'), 20_000);
  assert.equal(parseGoDuration('8760h'), 8760 * 3_600_000);
  assert.equal(parseGoDuration('90m'), 5_400_000);
  assert.equal(parseGoDuration('1h30m'), 5_400_000);
  assert.equal(parseGoDuration('24h0m0s'), 86_400_000);
  assert.equal(parseGoDuration('1.5h'), 5_400_000);
  assert.equal(parseGoDuration('250ms'), 250);
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration('+5s'), 5000);
});

test('refuses what Go refuses, and negatives', () => {
  for (const bad of ['', '24', 'h', '24 h', '1d', '-5s', '1h-5m', 'abc', '5s ']) {
    assert.throws(() => parseGoDuration(bad), InvalidDurationError, bad);
  }
  assert.throws(() => parseGoDuration('1d'), /invalid duration "1d": cannot read "1d".*such as 24h/);
});
