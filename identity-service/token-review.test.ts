import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenNotAuthenticatedError } from './refusals.ts';
import { usernameOf } from './token-review.ts';

const AUD = ['identity.l5d.io'];

test('an authenticated review yields the username', () => {
  const review = { spec: {}, status: { authenticated: true, audiences: AUD, user: { username: 'system:serviceaccount:ns:web' } } };
  assert.equal(usernameOf(review, AUD), 'system:serviceaccount:ns:web');
});

test("a rejected review carries the API server's error text", () => {
  const review = { spec: {}, status: { authenticated: false, error: '[invalid bearer token, token has been invalidated]' } };
  assert.throws(
    () => usernameOf(review, AUD),
    (e: unknown) => {
      assert.ok(e instanceof TokenNotAuthenticatedError);
      assert.match(e.message, /rejected the token: \[invalid bearer token, token has been invalidated\]; send the pod's current projected/);
      assert.match(e.message, /audience "identity\.l5d\.io"/);
      return true;
    },
  );
  assert.throws(() => usernameOf({ spec: {} }, AUD), /rejected the token: the token is not authenticated/);
});

test('a review authenticated only for other audiences is refused', () => {
  const review = { spec: {}, status: { authenticated: true, audiences: ['https://kubernetes.default.svc'], user: { username: 'u' } } };
  assert.throws(() => usernameOf(review, AUD), /only for audiences \["https:\/\/kubernetes\.default\.svc"\]/);
});
