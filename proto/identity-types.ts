// TypeScript shapes of the `io.linkerd.proxy.identity` messages (identity.proto) as the gRPC
// loader takes them (plain names) and returns them (`...Out`). Certificates and CSRs are DER.

/** google.protobuf.Timestamp; `seconds` is a decimal string when decoded (longs: String). */
export interface Timestamp {
  seconds: string | number;
  nanos?: number;
}

export interface CertifyRequest {
  identity: string;
  token: Buffer;
  certificate_signing_request: Buffer;
}

export type CertifyRequestOut = CertifyRequest;

export interface CertifyResponse {
  leaf_certificate: Buffer;
  intermediate_certificates: Buffer[];
  valid_until: Timestamp;
}

export interface CertifyResponseOut {
  leaf_certificate: Buffer;
  intermediate_certificates: Buffer[];
  valid_until: { seconds: string; nanos: number } | null;
}
