// The per-cluster identity issuer: an intermediate CA signed by the shared trust anchor,
// used by the identity controller to sign proxy certificates. Linkerd's controller verifies
// it against the anchors *and* the DNS name identity.<controlNs>.<trustDomain>, so that name
// is both its CN and its one DNS SAN; pathlen 0 because it signs only leaves.
import { Defaults } from '../model/linkerd-names.ts';
import { formatIdentityName } from './identity-name.ts';
import { DEFAULT_CA_LIFETIME_MS } from './trust-anchor.ts';
import { type CertBundle, issueCertificate } from './x509.ts';

export interface IssuerOptions {
  trustDomain?: string;
  controlNamespace?: string;
  lifetimeMs?: number;
  now?: Date;
}

/** `identity.<controlNs>.<trustDomain>`, the name Linkerd's identity controller expects. */
export function issuerCommonName(controlNamespace: string, trustDomain: string): string {
  // Validates both parts with the same rules as workload identities.
  formatIdentityName({ serviceAccount: 'x', namespace: 'x', controlNamespace, trustDomain });
  return `identity.${controlNamespace}.${trustDomain}`;
}

export async function createIdentityIssuer(anchor: CertBundle, opts: IssuerOptions = {}): Promise<CertBundle> {
  const name = issuerCommonName(opts.controlNamespace ?? Defaults.linkerdNamespace, opts.trustDomain ?? Defaults.trustDomain);
  return issueCertificate(anchor, {
    commonName: name,
    dnsNames: [name],
    isCa: true,
    pathLength: 0,
    lifetimeMs: opts.lifetimeMs ?? DEFAULT_CA_LIFETIME_MS,
    notBefore: opts.now ?? new Date(),
  });
}
