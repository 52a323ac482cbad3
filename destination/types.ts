// The destination service's domain: what a proxy is told about one endpoint, independent of
// the protobuf encoding (destination/to-wire.ts is the only place that knows the wire shapes).

export interface TcpAddr {
  readonly ip: string;
  readonly port: number;
}

/** How the proxy should talk to the endpoint; absent for unmeshed endpoints. */
export type ProtocolHint =
  | { readonly kind: 'h2' }
  /** Opaque traffic goes to the peer proxy's inbound port with a transport header. */
  | { readonly kind: 'opaque'; readonly inboundPort?: number };

/** A DNS-like TLS identity; serverName is absent for gateways, as upstream sends them. */
export interface TlsIdentity {
  readonly name: string;
  readonly serverName?: string;
}

export interface Endpoint extends TcpAddr {
  readonly weight: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly identity?: TlsIdentity;
  readonly hint?: ProtocolHint;
  /** `<remote fq name>:<port>` for gateway endpoints: the gateway routes by it. */
  readonly authorityOverride?: string;
  /** Send the meshed HTTP/2 client parameters (keep-alives) with this endpoint. */
  readonly http2: boolean;
}

/** Endpoints that share their set-level metric labels (one Service of one cluster). */
export interface EndpointGroup {
  readonly key: string;
  readonly setLabels: Readonly<Record<string, string>>;
  readonly endpoints: readonly Endpoint[];
}

/** What a Get stream should currently hold. */
export interface DesiredSet {
  /** False once the requested Service is gone: the proxy is told it does not exist. */
  readonly exists: boolean;
  readonly groups: readonly EndpointGroup[];
}

/** One message on a Get stream, in domain terms. */
export type Update =
  | { readonly kind: 'add'; readonly setLabels: Readonly<Record<string, string>>; readonly endpoints: readonly Endpoint[] }
  | { readonly kind: 'remove'; readonly addrs: readonly TcpAddr[] }
  | { readonly kind: 'no-endpoints'; readonly exists: boolean };

/** The profile a GetProfile stream carries. */
export interface Profile {
  readonly fullyQualifiedName: string;
  readonly opaqueProtocol: boolean;
}

/** Endpoints are immutable and reused while unchanged (translate.ts's slice cache), so their keys are computed once. */
const keys = new WeakMap<TcpAddr, string>();

/** `ip:port`: how the proxy identifies an address. */
export function addrKey(a: TcpAddr): string {
  let k = keys.get(a);
  if (k === undefined) keys.set(a, (k = `${a.ip}:${a.port}`));
  return k;
}
