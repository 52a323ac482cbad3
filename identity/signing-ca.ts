// Loading a CA (trust anchor or identity issuer) from PEM to sign with, refusing anything
// that would produce certificates Linkerd rejects later, when the failure is harder to trace.
import type { x509 } from './x509.ts';
import { type CertBundle, isCa, IssuerExpiredError, IssuerNotCaError, loadCertBundle, parseCertificates } from './x509.ts';

export interface SigningCa {
  bundle: CertBundle;
  /** Certificates after the first in the PEM file (the issuer's own chain), in file order. */
  chain: x509.X509Certificate[];
  /** The earliest NotAfter of the CA and its chain: nothing it signs may outlive it. */
  expiresAt: Date;
}

/**
 * `role` names the CA in messages ("trust anchor", "identity issuer"). The certificate PEM may
 * carry the CA's chain after it, as Linkerd's issuer `crt.pem` may.
 */
export async function loadSigningCa(certPem: string, keyPem: string, role: string, now: Date = new Date()): Promise<SigningCa> {
  const bundle = await loadCertBundle(certPem, keyPem);
  const chain = parseCertificates(certPem).slice(1);
  if (!isCa(bundle.cert)) {
    throw new IssuerNotCaError(
      `the ${role} certificate "${bundle.cert.subject}" is not a CA (basicConstraints CA:TRUE is missing), ` +
        'so it cannot sign certificates: pass the ca.crt/issuer.crt written by `multicluster certs anchor|issuer`',
    );
  }
  for (const cert of [bundle.cert, ...chain]) {
    if (cert.notAfter.getTime() <= now.getTime()) {
      throw new IssuerExpiredError(
        `the ${role} certificate "${cert.subject}" expired at ${cert.notAfter.toISOString()}: ` + `create a new ${role} and sign with it instead`,
      );
    }
  }
  const expiresAt = new Date(Math.min(...[bundle.cert, ...chain].map((c) => c.notAfter.getTime())));
  return { bundle, chain, expiresAt };
}
