// The CSR checks run before the token is reviewed (Linkerd's order), with exactly signCsr's
// rules and errors. signCsr checks and signs in one step, so the preflight signs with a
// throwaway in-memory CA: the real issuer never signs anything for an unauthenticated caller.
import { signCsr } from '../identity/csr-signing.ts';
import { type CertBundle, createSelfSignedCa } from '../identity/x509.ts';

const PREFLIGHT_CA_LIFETIME_MS = 100 * 365 * 24 * 3600 * 1000;

export class CsrPreflight {
  private constructor(readonly ca: CertBundle) {}

  static async create(): Promise<CsrPreflight> {
    return new CsrPreflight(await createSelfSignedCa({ commonName: 'csr-preflight.invalid', lifetimeMs: PREFLIGHT_CA_LIFETIME_MS }));
  }

  /** Throws signCsr's CsrRejectedError subclasses (or InvalidIdentityNameError) when the CSR would be refused. */
  async check(csrDer: Uint8Array, identity: string): Promise<void> {
    await signCsr(csrDer, this.ca, { identity, lifetimeMs: 1000, skewMs: 0 });
  }
}
