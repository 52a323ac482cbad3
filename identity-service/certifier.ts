// One Certify call, checks in Linkerd's order: fields, identity, CSR, token, then signing.
// Each check throws a named error; the outcome is either the signed chain or the refusal a
// proxy receives as its gRPC status, and every outcome is counted and logged once here.
import { checkCsr, signCsr } from '../identity/csr-signing.ts';
import type { SigningCa } from '../identity/signing-ca.ts';
import type { Logger } from '../log/logger.ts';
import { checkRequestedIdentity, checkRequestFields, checkTokenIdentity, type IdentityScope, type RawCertifyRequest } from './certify-checks.ts';
import type { IdentityMetrics } from './metrics.ts';
import { type Refusal, refusalFor } from './refusals.ts';
import type { TokenReviewer } from './token-review.ts';

export interface CertifierOptions {
  scope: IdentityScope;
  lifetimeMs: number;
  skewMs: number;
  /** The issuer to sign with right now (it changes when the files are rotated). */
  issuer: () => SigningCa;
  reviewer: TokenReviewer;
  metrics: IdentityMetrics;
  log: Logger;
}

export interface IssuedChain {
  leafDer: Uint8Array;
  intermediatesDer: Uint8Array[];
  validUntil: Date;
}

export type CertifyOutcome = { ok: true; value: IssuedChain } | { ok: false; refusal: Refusal };

export class Certifier {
  constructor(private readonly opts: CertifierOptions) {}

  async certify(raw: RawCertifyRequest): Promise<CertifyOutcome> {
    const { log, metrics } = this.opts;
    try {
      const value = await this.#issue(raw);
      metrics.issued.inc();
      log.info('certificate issued', { identity: raw.identity, validUntil: value.validUntil.toISOString() });
      return { ok: true, value };
    } catch (err) {
      const refusal = refusalFor(err);
      metrics.refused(refusal.reason);
      const fields = { identity: raw.identity, reason: refusal.reason, error: refusal.message };
      if (refusal.reason === 'internal') log.error('certify failed', fields);
      else log.info('certify refused', fields);
      return { ok: false, refusal };
    }
  }

  async #issue(raw: RawCertifyRequest): Promise<IssuedChain> {
    const { scope, reviewer } = this.opts;
    const req = checkRequestFields(raw);
    checkRequestedIdentity(req.identity, scope);
    // The CSR is checked before the token is reviewed (Linkerd's order); the issuer signs only after both.
    await checkCsr(req.csrDer, req.identity);
    const username = await reviewer.authenticate(req.token);
    checkTokenIdentity(username, req.identity, scope);
    const issuer = this.opts.issuer();
    const signed = await signCsr(req.csrDer, issuer.bundle, {
      identity: req.identity,
      lifetimeMs: this.opts.lifetimeMs,
      skewMs: this.opts.skewMs,
      chain: issuer.chain,
    });
    return { leafDer: signed.leafDer, intermediatesDer: signed.intermediatesDer, validUntil: signed.validUntil };
  }
}
