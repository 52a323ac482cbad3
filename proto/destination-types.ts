// TypeScript shapes of the `io.linkerd.proxy.destination` messages (destination.proto), in the
// form the gRPC loader takes them (plain names: what a server writes or a client sends) and
// returns them (`...Out`: scalar defaults filled in, absent messages `null`, and each oneof named
// by a discriminator field, e.g. `update: 'add'`). Field names are the proto's (snake_case).
import type { TcpAddress, TcpAddressOut } from './net-types.ts';

type Empty = Record<string, never>;

/** google.protobuf.Duration; `seconds` is a decimal string when decoded (longs: String). */
export interface Duration {
  seconds: string | number;
  nanos?: number;
}
export interface DurationOut {
  seconds: string;
  nanos: number;
}

// === meta ===

export interface Resource {
  group?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  section?: string;
  port?: number;
}
export type Metadata = { default: string } | { resource: Resource };
export type MetadataOut = { kind: 'default'; default: string } | { kind: 'resource'; resource: Required<Resource> } | { kind?: undefined };

// === Get ===

export interface GetDestination {
  scheme?: string;
  /** "name:port" or "ip:port". */
  path: string;
  context_token?: string;
}
export type GetDestinationOut = Required<GetDestination>;

export type Update = { add: WeightedAddrSet } | { remove: AddrSet } | { no_endpoints: NoEndpoints };
export type UpdateOut =
  | { update: 'add'; add: WeightedAddrSetOut }
  | { update: 'remove'; remove: AddrSetOut }
  | { update: 'no_endpoints'; no_endpoints: NoEndpoints }
  | { update?: undefined };

export interface AddrSet {
  addrs: TcpAddress[];
}
export interface AddrSetOut {
  addrs: TcpAddressOut[];
}

export interface NoEndpoints {
  exists: boolean;
}

export interface WeightedAddrSet {
  addrs: WeightedAddr[];
  metric_labels?: Record<string, string>;
}
export interface WeightedAddrSetOut {
  addrs: WeightedAddrOut[];
  metric_labels: Record<string, string>;
}

export interface WeightedAddr {
  addr: TcpAddress;
  /** Linkerd's default is 10000. */
  weight: number;
  metric_labels?: Record<string, string>;
  tls_identity?: TlsIdentity;
  protocol_hint?: ProtocolHint;
  authority_override?: AuthorityOverride;
  http2?: Http2ClientParams;
  resource_ref?: Metadata;
}
export interface WeightedAddrOut {
  addr: TcpAddressOut | null;
  weight: number;
  metric_labels: Record<string, string>;
  tls_identity: TlsIdentityOut | null;
  protocol_hint: ProtocolHintOut | null;
  authority_override: AuthorityOverride | null;
  http2: Http2ClientParamsOut | null;
  resource_ref: MetadataOut | null;
}

export interface DnsLikeIdentity {
  name: string;
}
export interface UriLikeIdentity {
  uri: string;
}
/** When `server_name` is unset, clients use the DNS-like identity as SNI. */
export type TlsIdentity = ({ dns_like_identity: DnsLikeIdentity } | { uri_like_identity: UriLikeIdentity }) & { server_name?: DnsLikeIdentity };
export type TlsIdentityOut = (
  | { strategy: 'dns_like_identity'; dns_like_identity: DnsLikeIdentity }
  | { strategy: 'uri_like_identity'; uri_like_identity: UriLikeIdentity }
  | { strategy?: undefined }
) & { server_name: DnsLikeIdentity | null };

export interface AuthorityOverride {
  /** host:port */
  authority_override: string;
}

export interface OpaqueTransport {
  inbound_port: number;
}
export type ProtocolHint = ({ h2: Empty; opaque?: never } | { opaque: Empty; h2?: never } | { h2?: never; opaque?: never }) & {
  opaque_transport?: OpaqueTransport;
};
export type ProtocolHintOut = ({ protocol: 'h2'; h2: Empty } | { protocol: 'opaque'; opaque: Empty } | { protocol?: undefined }) & {
  opaque_transport: OpaqueTransport | null;
};

