// What a Destination `WeightedAddr` means for the connection an outbound proxy opens, as
// linkerd2-proxy decides it: an authority override → a gateway (header with name and port);
// an opaque-transport port → a meshed pod's inbound port (header with the app port); an
// identity alone → mTLS straight to the port; nothing → plaintext.
import type { WeightedAddrOut } from '../proto/load.ts';
import { tcpAddressFromWire } from '../proto/load.ts';
import type { TransportHeader } from '../proto/transport-header.ts';

export interface OutboundEndpoint {
  ip: string;
  port: number;
  /** The peer's mTLS identity; absent for unmeshed endpoints. */
  identity?: string;
  /** SNI; the identity unless the control plane named another. */
  serverName?: string;
  /** `authority_override`: the gateway forwards to this name:port. */
  override?: { name?: string; port: number };
  opaqueTransportPort?: number;
  /** The peer speaks HTTP/2 (protocol_hint h2). */
  h2: boolean;
}

export type SessionProtocol = 'http1' | 'http2' | undefined;

export interface DialPlan {
  host: string;
  port: number;
  tls?: { serverName: string; identity: string };
  header?: TransportHeader;
}

export function fromWeightedAddr(w: WeightedAddrOut): OutboundEndpoint | undefined {
  const addr = tcpAddressFromWire(w.addr);
  if (addr === undefined) return undefined;
  const id = w.tls_identity;
  const identity =
    id?.strategy === 'dns_like_identity' ? id.dns_like_identity.name : id?.strategy === 'uri_like_identity' ? id.uri_like_identity.uri : undefined;
  const e: OutboundEndpoint = { ip: addr.ip, port: addr.port, h2: w.protocol_hint?.protocol === 'h2' };
  if (identity !== undefined && identity !== '') {
    e.identity = identity;
    e.serverName = id?.server_name?.name || identity;
  }
  const override = w.authority_override?.authority_override;
  if (override) {
    const m = /^(.*):(\d+)$/.exec(override);
    // An override without a port names no target; upstream then sends no name either.
    if (m) e.override = { ...(m[1] ? { name: m[1] } : {}), port: Number(m[2]) };
  }
  const otp = w.protocol_hint?.opaque_transport?.inbound_port;
  if (otp) e.opaqueTransportPort = otp;
  return e;
}

/** Where to connect and what to say first, for one connection of the given session protocol. */
export function dialPlan(e: OutboundEndpoint, protocol: SessionProtocol): DialPlan {
  if (e.identity === undefined || e.serverName === undefined) return { host: e.ip, port: e.port };
  const tls = { serverName: e.serverName, identity: e.identity };
  const withProtocol = (h: TransportHeader): TransportHeader => (protocol === undefined ? h : { ...h, protocol });
  if (e.override !== undefined) {
    return { host: e.ip, port: e.port, tls, header: withProtocol({ port: e.override.port, ...(e.override.name ? { name: e.override.name } : {}) }) };
  }
  if (e.opaqueTransportPort !== undefined) return { host: e.ip, port: e.opaqueTransportPort, tls, header: withProtocol({ port: e.port }) };
  return { host: e.ip, port: e.port, tls };
}

/** HTTP over this endpoint is HTTP/2 when a transport header carries the session, or the peer says h2. */
export function speaksH2(e: OutboundEndpoint): boolean {
  return e.identity !== undefined && (e.override !== undefined || e.opaqueTransportPort !== undefined || e.h2);
}

export const outboundKey = (e: OutboundEndpoint): string => `${e.ip}:${e.port}`;
