// The trust anchor: the self-signed root every proxy in every linked cluster trusts
// (LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS). Clusters that share it can authenticate each
// other's workloads, which is what lets multicluster traffic be mTLS end to end.
import { type CertBundle, createSelfSignedCa } from './x509.ts';

export const DEFAULT_ANCHOR_COMMON_NAME = 'root.linkerd.cluster.local';
/** The Linkerd CLI's default CA lifetime. */
export const DEFAULT_CA_LIFETIME_MS = 365 * 24 * 3600 * 1000;

export interface TrustAnchorOptions {
  commonName?: string;
  lifetimeMs?: number;
  now?: Date;
}

export async function createTrustAnchor(opts: TrustAnchorOptions = {}): Promise<CertBundle> {
  return createSelfSignedCa({
    commonName: opts.commonName ?? DEFAULT_ANCHOR_COMMON_NAME,
    lifetimeMs: opts.lifetimeMs ?? DEFAULT_CA_LIFETIME_MS,
    notBefore: opts.now ?? new Date(),
  });
}
