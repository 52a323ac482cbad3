// Identity self-issued from a local issuer key (the demo and the dev clusters): the same
// CSR-and-sign path the identity service uses, renewed at 70% of the leaf lifetime.
import { readFileSync } from 'node:fs';
import { issueLeaf } from '../identity/leaf.ts';
import { loadSigningCa } from '../identity/signing-ca.ts';
import { parseCertificates } from '../identity/x509.ts';
import type { Logger } from '../log/logger.ts';
import { RenewingSource } from './identity-source.ts';

export interface IssuerIdentityOptions {
  issuerCertFile: string;
  issuerKeyFile: string;
  trustAnchorsFile: string;
  identity: string;
  /** Leaf lifetime; default 24 h (the chart's issuanceLifetime). */
  lifetimeMs?: number;
  log: Logger;
}

export function issuerIdentitySource(o: IssuerIdentityOptions): RenewingSource {
  return new RenewingSource(async () => {
    const trustAnchorsPem = readFileSync(o.trustAnchorsFile, 'utf8');
    parseCertificates(trustAnchorsPem);
    const ca = await loadSigningCa(readFileSync(o.issuerCertFile, 'utf8'), readFileSync(o.issuerKeyFile, 'utf8'), 'identity issuer');
    const leaf = await issueLeaf(ca, { identity: o.identity, ...(o.lifetimeMs === undefined ? {} : { lifetimeMs: o.lifetimeMs }) });
    return {
      credentials: { identity: o.identity, certChainPem: leaf.chainPem, keyPem: leaf.keyPem, trustAnchorsPem, notAfter: leaf.cert.notAfter },
      notBefore: leaf.cert.notBefore,
    };
  }, o.log);
}
