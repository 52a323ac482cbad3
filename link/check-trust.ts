// Comparing two clusters' Linkerd trust anchors by what the certificates are, not how the
// PEM is written: each bundle becomes a set of SHA-256 fingerprints of the DER, so line
// wrapping, CRLF, comments between blocks and order make no difference.
import { X509Certificate } from 'node:crypto';

export const TRUST_ROOTS_CONFIGMAP = 'linkerd-identity-trust-roots';
export const TRUST_ROOTS_KEY = 'ca-bundle.crt';

export class TrustBundleError extends Error {
  override readonly name = 'TrustBundleError';
}

export interface Anchor {
  /** SHA-256 of the DER, colon-separated hex (as openssl prints it). */
  fingerprint: string;
  subject: string;
}

/** Every certificate in a PEM bundle; a bundle without one, or with a broken one, is an error. */
export function parseTrustBundle(pem: string): Anchor[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new TrustBundleError('holds no PEM CERTIFICATE block');
  const seen = new Map<string, Anchor>();
  blocks.forEach((block, i) => {
    let cert: X509Certificate;
    try {
      // Re-wrap the base64 so odd line lengths or CRLF never matter to the parser.
      const b64 = block.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
      cert = new X509Certificate(Buffer.from(b64, 'base64'));
    } catch {
      throw new TrustBundleError(`certificate #${i + 1} is not a valid X.509 certificate`);
    }
    seen.set(cert.fingerprint256, { fingerprint: cert.fingerprint256, subject: cert.subject.replace(/\n/g, ', ') });
  });
  return [...seen.values()];
}

export type AnchorComparison =
  | { kind: 'equal'; count: number }
  /** Some anchors in common: mTLS works, as during a rotation, but the bundles differ. */
  | { kind: 'overlap'; shared: number; onlyLocal: Anchor[]; onlyRemote: Anchor[] }
  | { kind: 'disjoint'; local: Anchor[]; remote: Anchor[] };

export function compareAnchors(local: readonly Anchor[], remote: readonly Anchor[]): AnchorComparison {
  const l = new Set(local.map((a) => a.fingerprint));
  const r = new Set(remote.map((a) => a.fingerprint));
  const onlyLocal = local.filter((a) => !r.has(a.fingerprint));
  const onlyRemote = remote.filter((a) => !l.has(a.fingerprint));
  if (onlyLocal.length === 0 && onlyRemote.length === 0) return { kind: 'equal', count: l.size };
  const shared = local.length - onlyLocal.length;
  if (shared > 0) return { kind: 'overlap', shared, onlyLocal, onlyRemote };
  return { kind: 'disjoint', local: [...local], remote: [...remote] };
}

/** `CN=root.linkerd.cluster.local (SHA256 AB:CD:…)` for messages. */
export function describeAnchor(a: Anchor): string {
  return `${a.subject} (SHA256 ${a.fingerprint.slice(0, 11)}…)`;
}
