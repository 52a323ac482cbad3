// The gateway's listener (port 4143): accepts TLS, bounds what a client may hold (connections,
// handshake time), keeps the TCP metrics, and drains on shutdown. Each handshaken connection
// continues in direct.ts.
import type { Socket } from 'node:net';
import * as tls from 'node:tls';
import type { GatewayServices } from './context.ts';
import { serveDirect } from './direct.ts';
import type { Credentials } from './identity-source.ts';
import { clientAuth, secureContextOptions, serverTlsOptions, TRANSPORT_ALPN } from './tls.ts';

export interface GatewayServerOptions {
  host: string;
  port: number;
  services: GatewayServices;
  credentials: Credentials;
  maxConnections: number;
  handshakeTimeoutMs: number;
}

interface Tracked {
  drain: () => void;
}

export class GatewayServer {
  readonly #o: GatewayServerOptions;
  readonly #server: tls.Server;
  readonly #conns = new Map<tls.TLSSocket, Tracked>();
  #draining = false;

  constructor(o: GatewayServerOptions) {
    this.#o = o;
    this.#server = tls.createServer({
      ...serverTlsOptions(o.credentials, [TRANSPORT_ALPN]),
      handshakeTimeout: o.handshakeTimeoutMs,
      allowHalfOpen: true,
      noDelay: true,
    });
    this.#server.maxConnections = o.maxConnections;
    this.#server.on('secureConnection', (socket) => this.#accept(socket));
    this.#server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      o.services.metrics.tcpErrors.inc({ error: 'tls_handshake' });
      o.services.log.debug('TLS handshake failed', { reason: err.code ?? err.message });
      socket.destroy();
    });
    this.#server.on('drop', () => o.services.metrics.tcpErrors.inc({ error: 'connection_limit' }));
  }

  async start(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#o.port, this.#o.host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const addr = this.#server.address();
    return typeof addr === 'object' && addr !== null ? { host: addr.address, port: addr.port } : { host: this.#o.host, port: this.#o.port };
  }

  /** New handshakes use the renewed certificate; established connections keep theirs. */
  setCredentials(c: Credentials): void {
    this.#server.setSecureContext(secureContextOptions(c));
  }

  get connections(): number {
    return this.#conns.size;
  }

  /** Stops accepting, asks every session to finish, and force-closes what remains after `deadlineMs`. */
  async drain(deadlineMs: number): Promise<void> {
    this.#draining = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const t of this.#conns.values()) t.drain();
    const timer = setTimeout(() => {
      for (const socket of this.#conns.keys()) socket.destroy();
    }, deadlineMs);
    await closed;
    clearTimeout(timer);
  }

  #accept(socket: tls.TLSSocket): void {
    const m = this.#o.services.metrics;
    const tracked: Tracked = { drain: () => socket.destroy() };
    this.#conns.set(socket, tracked);
    const auth = clientAuth(socket);
    const labels = { direction: 'inbound', peer: 'src', tls: 'true', client_id: auth.ok ? auth.clientId : '' };
    socket.on('error', () => undefined);
    socket.once('close', (hadError: boolean) => {
      this.#conns.delete(socket);
      m.tcpOpenConnections.dec(labels);
      m.tcpRead.inc(labels, socket.bytesRead);
      m.tcpWrite.inc(labels, socket.bytesWritten ?? 0);
      m.tcpClose.inc({ ...labels, errno: hadError ? 'error' : '' });
    });
    serveDirect(socket, this.#o.services).then(
      (result) => {
        if (result === undefined) return;
        tracked.drain = result.drain;
        if (this.#draining) result.drain();
      },
      (err: unknown) => {
        this.#o.services.log.warn('connection setup failed', { reason: err instanceof Error ? err.message : String(err) });
        socket.destroy();
      },
    );
    m.tcpOpen.inc(labels);
    m.tcpOpenConnections.inc(labels);
  }
}
