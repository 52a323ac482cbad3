// TLS for the Certify server: TLS 1.3 only (what Linkerd proxies speak), no client
// certificate (a proxy calls Certify before it has one), and a serving certificate that can be
// replaced while the server runs, which ServerCredentials.createSsl cannot do. grpc-js applies
// each update with setSecureContext, so new connections get the new certificate and
// established ones keep theirs.
import type { SecureContextOptions } from 'node:tls';
import { ServerCredentials } from '@grpc/grpc-js';

export interface ServingCertificate {
  /** The leaf followed by the issuer and its chain. */
  chainPem: string;
  keyPem: string;
}

const TLS13: Pick<SecureContextOptions, 'minVersion' | 'maxVersion'> = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' };

export class ReloadableServerCredentials extends ServerCredentials {
  constructor(initial: ServingCertificate) {
    super({ ...TLS13, requestCert: false }, contextOptions(initial));
  }

  /** Serves `next` to every connection accepted from now on. */
  update(next: ServingCertificate): void {
    this.updateSecureContextOptions(contextOptions(next));
  }

  _equals(other: ServerCredentials): boolean {
    return this === other;
  }
}

// setSecureContext builds a fresh context from these alone, so the version bounds go here too.
function contextOptions(c: ServingCertificate): SecureContextOptions {
  return { ...TLS13, cert: c.chainPem, key: c.keyPem };
}
