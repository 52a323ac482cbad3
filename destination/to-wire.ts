// The one place that knows the protobuf shapes: domain updates and profiles become
// io.linkerd.proxy.destination messages, encoded once so that every stream sharing a
// resolution writes the same bytes.
import {
  destinationServiceDefinition,
  tcpAddress,
  type DestinationProfile,
  type Http2ClientParams,
  type ProtocolHint as WireHint,
  type Update as WireUpdate,
  type WeightedAddr,
} from '../proto/load.ts';
import type { Endpoint, Profile, Update } from './types.ts';

/** Linkerd's chart default for meshed endpoints (destinationController.meshedHttp2ClientProtobuf). */
export const MESHED_HTTP2_PARAMS: Http2ClientParams = Object.freeze({
  keep_alive: { interval: { seconds: 10 }, timeout: { seconds: 3 }, while_idle: true },
});

/** Upstream's default retry budget, sent with every profile. */
const DEFAULT_RETRY_BUDGET = Object.freeze({ retry_ratio: 0.2, min_retries_per_second: 10, ttl: { seconds: 10 } });

export function endpointToWire(e: Endpoint): WeightedAddr {
  const out: WeightedAddr = { addr: tcpAddress(e.ip, e.port), weight: e.weight, metric_labels: { ...e.labels } };
  if (e.identity) {
    out.tls_identity = {
      dns_like_identity: { name: e.identity.name },
      ...(e.identity.serverName ? { server_name: { name: e.identity.serverName } } : {}),
    };
  }
  if (e.hint) out.protocol_hint = hintToWire(e.hint);
  if (e.authorityOverride) out.authority_override = { authority_override: e.authorityOverride };
  if (e.http2) out.http2 = MESHED_HTTP2_PARAMS;
  return out;
}

function hintToWire(h: NonNullable<Endpoint['hint']>): WireHint {
  if (h.kind === 'h2') return { h2: {} };
  const port = h.inboundPort;
  // The proxy ignores ports outside 0 < p < 65535; leave it out rather than send one.
  return port !== undefined && port > 0 && port < 65535 ? { opaque: {}, opaque_transport: { inbound_port: port } } : { opaque: {} };
}

export function updateToWire(u: Update): WireUpdate {
  switch (u.kind) {
    case 'add':
      return { add: { addrs: u.endpoints.map(endpointToWire), metric_labels: { ...u.setLabels } } };
    case 'remove':
      return { remove: { addrs: u.addrs.map((a) => tcpAddress(a.ip, a.port)) } };
    case 'no-endpoints':
      return { no_endpoints: { exists: u.exists } };
  }
}

export function profileToWire(p: Profile): DestinationProfile {
  return { fully_qualified_name: p.fullyQualifiedName, opaque_protocol: p.opaqueProtocol, retry_budget: DEFAULT_RETRY_BUDGET };
}

export interface WireCodec {
  encodeUpdate(u: Update): Buffer;
  encodeProfile(p: Profile): Buffer;
}

/** Encoders from the loaded service definition (the same serializers grpc-js would use per write). */
export function wireCodec(): WireCodec {
  const def = destinationServiceDefinition();
  return {
    encodeUpdate: (u) => def.Get.responseSerialize(updateToWire(u)),
    encodeProfile: (p) => def.GetProfile.responseSerialize(profileToWire(p)),
  };
}
