// Identity from the Linkerd identity service (ours or Linkerd's): a fresh key and CSR, sent
// with the ServiceAccount token to Certify; the returned leaf is checked against the trust
// anchors and our own name, and renewed at 70% of its lifetime.
import { readFileSync } from 'node:fs';
import { certify } from '../identity/certify-client.ts';
import { identityServiceName } from '../identity/certify-protocol.ts';
import { createCsr } from '../identity/csr-signing.ts';
import { parseIdentityName } from '../identity/identity-name.ts';
import { exportPrivateKeyPem, parseCertificates, x509 } from '../identity/x509.ts';
import type { Logger } from '../log/logger.ts';
import { GatewayError } from './errors.ts';
import { derToPem, leafIdentity, RenewingSource } from './identity-source.ts';

export class CertifiedLeafError extends GatewayError {
  override readonly name = 'CertifiedLeafError';
}

export interface ServiceIdentityOptions {
  /** `host:port` of the identity service. */
  addr: string;
  tokenFile: string;
  trustAnchorsFile: string;
  identity: string;
  /** Default: `identity.<controlNs>.serviceaccount.identity.<controlNs>.<trustDomain>` from our own name's parts. */
  serverName?: string;
  log: Logger;
}

export function defaultIdentityServerName(identity: string): string {
  const p = parseIdentityName(identity);
  return identityServiceName(p.controlNamespace, p.trustDomain);
}

export function serviceIdentitySource(o: ServiceIdentityOptions): RenewingSource {
  const serverName = o.serverName ?? defaultIdentityServerName(o.identity);
  return new RenewingSource(
    async () => {
      const trustAnchorsPem = readFileSync(o.trustAnchorsFile, 'utf8');
      const anchors = parseCertificates(trustAnchorsPem);
      const { csrDer, keys } = await createCsr(o.identity);
      const res = await certify({ addr: o.addr, serverName, trustAnchorsPem, identity: o.identity, tokenFile: o.tokenFile, csrDer });
      const leaf = new x509.X509Certificate(res.leafDer);
      if (leafIdentity(leaf) !== o.identity) {
        throw new CertifiedLeafError(`the identity service returned a certificate for "${leafIdentity(leaf) ?? 'nothing'}", not "${o.identity}"`);
      }
      const intermediates = res.intermediatesDer.map((d) => new x509.X509Certificate(d));
      const chain = new x509.X509ChainBuilder({ certificates: [...intermediates, ...anchors] });
      const built = await chain.build(leaf);
      const root = built[built.length - 1];
      if (root === undefined || !anchors.some((a) => a.equal(root))) {
        throw new CertifiedLeafError('the certificate from the identity service does not chain to the trust anchors');
      }
      return {
        credentials: {
          identity: o.identity,
          certChainPem: [res.leafDer, ...res.intermediatesDer].map(derToPem).join(''),
          keyPem: await exportPrivateKeyPem(keys.privateKey),
          trustAnchorsPem,
          notAfter: res.validUntil,
        },
        notBefore: leaf.notBefore,
      };
    },
    o.log,
    { retryFirst: true },
  );
}
