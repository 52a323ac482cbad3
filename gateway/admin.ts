// The admin port (4191): /live, /ready and /metrics as plaintext HTTP/1 (kubelet probes,
// Prometheus) and as mTLS HTTP/2 carrying l5d-orig-proto, which is how a meshed service-mirror's
// proxy delivers its gateway probe. The first byte tells TLS from plaintext, the HTTP/2 preface
// tells the HTTP versions apart.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import * as http2 from 'node:http2';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import type { Registry } from 'prom-client';
import type { Credentials } from './identity-source.ts';
import { secureContextOptions, serverTlsOptions } from './tls.ts';
import { ORIG_PROTO } from './http-headers.ts';

export interface AdminOptions {
  host: string;
  port: number;
  registry: Registry;
  ready: () => boolean;
  /** TLS is offered once credentials exist; until then only plaintext is served. */
  credentials: () => Credentials | undefined;
}

interface AdminAnswer {
  status: number;
  contentType: string;
  body: string;
}

const TLS_HANDSHAKE = 0x16;
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

async function answer(o: AdminOptions, url: string): Promise<AdminAnswer> {
  const path = url.split('?')[0];
  if (path === '/metrics') return { status: 200, contentType: o.registry.contentType, body: await o.registry.metrics() };
  if (path === '/live' || path === '/ping') return { status: 200, contentType: 'text/plain', body: 'live\n' };
  if (path === '/ready')
    return o.ready() ? { status: 200, contentType: 'text/plain', body: 'ready\n' } : { status: 503, contentType: 'text/plain', body: 'not ready\n' };
  return { status: 404, contentType: 'text/plain', body: 'not found\n' };
}

export class AdminServer {
  readonly #o: AdminOptions;
  readonly #net: Server;
  readonly #h1: ReturnType<typeof createHttpServer>;
  readonly #h2: http2.Http2Server;
  #tls?: tls.Server;

  constructor(o: AdminOptions) {
    this.#o = o;
    this.#h1 = createHttpServer({ requireHostHeader: false, headersTimeout: 10_000 }, (req, res) => void this.#serveH1(req, res));
    this.#h2 = http2.createServer({ settings: { maxConcurrentStreams: 16 } });
    this.#h2.on('stream', (stream, headers) => void this.#serveH2(stream, headers));
    this.#net = createNetServer({ pauseOnConnect: false }, (socket) => this.#detect(socket, true));
    this.#net.maxConnections = 256;
  }

  async start(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.#net.once('error', reject);
      this.#net.listen(this.#o.port, this.#o.host, () => resolve());
    });
    const a = this.#net.address();
    return typeof a === 'object' && a !== null ? { host: a.address, port: a.port } : { host: this.#o.host, port: this.#o.port };
  }

  setCredentials(c: Credentials): void {
    if (this.#tls) this.#tls.setSecureContext(secureContextOptions(c));
  }

  close(): void {
    this.#net.close();
    this.#h1.closeAllConnections();
  }

  #tlsServer(c: Credentials): tls.Server {
    if (!this.#tls) {
      this.#tls = tls.createServer({ ...serverTlsOptions(c, undefined), handshakeTimeout: 10_000 });
      this.#tls.on('secureConnection', (s) => this.#detect(s, false));
      this.#tls.on('tlsClientError', (_e, s: Socket) => s.destroy());
    }
    return this.#tls;
  }

  #detect(socket: Duplex, mayBeTls: boolean): void {
    socket.on('error', () => undefined);
    const timer = setTimeout(() => socket.destroy(), 10_000);
    socket.once('data', (chunk: Buffer) => {
      clearTimeout(timer);
      socket.pause();
      socket.unshift(chunk);
      const creds = this.#o.credentials();
      if (mayBeTls && chunk[0] === TLS_HANDSHAKE) {
        if (creds === undefined) socket.destroy();
        else this.#tlsServer(creds).emit('connection', socket);
      } else if (chunk.subarray(0, 3).equals(H2_PREFACE.subarray(0, 3))) {
        // node:http2 treats a TLS socket without negotiated ALPN as "unknown protocol"; the meshed
        // probe negotiates none, yet speaks prior-knowledge HTTP/2 as the preface just showed.
        if (socket instanceof tls.TLSSocket && socket.alpnProtocol === false) socket.alpnProtocol = 'h2';
        this.#h2.emit('connection', socket);
      } else {
        this.#h1.emit('connection', socket);
        socket.resume();
      }
    });
  }

  async #serveH1(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const a = await answer(this.#o, req.url ?? '/');
    res.writeHead(a.status, { 'content-type': a.contentType });
    res.end(a.body);
  }

  async #serveH2(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): Promise<void> {
    stream.on('error', () => undefined);
    const a = await answer(this.#o, String(headers[':path'] ?? '/'));
    if (stream.closed) return;
    const out: http2.OutgoingHttpHeaders = { ':status': a.status, 'content-type': a.contentType };
    // A meshed client upgraded its HTTP/1.1 probe; tell its proxy to downgrade the answer again.
    if (headers[ORIG_PROTO] !== undefined) out[ORIG_PROTO] = 'HTTP/1.1';
    stream.respond(out);
    stream.end(a.body);
  }
}
