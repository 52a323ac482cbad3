// The outbound proxy's HTTP listeners. HTTP/1 callers name the target in Host (or an absolute
// URI); their requests travel as HTTP/2 with l5d-orig-proto to meshed peers, as linkerd2-proxy
// upgrades them, and the marker is stripped from the answer. Upgrade (WebSocket) requests use
// an HTTP/1 session. HTTP/2 (h2c) callers name it in :authority.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import * as http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { errorMessage, type Logger } from '../log/logger.ts';
import { cleanTrailers, h1Response, ORIG_PROTO } from './http-headers.ts';
import { pipeBoth } from './opaque.ts';
import { outboundKey, speaksH2, type OutboundEndpoint } from './outbound-endpoint.ts';
import type { DestinationResolver } from './outbound-resolve.ts';
import type { OutboundConnections } from './outbound-upstream.ts';
import type { OutboundMetrics } from './outbound-metrics.ts';

export interface OutboundHttpDeps {
  resolver: DestinationResolver;
  connections: OutboundConnections;
  log: Logger;
  metrics?: OutboundMetrics;
}

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'te', 'trailer', 'http2-settings']);

/** `name:port` of the target, defaulting the port to 80. */
export function targetAuthority(hostOrUrl: string | undefined): string | undefined {
  if (hostOrUrl === undefined || hostOrUrl === '') return undefined;
  const abs = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]+)/i.exec(hostOrUrl);
  const host = (abs?.[1] ?? hostOrUrl).toLowerCase();
  return /:\d+$/.test(host) ? host : `${host}:80`;
}

async function pickEndpoint(deps: OutboundHttpDeps, authority: string): Promise<OutboundEndpoint> {
  const r = await deps.resolver.resolve(authority);
  const pick = r.balancer.pick();
  const e = pick === undefined ? undefined : r.endpoints.get(outboundKey({ ip: pick.endpoint.ip, port: pick.endpoint.port, h2: false }));
  pick?.release();
  if (e === undefined) throw new Error(`no endpoints for ${authority}`);
  return e;
}

function fail(res: ServerResponse, status: number, err: unknown, log: Logger): void {
  log.debug('outbound request failed', { reason: errorMessage(err) });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'l5d-proxy-error': errorMessage(err).slice(0, 200), 'content-type': 'text/plain' });
  res.end(`${errorMessage(err)}\n`);
}

export function createHttp1Listener(deps: OutboundHttpDeps): Server {
  const server = createServer({ requireHostHeader: false }, (req, res) => void handleH1(deps, req, res));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void handleUpgrade(deps, req, socket, head));
  return server;
}

async function handleH1(deps: OutboundHttpDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const authority = targetAuthority(/^[a-z]+:\/\//i.test(req.url ?? '') ? req.url : req.headers.host);
  if (authority === undefined) return fail(res, 400, new Error('no target: send a Host header or an absolute URI'), deps.log);
  deps.metrics?.http1(authority, res);
  let e: OutboundEndpoint;
  try {
    e = await pickEndpoint(deps, authority);
  } catch (err) {
    return fail(res, 503, err, deps.log);
  }
  const path = (req.url ?? '/').replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '') || '/';
  if (!speaksH2(e)) {
    // Plain or TLS-only HTTP/1 peers get the request as it came.
    try {
      const socket = await deps.connections.dial(e, 'http1');
      const up = httpRequest({
        method: req.method,
        path,
        headers: { ...req.headers, host: authority },
        // No agent: with one (even `agent: false`, which makes a fresh Agent) Node ignores createConnection.
        createConnection: () => socket,
      });
      req.pipe(up);
      up.on('response', (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, h1Response(upRes.headers));
        upRes.pipe(res);
      });
      up.on('error', (err) => fail(res, 502, err, deps.log));
    } catch (err) {
      fail(res, 502, err, deps.log);
    }
    return;
  }
  const headers: http2.OutgoingHttpHeaders = {
    ':method': req.method ?? 'GET',
    ':path': path,
    ':authority': e.override ? authorityOf(e) : authority,
    ':scheme': 'http',
  };
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v;
  headers[ORIG_PROTO] = `HTTP/${req.httpVersion === '1.0' ? '1.0' : '1.1'}`;
  try {
    const session = await deps.connections.h2Session(e);
    const up = session.request(headers);
    req.pipe(up);
    up.on('response', (h) => {
      const status = Number(h[':status'] ?? 502);
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(h)) if (v !== undefined && !k.startsWith(':') && k !== ORIG_PROTO && !HOP.has(k)) out[k] = v;
      res.writeHead(status, out);
      up.pipe(res);
    });
    up.on('trailers', (t: http2.IncomingHttpHeaders) => res.addTrailers(cleanTrailers(t)));
    up.on('error', (err) => fail(res, 502, err, deps.log));
    res.once('close', () => {
      if (!up.closed) up.close(http2.constants.NGHTTP2_CANCEL);
    });
  } catch (err) {
    fail(res, 502, err, deps.log);
  }
}

