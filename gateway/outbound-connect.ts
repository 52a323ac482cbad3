// The client side of the direct protocol, as linkerd2-proxy's outbound stack dials a gateway or
// a meshed pod: TLS 1.3 with SNI = the peer's identity, our identity as client certificate,
// ALPN transport.l5d.io/v1 when a header follows, the server identity checked against its
// leaf SAN, then the transport header.
import { connect as netConnect, type Socket } from 'node:net';
import * as tls from 'node:tls';
import { encodeTransportHeader, type TransportHeader } from '../proto/transport-header.ts';
import type { Credentials } from './identity-source.ts';
import { clientTlsOptions, TRANSPORT_ALPN } from './tls.ts';

export interface DialTarget {
  host: string;
  port: number;
}

export class PeerConnectError extends Error {
  override readonly name = 'PeerConnectError';
}

/** mTLS to a meshed peer; with `header`, ALPN is offered and the header written once negotiated. */
export function dialMeshed(
  target: DialTarget,
  creds: Credentials,
  serverId: string,
  header: TransportHeader | undefined,
  timeoutMs = 10_000,
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: target.host,
      port: target.port,
      ...clientTlsOptions(creds, serverId, header === undefined ? undefined : [TRANSPORT_ALPN]),
      session: undefined,
    });
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new PeerConnectError(`TLS to ${target.host}:${target.port} did not complete within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      if (header !== undefined) {
        // linkerd2-proxy writes the header only if the server agreed to the protocol.
        if (socket.alpnProtocol !== TRANSPORT_ALPN) {
          socket.destroy();
          reject(new PeerConnectError(`${serverId} did not negotiate ALPN ${TRANSPORT_ALPN}`));
          return;
        }
        // Resolve only once the write is done: an HTTP/2 session must not take over a TLS stream mid-write.
        socket.write(encodeTransportHeader(header), () => resolve(socket));
        return;
      }
      resolve(socket);
    });
    socket.once('error', (err: Error) => {
      clearTimeout(timer);
      reject(new PeerConnectError(`TLS to ${serverId} at ${target.host}:${target.port} failed: ${err.message}`, { cause: err }));
    });
  });
}

/** A plain TCP connection (an endpoint without identity). */
export function dialPlain(target: DialTarget, timeoutMs = 10_000): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: target.host, port: target.port, noDelay: true, allowHalfOpen: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new PeerConnectError(`connect to ${target.host}:${target.port} timed out`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new PeerConnectError(`connect to ${target.host}:${target.port} failed: ${err.message}`, { cause: err }));
    });
  });
}