export interface Http2FlowControl {
  initial_connection_window_size?: number;
  initial_stream_window_size?: number;
  adaptive_flow_control?: boolean;
}
export interface Http2KeepAlive {
  interval?: Duration;
  timeout?: Duration;
  while_idle?: boolean;
}
export interface Http2Internals {
  max_concurrent_reset_streams?: number;
  max_frame_size?: number;
  max_send_buf_size?: number;
}
export interface Http2ClientParams {
  flow_control?: Http2FlowControl;
  keep_alive?: Http2KeepAlive;
  internals?: Http2Internals;
}
export interface Http2ClientParamsOut {
  flow_control: Required<Http2FlowControl> | null;
  keep_alive: { interval: DurationOut | null; timeout: DurationOut | null; while_idle: boolean } | null;
  internals: Required<Http2Internals> | null;
}

// === GetProfile ===

export type DestinationProtocol = 'UNKNOWN' | 'DETECT' | 'OPAQUE' | 'HTTP1' | 'HTTP2' | 'TLS';

export interface DestinationProfile {
  /** The service's name without a port; empty when the target is not a known service. */
  fully_qualified_name?: string;
  opaque_protocol?: boolean;
  routes?: Route[];
  retry_budget?: RetryBudget;
  dst_overrides?: WeightedDst[];
  /** Set when the target is a single known endpoint. */
  endpoint?: WeightedAddr;
  parent_ref?: Metadata;
  profile_ref?: Metadata;
  protocol?: DestinationProtocol;
}
export interface DestinationProfileOut {
  fully_qualified_name: string;
  opaque_protocol: boolean;
  routes: RouteOut[];
  retry_budget: RetryBudgetOut | null;
  dst_overrides: WeightedDstOut[];
  endpoint: WeightedAddrOut | null;
  parent_ref: MetadataOut | null;
  profile_ref: MetadataOut | null;
  /** Absent (not defaulted) when unset: the field is proto3 `optional`. */
  protocol?: DestinationProtocol;
}

export interface Route {
  condition?: RequestMatch;
  response_classes?: ResponseClass[];
  metrics_labels?: Record<string, string>;
  is_retryable?: boolean;
  timeout?: Duration;
}
export interface RouteOut {
  condition: RequestMatchOut | null;
  response_classes: ResponseClassOut[];
  metrics_labels: Record<string, string>;
  is_retryable: boolean;
  timeout: DurationOut | null;
}

export type HttpMethod =
  { registered: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'OPTIONS' | 'CONNECT' | 'HEAD' | 'TRACE' } | { unregistered: string };

export type RequestMatch =
  | { all: { matches: RequestMatch[] } }
  | { any: { matches: RequestMatch[] } }
  | { not: RequestMatch }
  | { path: { regex: string } }
  | { method: HttpMethod };
export type RequestMatchOut =
  | { match: 'all'; all: { matches: RequestMatchOut[] } }
  | { match: 'any'; any: { matches: RequestMatchOut[] } }
  | { match: 'not'; not: RequestMatchOut }
  | { match: 'path'; path: { regex: string } }
  | { match: 'method'; method: HttpMethod & { type: 'registered' | 'unregistered' } }
  | { match?: undefined };

export interface HttpStatusRange {
  min?: number;
  max?: number;
}
export type ResponseMatch =
  { all: { matches: ResponseMatch[] } } | { any: { matches: ResponseMatch[] } } | { not: ResponseMatch } | { status: HttpStatusRange };
export type ResponseMatchOut =
  | { match: 'all'; all: { matches: ResponseMatchOut[] } }
  | { match: 'any'; any: { matches: ResponseMatchOut[] } }
  | { match: 'not'; not: ResponseMatchOut }
  | { match: 'status'; status: Required<HttpStatusRange> }
  | { match?: undefined };

export interface ResponseClass {
  condition?: ResponseMatch;
  is_failure?: boolean;
}
export interface ResponseClassOut {
  condition: ResponseMatchOut | null;
  is_failure: boolean;
}

export interface RetryBudget {
  retry_ratio?: number;
  min_retries_per_second?: number;
  ttl?: Duration;
}
export interface RetryBudgetOut {
  retry_ratio: number;
  min_retries_per_second: number;
  ttl: DurationOut | null;
}

export interface WeightedDst {
  /** Used as the `path` of a Destination.Get call. */
  authority: string;
  weight: number;
  backend_ref?: Metadata;
}
export interface WeightedDstOut {
  authority: string;
  weight: number;
  backend_ref: MetadataOut | null;
}
