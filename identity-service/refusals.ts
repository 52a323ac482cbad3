// Why a Certify call was refused, as the gRPC status a proxy sees and the reason label the
// refusal metric counts. Every check throws a small named error; this is the one place that
// turns them into statuses, so the mapping is reviewed (and tested) as a whole.
import { status } from '@grpc/grpc-js';
import { CsrRejectedError } from '../identity/csr-signing.ts';
import { InvalidIdentityNameError } from '../identity/identity-name.ts';
import { IssuerExpiredError, IssuerNotCaError } from '../identity/x509.ts';

/** A required CertifyRequest field is empty. */
export class MissingFieldError extends Error {
  override readonly name = 'MissingFieldError';
}

/** A well-formed identity of another trust domain or control plane: not ours to sign. */
export class ForeignIdentityError extends Error {
  override readonly name = 'ForeignIdentityError';
}

/** The API server's TokenReview said the token does not authenticate (bad, expired, wrong audience, deleted owner). */
export class TokenNotAuthenticatedError extends Error {
  override readonly name = 'TokenNotAuthenticatedError';
}

/** The token authenticates, but as someone other than the identity the CSR asks for. */
export class TokenIdentityMismatchError extends Error {
  override readonly name = 'TokenIdentityMismatchError';
}

/** The TokenReview call itself failed (API server unreachable, forbidden, erroring). */
export class TokenReviewUnavailableError extends Error {
  override readonly name = 'TokenReviewUnavailableError';
}

/** Values of `identity_certify_refusals_total{reason}`. */
export type RefusalReason =
  | 'missing_field'
  | 'invalid_identity'
  | 'invalid_csr'
  | 'not_authenticated'
  | 'identity_mismatch'
  | 'token_review_unavailable'
  | 'issuer_unavailable'
  | 'internal';

export interface Refusal {
  code: status;
  reason: RefusalReason;
  message: string;
}

export function refusalFor(err: unknown): Refusal {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof MissingFieldError) return { code: status.INVALID_ARGUMENT, reason: 'missing_field', message };
  if (err instanceof InvalidIdentityNameError || err instanceof ForeignIdentityError) {
    return { code: status.INVALID_ARGUMENT, reason: 'invalid_identity', message };
  }
  if (err instanceof CsrRejectedError) return { code: status.INVALID_ARGUMENT, reason: 'invalid_csr', message };
  if (err instanceof TokenNotAuthenticatedError) return { code: status.FAILED_PRECONDITION, reason: 'not_authenticated', message };
  if (err instanceof TokenIdentityMismatchError) return { code: status.FAILED_PRECONDITION, reason: 'identity_mismatch', message };
  if (err instanceof TokenReviewUnavailableError) return { code: status.UNAVAILABLE, reason: 'token_review_unavailable', message };
  // The issuer expired (or was replaced by an unusable one) since it was loaded: retrying elsewhere may work.
  if (err instanceof IssuerExpiredError || err instanceof IssuerNotCaError) {
    return { code: status.UNAVAILABLE, reason: 'issuer_unavailable', message: `the identity issuer cannot sign: ${message}` };
  }
  return { code: status.INTERNAL, reason: 'internal', message: `internal error while issuing the certificate: ${message}` };
}

export const REFUSAL_REASONS: readonly RefusalReason[] = [
  'missing_field',
  'invalid_identity',
  'invalid_csr',
  'not_authenticated',
  'identity_mismatch',
  'token_review_unavailable',
  'issuer_unavailable',
  'internal',
];
