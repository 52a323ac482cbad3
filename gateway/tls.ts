// TLS as a Linkerd proxy's server side does it: TLS 1.3 only, the workload's P-256 identity as
// server certificate, client certificates requested and verified against the trust anchors
// with no hostname check, the client's identity being its leaf's first DNS SAN.
import type * as tls from 'node:tls';
import type { Credentials } from './identity-source.ts';

export const TRANSPORT_ALPN = 'transport.l5d.io/v1';

/** A Linkerd proxy's TLS 1.3 suites, in its order: AES-128-GCM first, which is also the cheapest per byte here. */
export const CIPHER_SUITES = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';

/** Why a handshaken connection is refused before any byte of the header is read. */
export type ClientAuthFailure = 'no_client_cert' | 'client_cert_expired' | 'untrusted_client_cert' | 'no_client_identity';

export type ClientAuth = { ok: true; clientId: string } | { ok: false; reason: ClientAuthFailure; detail: string };

/** SecureContext material for the current credentials (what setSecureContext swaps in on renewal). */
export function secureContextOptions(c: Credentials): tls.SecureContextOptions {
  return {
    cert: c.certChainPem,
    key: c.keyPem,
    ca: c.trustAnchorsPem,
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    ciphers: CIPHER_SUITES,
  };
}

/** Server options for a listener that requests client certificates and decides about them itself. */
export function serverTlsOptions(c: Credentials, alpn: readonly string[] | undefined): tls.TlsOptions {
  return {
    ...secureContextOptions(c),
    requestCert: true,
    honorCipherOrder: true,
    // Checked after the handshake so each refusal is counted by reason (and a plaintext probe still answers).
    rejectUnauthorized: false,
    ...(alpn === undefined ? {} : { ALPNProtocols: [...alpn] }),
  };
}

/** Client options for dialing a meshed peer that must prove `serverId`. */
export function clientTlsOptions(c: Credentials, serverId: string, alpn: readonly string[] | undefined): tls.ConnectionOptions {
  return {
    ...secureContextOptions(c),
    servername: serverId,
    rejectUnauthorized: true,
    // Trust-anchor chain check only; the identity check below replaces the hostname check.
    checkServerIdentity: (_host, cert) => {
      const id = firstSan(cert.subjectaltname);
      return id === serverId ? undefined : new Error(`server identity "${id ?? 'none'}" is not the expected "${serverId}"`);
    },
    ...(alpn === undefined ? {} : { ALPNProtocols: [...alpn] }),
  };
}

/** The authenticated client identity of a server-side TLS socket, or why there is none. */
export function clientAuth(socket: tls.TLSSocket): ClientAuth {
  const peer = socket.getPeerCertificate(false) as tls.PeerCertificate | Record<string, never>;
  if (peer === null || Object.keys(peer).length === 0)
    return { ok: false, reason: 'no_client_cert', detail: 'direct connections must be mutually authenticated' };
  if (!socket.authorized) {
    const code = String(socket.authorizationError ?? 'unknown');
    if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return { ok: false, reason: 'client_cert_expired', detail: code };
    return { ok: false, reason: 'untrusted_client_cert', detail: code };
  }
  const id = firstSan((peer as tls.PeerCertificate).subjectaltname);
  if (id === undefined) return { ok: false, reason: 'no_client_identity', detail: 'the client certificate has no DNS or URI SAN' };
  return { ok: true, clientId: id };
}

/** First DNS SAN, else first URI SAN, from Node's `subjectaltname` string ("DNS:a, URI:b"). */
export function firstSan(subjectaltname: string | undefined): string | undefined {
  if (subjectaltname === undefined) return undefined;
  const entries = subjectaltname.split(', ').map((e) => {
    const i = e.indexOf(':');
    return { kind: e.slice(0, i), value: e.slice(i + 1) };
  });
  return (entries.find((e) => e.kind === 'DNS') ?? entries.find((e) => e.kind === 'URI'))?.value;
}
