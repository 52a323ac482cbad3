// The Certify protocol shared by the identity service and its clients (the gateway): names,
// the token audience, and the gRPC service definition in domain types. The protobuf shapes
// (snake_case, Buffers, Timestamp) stay behind this adapter.
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import {
  type CertifyRequest,
  type CertifyRequestOut,
  type CertifyResponse,
  type CertifyResponseOut,
  identityServiceDefinition as wireDefinition,
} from '../proto/load.ts';
import { formatIdentityName } from './identity-name.ts';

/** The audience a proxy's projected ServiceAccount token must carry (Linkerd's `identity.l5d.io`). */
export const IDENTITY_TOKEN_AUDIENCE = 'identity.l5d.io';

/** Linkerd's identity Deployment runs as this ServiceAccount, which names its TLS identity. */
export const IDENTITY_SERVICE_ACCOUNT = 'linkerd-identity';

/**
 * `linkerd-identity.<ns>.serviceaccount.identity.<ns>.<trustDomain>`: the name clients verify the
 * identity service's certificate against (Linkerd's LINKERD2_PROXY_IDENTITY_SVC_NAME).
 */
export function identityServiceName(controlNamespace: string, trustDomain: string): string {
  return formatIdentityName({ serviceAccount: IDENTITY_SERVICE_ACCOUNT, namespace: controlNamespace, controlNamespace, trustDomain });
}

export interface CertifyRequestMessage {
  identity: string;
  token: Uint8Array;
  certificateSigningRequest: Uint8Array;
}

export interface CertifyResponseMessage {
  leafCertificate: Uint8Array;
  intermediateCertificates: Uint8Array[];
  validUntil: Date;
}

export type CertifyMethod = MethodDefinition<CertifyRequestMessage, CertifyResponseMessage>;

export interface IdentityServiceDefinition extends ServiceDefinition {
  Certify: CertifyMethod;
}

/** no valid_until in a Certify response: a proxy could not schedule its renewal. */
export class MissingValidUntilError extends Error {
  override readonly name = 'MissingValidUntilError';
}

interface WireCertify {
  path: string;
  requestSerialize: (m: CertifyRequest) => Buffer;
  requestDeserialize: (b: Buffer) => CertifyRequestOut;
  responseSerialize: (m: CertifyResponse) => Buffer;
  responseDeserialize: (b: Buffer) => CertifyResponseOut;
}

let definition: IdentityServiceDefinition | undefined;

/** For grpc Server#addService and Client#makeUnaryRequest, in domain types. */
export function identityServiceDefinition(): IdentityServiceDefinition {
  if (definition) return definition;
  // The loader's definition is untyped (MethodDefinition<any, any>); these are the shapes it takes and returns.
  const wire: WireCertify = wireDefinition().Certify;
  const certify: CertifyMethod = {
    path: wire.path,
    requestStream: false,
    responseStream: false,
    requestSerialize: (m) =>
      wire.requestSerialize({
        identity: m.identity,
        token: Buffer.from(m.token),
        certificate_signing_request: Buffer.from(m.certificateSigningRequest),
      }),
    requestDeserialize: (bytes) => {
      const r = wire.requestDeserialize(bytes);
      return { identity: r.identity, token: r.token, certificateSigningRequest: r.certificate_signing_request };
    },
    responseSerialize: (m) =>
      wire.responseSerialize({
        leaf_certificate: Buffer.from(m.leafCertificate),
        intermediate_certificates: m.intermediateCertificates.map((c) => Buffer.from(c)),
        valid_until: toTimestamp(m.validUntil),
      }),
    responseDeserialize: (bytes) => {
      const r = wire.responseDeserialize(bytes);
      if (r.valid_until === null) throw new MissingValidUntilError('the Certify response has no valid_until');
      return {
        leafCertificate: r.leaf_certificate,
        intermediateCertificates: r.intermediate_certificates,
        validUntil: new Date(Number(r.valid_until.seconds) * 1000 + Math.floor(r.valid_until.nanos / 1e6)),
      };
    },
  };
  return (definition = { Certify: certify });
}

function toTimestamp(d: Date): { seconds: string; nanos: number } {
  const ms = d.getTime();
  const seconds = Math.floor(ms / 1000);
  return { seconds: String(seconds), nanos: (ms - seconds * 1000) * 1e6 };
}
