import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, backoffDelay } from './backoff.ts';

test('delays double from the base and stop at the cap', () => {
  const mid = () => 0.5;
  const o = { baseMs: 100, capMs: 1000 };
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, o, mid)),
    [100, 200, 400, 800, 1000, 1000],
  );
});

test('jitter spreads a delay around its value but never past the cap', () => {
  const o = { baseMs: 100, capMs: 1000, jitter: 0.2 };
  assert.equal(
    backoffDelay(1, o, () => 0),
    90,
  );
  assert.equal(
    backoffDelay(1, o, () => 0.999999),
    109.99998,
  );
  assert.equal(
    backoffDelay(10, o, () => 0.999999),
    1000,
  );
  assert.equal(
    backoffDelay(10, o, () => 0),
    900,
  );
});

test('a Backoff counts failures until reset', () => {
  const b = new Backoff({ baseMs: 10, capMs: 100, jitter: 0 });
  assert.deepEqual([b.next(), b.next(), b.next()], [10, 20, 40]);
  assert.equal(b.attempt, 3);
  b.reset();
  assert.equal(b.attempt, 0);
  assert.equal(b.next(), 10);
});