function authorityOf(e: OutboundEndpoint): string {
  return e.override?.name !== undefined ? `${e.override.name}:${e.override.port}` : `${e.ip}:${e.port}`;
}

async function handleUpgrade(deps: OutboundHttpDeps, req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
  client.on('error', () => undefined);
  try {
    const authority = targetAuthority(req.headers.host ?? req.url);
    if (authority === undefined) throw new Error('no target');
    const e = await pickEndpoint(deps, authority);
    const up = await deps.connections.dial(e, 'http1');
    const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`];
    // Like linkerd2-proxy's authority override: a gateway's target sees the remote Service's name, not the mirror's.
    const host = e.override ? authorityOf(e) : undefined;
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i] ?? '';
      if (host !== undefined && name.toLowerCase() === 'host') continue;
      lines.push(`${name}: ${req.rawHeaders[i + 1] ?? ''}`);
    }
    if (host !== undefined) lines.push(`host: ${host}`);
    up.write(lines.join('\r\n') + '\r\n\r\n');
    if (head.length > 0) up.write(head);
    void pipeBoth(client, up);
  } catch (err) {
    deps.log.debug('outbound upgrade failed', { reason: errorMessage(err) });
    client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  }
}

export function createHttp2Listener(deps: OutboundHttpDeps): http2.Http2Server {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => void handleH2(deps, stream, headers));
  return server;
}

async function handleH2(deps: OutboundHttpDeps, stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): Promise<void> {
  stream.on('error', () => undefined);
  const authority = targetAuthority(headers[':authority']);
  try {
    if (authority === undefined) throw new Error('no :authority');
    deps.metrics?.http2(authority, stream);
    const e = await pickEndpoint(deps, authority);
    const session = await deps.connections.h2Session(e);
    const out: http2.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP.has(k)) out[k] = v;
    if (e.override) out[':authority'] = authorityOf(e);
    const up = session.request(out);
    stream.pipe(up);
    let trailers: http2.IncomingHttpHeaders | undefined;
    up.on('response', (h, flags) => {
      const end = (flags & 0x1) !== 0;
      const resp: http2.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP.has(k)) resp[k] = v;
      stream.respond(resp, { endStream: end, waitForTrailers: !end });
      if (!end) up.pipe(stream);
    });
    up.on('trailers', (t: http2.IncomingHttpHeaders) => (trailers = t));
    stream.on('wantTrailers', () => stream.sendTrailers(cleanTrailers(trailers ?? {})));
    up.on('error', () => {
      if (!stream.headersSent && !stream.closed) stream.respond({ ':status': 502 }, { endStream: true });
    });
    up.on('close', () => {
      if (up.rstCode !== 0 && !stream.closed) stream.close(up.rstCode);
    });
    stream.once('close', () => {
      if (!up.closed) up.close(http2.constants.NGHTTP2_CANCEL);
    });
  } catch (err) {
    deps.log.debug('outbound h2 request failed', { reason: errorMessage(err) });
    if (!stream.closed && !stream.headersSent)
      stream.respond({ ':status': 503, 'l5d-proxy-error': errorMessage(err).slice(0, 200) }, { endStream: true });
  }
}
