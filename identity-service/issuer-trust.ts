// The issuer must chain to the trust anchors, as Linkerd's identity controller insists at
// load time: leaves from an issuer the proxies do not trust would fail every handshake later,
// far from the cause.
import { X509Certificate } from 'node:crypto';
import type { SigningCa } from '../identity/signing-ca.ts';
import { PkiError, type x509 } from '../identity/x509.ts';

export class IssuerNotTrustedError extends PkiError {
  override readonly name = 'IssuerNotTrustedError';
}

export function checkIssuerTrusted(ca: SigningCa, anchors: readonly x509.X509Certificate[]): void {
  const chain = [ca.bundle.cert, ...ca.chain].map(toNode);
  const roots = anchors.map(toNode);
  for (let i = 0; i + 1 < chain.length; i++) {
    const [child, parent] = [chain[i], chain[i + 1]];
    if (child && parent && !signedBy(child, parent)) {
      throw new IssuerNotTrustedError(
        `certificate #${i + 1} in the issuer file ("${child.subject}") is not signed by the next one ("${parent.subject}"): ` +
          'the issuer file must hold the issuer first, then its own chain in order',
      );
    }
  }
  const top = chain[chain.length - 1];
  if (top === undefined) throw new IssuerNotTrustedError('the issuer file holds no certificate');
  // A chain that ends in the anchor itself is trusted as it stands.
  if (roots.some((r) => r.fingerprint256 === top.fingerprint256)) return;
  if (!roots.some((r) => signedBy(top, r))) {
    throw new IssuerNotTrustedError(
      `the identity issuer "${ca.bundle.cert.subject}" does not chain to any of the ${roots.length} trust anchor(s) in ` +
        '--trust-anchors: sign the issuer with the trust anchor (`multicluster certs issuer --ca-cert ca.crt --ca-key ca.key`) ' +
        'or pass the anchor bundle that signed it',
    );
  }
}

function toNode(cert: x509.X509Certificate): X509Certificate {
  return new X509Certificate(Buffer.from(cert.rawData));
}

function signedBy(child: X509Certificate, parent: X509Certificate): boolean {
  return child.checkIssued(parent) && child.verify(parent.publicKey);
}
