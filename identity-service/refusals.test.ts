import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { createCsr, signCsr } from '../identity/csr-signing.ts';
import { parseIdentityName } from '../identity/identity-name.ts';
import { createIdentityIssuer } from '../identity/issuer.ts';
import { createTrustAnchor } from '../identity/trust-anchor.ts';
import { createSelfSignedCa } from '../identity/x509.ts';
import {
  ForeignIdentityError,
  MissingFieldError,
  REFUSAL_REASONS,
  refusalFor,
  TokenIdentityMismatchError,
  TokenNotAuthenticatedError,
  TokenReviewUnavailableError,
} from './refusals.ts';

const WEB = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const RULES = { identity: WEB, lifetimeMs: 3600_000, skewMs: 0 };

async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

test('request and identity problems are InvalidArgument', async () => {
  assert.deepEqual(refusalFor(new MissingFieldError('no token')), { code: status.INVALID_ARGUMENT, reason: 'missing_field', message: 'no token' });
  assert.equal(refusalFor(new ForeignIdentityError('x')).reason, 'invalid_identity');
  const bad = await thrown(() => parseIdentityName('not-an-identity'));
  assert.deepEqual([refusalFor(bad).code, refusalFor(bad).reason], [status.INVALID_ARGUMENT, 'invalid_identity']);
});

test("signCsr's rejections (malformed CSR, wrong name) are InvalidArgument with signCsr's message", async () => {
  const issuer = await createIdentityIssuer(await createTrustAnchor());
  const malformed = await thrown(() => signCsr(new Uint8Array([1, 2, 3]), issuer, RULES));
  assert.deepEqual(refusalFor(malformed), {
    code: status.INVALID_ARGUMENT,
    reason: 'invalid_csr',
    message: 'the certificate signing request is not a DER-encoded PKCS#10 request',
  });
  const { csrDer } = await createCsr('other.emojivoto.serviceaccount.identity.linkerd.cluster.local');
  const mismatch = refusalFor(await thrown(() => signCsr(csrDer, issuer, RULES)));
  assert.equal(mismatch.code, status.INVALID_ARGUMENT);
  assert.equal(mismatch.reason, 'invalid_csr');
  assert.match(mismatch.message, /DNS SAN "other\.emojivoto.*" does not match/);
});

test('token problems are FailedPrecondition; an unreachable TokenReview API is Unavailable', () => {
  assert.deepEqual(refusalFor(new TokenNotAuthenticatedError('expired')), {
    code: status.FAILED_PRECONDITION,
    reason: 'not_authenticated',
    message: 'expired',
  });
  assert.deepEqual(
    [refusalFor(new TokenIdentityMismatchError('token is for a, CSR asks for b')).code, refusalFor(new TokenIdentityMismatchError('')).reason],
    [status.FAILED_PRECONDITION, 'identity_mismatch'],
  );
  assert.deepEqual(
    [refusalFor(new TokenReviewUnavailableError('down')).code, refusalFor(new TokenReviewUnavailableError('down')).reason],
    [status.UNAVAILABLE, 'token_review_unavailable'],
  );
});

test('an expired issuer is Unavailable; anything unexpected is Internal', async () => {
  const hourAgo = new Date(Date.now() - 2 * 3600_000);
  const expired = await createSelfSignedCa({ commonName: 'old', lifetimeMs: 3600_000, notBefore: hourAgo });
  const { csrDer } = await createCsr(WEB);
  const r = refusalFor(await thrown(() => signCsr(csrDer, expired, RULES)));
  assert.deepEqual([r.code, r.reason], [status.UNAVAILABLE, 'issuer_unavailable']);
  assert.match(r.message, /^the identity issuer cannot sign: issuer certificate "CN=old" expired/);
  const internal = refusalFor(new TypeError('boom'));
  assert.deepEqual(internal, { code: status.INTERNAL, reason: 'internal', message: 'internal error while issuing the certificate: boom' });
  assert.equal(refusalFor('a string').reason, 'internal');
});

test('every reason the mapping can produce is pre-registered for the metric', () => {
  const produced = [
    new MissingFieldError(''),
    new ForeignIdentityError(''),
    new TokenNotAuthenticatedError(''),
    new TokenIdentityMismatchError(''),
    new TokenReviewUnavailableError(''),
    new Error(''),
  ].map((e) => refusalFor(e).reason);
  for (const reason of produced) assert.ok(REFUSAL_REASONS.includes(reason), reason);
});
