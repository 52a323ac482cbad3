// The "direct" stack of a Linkerd inbound proxy: only mutually authenticated connections that
// negotiated ALPN transport.l5d.io/v1 may speak, and the first thing they say is the transport
// header. Any failure closes just this connection and is counted by reason.
import type { TLSSocket } from 'node:tls';
import {
  HeaderTimeoutError,
  HeaderTooLargeError,
  IncompleteHeaderError,
  MissingPrefaceError,
  readTransportHeader,
  TransportHeaderError,
  type TransportHeader,
} from '../proto/transport-header.ts';
import type { ConnectionContext, GatewayServices } from './context.ts';
import { serveHttp1 } from './http1-session.ts';
import { serveHttp2 } from './http2-session.ts';
import { serveOpaque } from './opaque.ts';
import type { HttpLabels } from './metrics.ts';
import { ConnectionHttpMetrics } from './request-metrics.ts';
import { clientAuth, TRANSPORT_ALPN } from './tls.ts';

export const HEADER_TIMEOUT_MS = 10_000;
export const HEADER_MAX_BYTES = 65_536;

/** The HTTP labels every request of a connection shares. */
export function labelsOf(clientId: string, authority: string, name: string): HttpLabels {
  return { client_id: clientId, authority, target_service: name.split('.').slice(0, 2).join('.') };
}

/** Why a connection never reached a session; the `error` label of inbound_tcp_errors_total. */
export function headerFailureReason(err: unknown): string {
  if (err instanceof HeaderTimeoutError) return 'header_timeout';
  if (err instanceof IncompleteHeaderError) return 'header_truncated';
  if (err instanceof HeaderTooLargeError) return 'header_too_large';
  if (err instanceof MissingPrefaceError) return 'header_missing';
  if (err instanceof TransportHeaderError) return 'header_malformed';
  return 'io';
}

export interface DirectResult {
  clientId: string;
  /** Stops the session gracefully (GOAWAY, or closing idle HTTP/1 connections). */
  drain: () => void;
}

/**
 * Runs one accepted TLS connection: checks the client, reads the header, hands the socket to
 * the session layer. Resolves once the session is set up (undefined if refused).
 */
export async function serveDirect(socket: TLSSocket, services: GatewayServices): Promise<DirectResult | undefined> {
  const m = services.metrics;
  const auth = clientAuth(socket);
  if (!auth.ok) {
    m.tcpErrors.inc({ error: auth.reason });
    services.log.debug('connection refused', { reason: auth.reason, detail: auth.detail });
    socket.destroy();
    return undefined;
  }
  if (socket.alpnProtocol !== TRANSPORT_ALPN) {
    m.tcpErrors.inc({ error: 'no_transport_header_alpn' });
    services.log.debug('connection refused', { reason: 'direct connections require transport header negotiation', client_id: auth.clientId });
    socket.destroy();
    return undefined;
  }
  let header: TransportHeader;
  let rest: Buffer;
  try {
    ({ header, rest } = await readTransportHeader(socket, { timeoutMs: HEADER_TIMEOUT_MS, maxBytes: HEADER_MAX_BYTES }));
  } catch (err) {
    const reason = headerFailureReason(err);
    m.tcpErrors.inc({ error: reason });
    services.log.debug('transport header refused', { reason, client_id: auth.clientId, detail: err instanceof Error ? err.message : String(err) });
    socket.destroy();
    return undefined;
  }
  m.transportHeader.inc({
    session_protocol: header.protocol === 'http1' ? 'http/1' : header.protocol === 'http2' ? 'http/2' : '',
    target_port: String(header.port),
    target_name: header.name ?? '',
    client_id: auth.clientId,
  });
  if (header.name === undefined) {
    // A header without a name asks for a port on this host: the gateway has no local application.
    m.tcpErrors.inc({ error: 'no_target_name' });
    socket.destroy();
    return undefined;
  }
  const authority = `${header.name}:${header.port}`;
  const ctx: ConnectionContext = {
    clientId: auth.clientId,
    targetName: header.name,
    targetPort: header.port,
    authority,
    services,
    httpMetrics: new ConnectionHttpMetrics(services.metrics, labelsOf(auth.clientId, authority, header.name)),
    log: services.log.with({ client_id: auth.clientId, target: authority }),
  };
  if (header.protocol === 'http2') return { clientId: auth.clientId, drain: serveHttp2(socket, rest, ctx) };
  if (header.protocol === 'http1') return { clientId: auth.clientId, drain: serveHttp1(socket, rest, ctx) };
  void serveOpaque(socket, rest, ctx);
  return { clientId: auth.clientId, drain: () => undefined };
}
