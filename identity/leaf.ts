// Workload (proxy) certificates, issued the way a meshed pod gets one: the proxy's bootstrap
// CSR signed under the identity service's rules, so CLI-made leaves match real ones exactly.
import { createCsr, signCsr } from './csr-signing.ts';
import type { SigningCa } from './signing-ca.ts';
import { type CryptoKeyPair, exportPrivateKeyPem, type x509 } from './x509.ts';

/** Chart defaults: `identity.issuer.issuanceLifetime` and `clockSkewAllowance`. */
export const DEFAULT_LEAF_LIFETIME_MS = 24 * 3600 * 1000;
export const DEFAULT_CLOCK_SKEW_MS = 20 * 1000;

export interface LeafOptions {
  identity: string;
  lifetimeMs?: number;
  skewMs?: number;
  now?: Date;
}

export interface Leaf {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
  /** The leaf followed by the issuer and its chain (tls.crt). */
  chainPem: string;
  /** PKCS#8 PEM (tls.key). */
  keyPem: string;
}

export async function issueLeaf(issuer: SigningCa, opts: LeafOptions): Promise<Leaf> {
  const { csrDer, keys } = await createCsr(opts.identity);
  const signed = await signCsr(csrDer, issuer.bundle, {
    identity: opts.identity,
    lifetimeMs: opts.lifetimeMs ?? DEFAULT_LEAF_LIFETIME_MS,
    skewMs: opts.skewMs ?? DEFAULT_CLOCK_SKEW_MS,
    chain: issuer.chain,
    now: opts.now,
  });
  return { cert: signed.cert, keys, chainPem: signed.chainPem, keyPem: await exportPrivateKeyPem(keys.privateKey) };
}
