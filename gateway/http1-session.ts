// session_protocol http1: the client connection carries HTTP/1.1, possibly without a Host
// header (the client proxy put the authority in the URI). Requests go to the target over
// HTTP/1.1; an Upgrade (WebSocket) becomes a raw pipe after the target's 101.
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { ConnectionContext } from './context.ts';
import { UpstreamConnectError, UpstreamTimeoutError } from './errors.ts';
import { errorHeaders, errorResponse, isGrpcRequest } from './error-response.ts';
import { headerValues } from './forwarded.ts';
import { h1Response, h1ToH1Request } from './http-headers.ts';
import { routeRequest, type Route } from './http-route.ts';
import { RequestRecorder } from './request-metrics.ts';
import { pipeBoth } from './opaque.ts';

/** Serves HTTP/1.1 on `socket`; `rest` is what arrived after the transport header. Returns a drain hook. */
export function serveHttp1(socket: TLSSocket, rest: Buffer, ctx: ConnectionContext): () => void {
  let draining = false;
  const server = createServer(
    { requireHostHeader: false, keepAliveTimeout: ctx.services.limits.idleTimeoutMs, headersTimeout: 10_000 },
    (req, res) => {
      handleRequest(ctx, req, res, () => draining);
    },
  );
  server.on('upgrade', (req: IncomingMessage, client: Duplex, head: Buffer) => void handleUpgrade(ctx, req, client, head));
  server.on('clientError', (_err, s: Duplex) => s.destroy());
  if (rest.length > 0) socket.unshift(rest);
  server.emit('connection', socket);
  socket.resume();
  return () => {
    draining = true;
    server.closeIdleConnections();
  };
}

function handleRequest(ctx: ConnectionContext, req: IncomingMessage, res: ServerResponse, draining: () => boolean): void {
  const rec = new RequestRecorder(ctx.httpMetrics);
  res.once('close', () => rec.end());
  let route: Route;
  try {
    route = routeRequest(ctx, headerValues(req.headers['forwarded']));
  } catch (err) {
    respondError(ctx, req, res, err, rec);
    return;
  }
  const started = performance.now();
  const r = h1ToH1Request(
    req.method ?? 'GET',
    req.url ?? '/',
    req.headers,
    ctx.authority,
    { forwarded: route.forwarded, clientId: ctx.clientId },
    false,
  );
  const { ip, port } = route.pick.endpoint;
  const up = httpRequest({ host: ip, port, method: r.method, path: r.path, headers: r.headers, agent: ctx.services.upstreams.agent });
  const timer = setTimeout(() => {
    route.pick.release();
    up.destroy();
    respondError(ctx, req, res, new UpstreamTimeoutError(), rec);
  }, ctx.services.limits.responseTimeoutMs);
  req.pipe(up);
  res.once('close', () => {
    clearTimeout(timer);
    if (!up.destroyed && !res.writableFinished) up.destroy();
  });
  up.once('response', (upRes) => {
    clearTimeout(timer);
    route.pick.success(performance.now() - started);
    const status = upRes.statusCode ?? 502;
    rec.headers(status);
    // While draining, an answer in flight closes its connection instead of keeping it alive.
    if (draining()) res.setHeader('connection', 'close');
    res.writeHead(status, upRes.statusMessage, h1Response(upRes.headers));
    upRes.pipe(res);
    upRes.once('aborted', () => res.destroy());
  });
  up.on('error', (err) => {
    clearTimeout(timer);
    if (!res.headersSent) {
      route.pick.failure();
      respondError(ctx, req, res, new UpstreamConnectError({ cause: err }), rec);
    } else {
      res.destroy();
    }
  });
}

async function handleUpgrade(ctx: ConnectionContext, req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
  const rec = new RequestRecorder(ctx.httpMetrics);
  client.once('close', () => rec.end());
  client.on('error', () => undefined);
  let route: Route;
  try {
    route = routeRequest(ctx, headerValues(req.headers['forwarded']));
  } catch (err) {
    writeRawError(ctx, client, err, rec);
    return;
  }
  const started = performance.now();
  let upstream;
  try {
    upstream = await ctx.services.upstreams.dial(route.pick.endpoint);
  } catch (err) {
    route.pick.failure();
    writeRawError(ctx, client, err, rec);
    return;
  }
  route.pick.success(performance.now() - started);
  const r = h1ToH1Request(
    req.method ?? 'GET',
    req.url ?? '/',
    req.headers,
    ctx.authority,
    { forwarded: route.forwarded, clientId: ctx.clientId },
    true,
  );
  const lines = [`${r.method} ${r.path} HTTP/1.1`];
  for (const [name, value] of Object.entries(r.headers)) {
    for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) lines.push(`${name}: ${String(v)}`);
  }
  upstream.write(lines.join('\r\n') + '\r\n\r\n');
  if (head.length > 0) upstream.write(head);
  // The status line tells the metrics how the upgrade went; the bytes themselves pass untouched.
  upstream.once('data', (chunk: Buffer) => rec.headers(Number(/^HTTP\/1\.\d (\d{3})/.exec(chunk.toString('latin1', 0, 16))?.[1] ?? 0)));
  void pipeBoth(client, upstream);
}

function respondError(ctx: ConnectionContext, req: IncomingMessage, res: ServerResponse, err: unknown, rec: RequestRecorder): void {
  const e = errorResponse(err);
  ctx.services.metrics.httpErrors.inc({ error: e.reason });
  rec.error(e.reason);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const grpc = isGrpcRequest(req.headers['content-type']);
  const { status, headers } = errorHeaders(e, grpc);
  rec.headers(status, grpc ? headers['grpc-status'] : undefined);
  if (e.closeConnection) headers['connection'] = 'close';
  res.writeHead(status, headers);
  res.end(`${e.message}\n`);
  req.resume();
}

function writeRawError(ctx: ConnectionContext, client: Duplex, err: unknown, rec: RequestRecorder): void {
  const e = errorResponse(err);
  ctx.services.metrics.httpErrors.inc({ error: e.reason });
  rec.error(e.reason);
  rec.headers(e.status);
  const body = `${e.message}\n`;
  client.end(
    `HTTP/1.1 ${e.status} ${e.message}\r\nl5d-proxy-error: ${e.message}\r\ncontent-type: text/plain\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
