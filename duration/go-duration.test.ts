import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatGoDuration, InvalidDurationError, parseGoDuration, tryParseGoDuration } from './go-duration.ts';

test('parses Go durations', () => {
  assert.equal(parseGoDuration('24h'), 86_400_000);
  assert.equal(parseGoDuration('20s'), 20_000);
  assert.equal(parseGoDuration('30s'), 30_000);
  assert.equal(parseGoDuration('8760h'), 8760 * 3_600_000);
  assert.equal(parseGoDuration('90m'), 5_400_000);
  assert.equal(parseGoDuration('1m30s'), 90_000);
  assert.equal(parseGoDuration('1h30m'), 5_400_000);
  assert.equal(parseGoDuration('24h0m0s'), 86_400_000);
  assert.equal(parseGoDuration('1.5h'), 5_400_000);
  assert.equal(parseGoDuration('1.1h'), 3_960_000);
  assert.equal(parseGoDuration('250ms'), 250);
  assert.equal(parseGoDuration('500ms'), 500);
  assert.equal(parseGoDuration('1500us'), 1.5);
  assert.equal(parseGoDuration('1500µs'), 1.5);
  assert.equal(parseGoDuration('1500μs'), 1.5);
  assert.equal(parseGoDuration('2000000ns'), 2);
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration('+0'), 0);
  assert.equal(parseGoDuration('+5s'), 5000);
});

test('refuses what Go refuses, and negatives, with a message that says why', () => {
  for (const bad of ['', '+', '3', '24', 'h', '3 s', '24 h', '1d', '-3s', '-5s', '1h-5m', 'abc', '5s ']) {
    assert.throws(() => parseGoDuration(bad), InvalidDurationError, bad);
    assert.equal(tryParseGoDuration(bad), undefined, bad);
  }
  assert.throws(
    () => parseGoDuration('1d'),
    /^InvalidDurationError: invalid duration "1d": cannot read "1d" \(units are ns, us, ms, s, m, h\); write a number with a unit such as 24h/,
  );
  assert.throws(() => parseGoDuration('1h30x'), /invalid duration "1h30x": cannot read "30x"/);
  assert.throws(() => parseGoDuration('-5s'), /invalid duration "-5s": it is negative/);
  assert.throws(() => parseGoDuration(''), /invalid duration "": it is empty/);
});

test('tryParseGoDuration returns what parseGoDuration does', () => {
  for (const ok of ['0', '30s', '1m30s', '1.5h', '500ms']) assert.equal(tryParseGoDuration(ok), parseGoDuration(ok));
});

test('formats like Go for common values', () => {
  assert.equal(formatGoDuration(0), '0s');
  assert.equal(formatGoDuration(250), '250ms');
  assert.equal(formatGoDuration(3000), '3s');
  assert.equal(formatGoDuration(1500), '1.5s');
  assert.equal(formatGoDuration(90_000), '1m30s');
  assert.equal(formatGoDuration(3_600_000), '1h0m0s');
  assert.equal(formatGoDuration(86_400_000), '24h0m0s');
  for (const ms of [250, 3000, 90_000, 3_600_000, 5_400_000]) assert.equal(parseGoDuration(formatGoDuration(ms)), ms);
});
