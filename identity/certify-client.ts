/**
 * A client of Linkerd's identity service (`io.linkerd.proxy.identity.Identity/Certify`), as a
 * proxy calls it: over TLS 1.3, trusting only the mesh's trust anchors, and accepting the server
 * only if its leaf certificate carries the identity service's name as a DNS SAN (Linkerd checks
 * SANs, never the CN, and never the address dialled).
 *
 * Stable signature (the gateway depends on it):
 *
 *   certify({ addr, serverName, trustAnchorsPem, identity, token | tokenFile, csrDer, deadlineMs? })
 *     → Promise<{ leafDer, intermediatesDer, validUntil }>
 *
 * - addr: `host:port` of the identity service (e.g. `linkerd-identity.linkerd.svc.cluster.local:8080`).
 * - serverName: the identity service's identity, usually `identityServiceName(controlNs, trustDomain)`
 *   = `linkerd-identity.linkerd.serviceaccount.identity.linkerd.cluster.local`; also sent as SNI.
 * - trustAnchorsPem: the PEM bundle the server's chain must verify against.
 * - identity: the name asked for; csrDer: a DER PKCS#10 request for it (identity/csr-signing.ts createCsr).
 * - token, or tokenFile (read on every call, since projected tokens rotate): a ServiceAccount token with
 *   audience IDENTITY_TOKEN_AUDIENCE (`identity.l5d.io`).
 * - Result: DER leaf, DER intermediates (issuer first), and the leaf's NotAfter.
 * - Failures reject with CertifyError: `code` is the gRPC status (InvalidArgument, FailedPrecondition,
 *   Unavailable, DeadlineExceeded, ...) and `details` the server's explanation.
 */
import { readFile } from 'node:fs/promises';
import { createSecureContext, type PeerCertificate } from 'node:tls';
import { type ChannelCredentials, Client, credentials as grpcCredentials, type ServiceError, status } from '@grpc/grpc-js';
import { type CertifyResponseMessage, identityServiceDefinition } from './certify-protocol.ts';

export interface CertifyOptions {
  addr: string;
  serverName: string;
  trustAnchorsPem: string;
  identity: string;
  token?: string | Uint8Array;
  tokenFile?: string;
  csrDer: Uint8Array;
  /** Default 10 s. */
  deadlineMs?: number;
}

export interface CertifyResult {
  leafDer: Uint8Array;
  intermediatesDer: Uint8Array[];
  validUntil: Date;
}

/** Certify failed; `code` is the gRPC status code, `details` the server's (or transport's) message. */
export class CertifyError extends Error {
  override readonly name = 'CertifyError';

  constructor(
    readonly code: status,
    readonly details: string,
    options?: ErrorOptions,
  ) {
    super(`Certify failed with ${status[code] ?? code}: ${details}`, options);
  }
}

const DEFAULT_DEADLINE_MS = 10_000;

export async function certify(opts: CertifyOptions): Promise<CertifyResult> {
  const token = await tokenBytes(opts);
  const def = identityServiceDefinition();
  const client = new Client(opts.addr, channelCredentials(opts.trustAnchorsPem, opts.serverName), {
    'grpc.ssl_target_name_override': opts.serverName,
    'grpc.default_authority': opts.serverName,
  });
  try {
    const res = await new Promise<CertifyResponseMessage>((resolve, reject) => {
      client.makeUnaryRequest(
        def.Certify.path,
        def.Certify.requestSerialize,
        def.Certify.responseDeserialize,
        { identity: opts.identity, token, certificateSigningRequest: opts.csrDer },
        { deadline: Date.now() + (opts.deadlineMs ?? DEFAULT_DEADLINE_MS) },
        (err: ServiceError | null, value?: CertifyResponseMessage) => {
          if (err) reject(new CertifyError(err.code, err.details, { cause: err }));
          else if (value === undefined) reject(new CertifyError(status.INTERNAL, 'empty response'));
          else resolve(value);
        },
      );
    });
    return { leafDer: res.leafCertificate, intermediatesDer: res.intermediateCertificates, validUntil: res.validUntil };
  } finally {
    client.close();
  }
}

/** TLS 1.3 only, anchors only, and the peer's DNS SANs must name `serverName` exactly. */
export function channelCredentials(trustAnchorsPem: string, serverName: string): ChannelCredentials {
  const context = createSecureContext({ ca: trustAnchorsPem, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' });
  return grpcCredentials.createFromSecureContext(context, {
    checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerSan(cert, serverName),
  });
}

/** undefined when one of the certificate's DNS SANs is exactly `serverName`, else the error to fail the handshake with. */
export function checkServerSan(cert: Pick<PeerCertificate, 'subjectaltname' | 'subject'>, serverName: string): Error | undefined {
  const dns = (cert.subjectaltname ?? '')
    .split(', ')
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice('DNS:'.length));
  if (dns.includes(serverName)) return undefined;
  return new Error(
    `the identity service's certificate names ${dns.length === 0 ? 'no DNS SAN' : `DNS SANs ${dns.join(', ')}`}, ` +
      `not "${serverName}": check the address and --trust-domain/--control-namespace of the identity service`,
  );
}

async function tokenBytes(opts: CertifyOptions): Promise<Uint8Array> {
  if (opts.token !== undefined) return typeof opts.token === 'string' ? Buffer.from(opts.token, 'utf8') : opts.token;
  if (opts.tokenFile === undefined) throw new CertifyError(status.INVALID_ARGUMENT, 'pass token or tokenFile');
  try {
    return await readFile(opts.tokenFile);
  } catch (err) {
    throw new CertifyError(status.INVALID_ARGUMENT, `cannot read the token file "${opts.tokenFile}": ${String(err)}`, { cause: err });
  }
}
