// session_protocol http2: the client connection carries prior-knowledge HTTP/2. Each stream
// goes to the target over HTTP/2, or over HTTP/1.1 when l5d-orig-proto says the client
// upgraded an HTTP/1 request (the response is then marked back with l5d-orig-proto).
import { request as httpRequest } from 'node:http';
import * as http2 from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { ConnectionContext } from './context.ts';
import { UpstreamConnectError, UpstreamTimeoutError } from './errors.ts';
import { errorHeaders, errorResponse, isGrpcRequest } from './error-response.ts';
import { headerValues } from './forwarded.ts';
import { cleanTrailers, h1ToH2Response, h2ToH1Request, h2ToH2Request, h2ToH2Response, ORIG_PROTO } from './http-headers.ts';
import { routeRequest, type Route } from './http-route.ts';
import { RequestRecorder } from './request-metrics.ts';

const { NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR } = http2.constants;
const END_STREAM = 0x1;

/** Serves HTTP/2 on `socket`; `rest` is what arrived after the transport header. Returns a drain hook. */
export function serveHttp2(socket: TLSSocket, rest: Buffer, ctx: ConnectionContext): () => void {
  const server = http2.createServer({
    settings: { enablePush: false, maxConcurrentStreams: ctx.services.limits.maxConcurrentStreams },
    maxSessionMemory: 32,
  });
  let session: http2.ServerHttp2Session | undefined;
  let draining = false;
  server.on('session', (s) => {
    session = s;
    s.setTimeout(ctx.services.limits.idleTimeoutMs, () => s.close());
    s.on('error', (err: Error) => ctx.log.debug('client session error', { reason: err.message }));
    if (draining) s.close();
  });
  server.on('stream', (stream, headers, flags) => handleStream(ctx, stream, headers, (flags & END_STREAM) !== 0));
  if (rest.length > 0) socket.unshift(rest);
  server.emit('connection', socket);
  return () => {
    draining = true;
    session?.close();
  };
}

function handleStream(ctx: ConnectionContext, stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, bodyless: boolean): void {
  const grpc = isGrpcRequest(headers['content-type']);
  const rec = new RequestRecorder(ctx.httpMetrics);
  stream.once('close', () => rec.end());
  stream.on('error', () => undefined);
  let route: Route;
  try {
    route = routeRequest(ctx, headerValues(headers['forwarded']));
  } catch (err) {
    respondError(ctx, stream, err, grpc, rec);
    return;
  }
  if (headers[ORIG_PROTO] !== undefined) forwardH1(ctx, stream, headers, route, grpc, rec);
  else forwardH2(ctx, stream, headers, route, grpc, rec, bodyless);
}

function forwardH2(
  ctx: ConnectionContext,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  route: Route,
  grpc: boolean,
  rec: RequestRecorder,
  bodyless: boolean,
): void {
  const started = performance.now();
  const session = ctx.services.upstreams.h2Session(route.pick.endpoint);
  let up: http2.ClientHttp2Stream;
  try {
    up = session.request(h2ToH2Request(headers, { forwarded: route.forwarded, clientId: ctx.clientId }), { endStream: bodyless });
  } catch (err) {
    route.pick.failure();
    respondError(ctx, stream, new UpstreamConnectError({ cause: err }), grpc, rec);
    return;
  }
  let trailers: http2.IncomingHttpHeaders | undefined;
  const timer = setTimeout(() => {
    route.pick.release();
    up.close(NGHTTP2_CANCEL);
    respondError(ctx, stream, new UpstreamTimeoutError(), grpc, rec);
  }, ctx.services.limits.responseTimeoutMs);
  // A request whose headers ended the stream has no body to pipe.
  if (bodyless) stream.resume();
  else stream.pipe(up);
  stream.once('close', () => {
    clearTimeout(timer);
    if (!up.closed) up.close(stream.rstCode === 0 ? NGHTTP2_CANCEL : stream.rstCode);
  });
  up.once('response', (h, flags) => {
    clearTimeout(timer);
    route.pick.success(performance.now() - started);
    if (stream.closed) return;
    const endStream = (flags & END_STREAM) !== 0;
    const status = Number(h[':status'] ?? 502);
    rec.headers(status, headerString(h['grpc-status']));
    stream.respond(h2ToH2Response(h), { endStream, waitForTrailers: !endStream });
    if (!endStream) forwardBody(up, stream);
  });
  up.on('trailers', (t: http2.IncomingHttpHeaders) => {
    trailers = t;
    rec.trailers(headerString(t['grpc-status']));
  });
  stream.on('wantTrailers', () => stream.sendTrailers(cleanTrailers(trailers ?? {})));
  up.on('error', (err) => {
    clearTimeout(timer);
    if (!stream.headersSent) {
      route.pick.failure();
      respondError(ctx, stream, new UpstreamConnectError({ cause: err }), grpc, rec);
    }
  });
  up.once('close', () => {
    clearTimeout(timer);
    // The target reset the stream, or died, after answering: pass a reset on rather than leave the client waiting.
    if ((up.rstCode !== 0 || !up.readableEnded) && stream.headersSent && !stream.closed) {
      rec.error('upstream_reset');
      stream.close(up.rstCode === NGHTTP2_CANCEL ? NGHTTP2_CANCEL : NGHTTP2_INTERNAL_ERROR);
    }
  });
}

/** Response body, target → client, with backpressure: a leaner stream.pipe for the per-request hot path. */
function forwardBody(from: http2.ClientHttp2Stream, to: http2.ServerHttp2Stream): void {
  from.on('data', (chunk: Buffer) => {
    if (!to.write(chunk)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  });
  from.once('end', () => to.end());
}

function forwardH1(
  ctx: ConnectionContext,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  route: Route,
  grpc: boolean,
  rec: RequestRecorder,
): void {
  const started = performance.now();
  const { ip, port } = route.pick.endpoint;
  const r = h2ToH1Request(headers, ctx.authority, { forwarded: route.forwarded, clientId: ctx.clientId });
  const req = httpRequest({ host: ip, port, method: r.method, path: r.path, headers: r.headers, agent: ctx.services.upstreams.agent });
  const timer = setTimeout(() => {
    route.pick.release();
    req.destroy();
    respondError(ctx, stream, new UpstreamTimeoutError(), grpc, rec);
  }, ctx.services.limits.responseTimeoutMs);
  stream.pipe(req);
  stream.once('close', () => {
    clearTimeout(timer);
    if (!req.destroyed && !req.writableFinished) req.destroy();
  });
  req.once('response', (res) => {
    clearTimeout(timer);
    route.pick.success(performance.now() - started);
    if (stream.closed) {
      res.resume();
      return;
    }
    const status = res.statusCode ?? 502;
    rec.headers(status, headerString(res.headers['grpc-status']));
    stream.respond(h1ToH2Response(status, res.headers, res.httpVersion), { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers(cleanTrailers(res.trailers)));
    res.pipe(stream);
    res.once('aborted', () => stream.close(NGHTTP2_INTERNAL_ERROR));
    stream.once('close', () => res.destroy());
  });
  req.on('error', (err) => {
    clearTimeout(timer);
    if (!stream.headersSent) {
      route.pick.failure();
      respondError(ctx, stream, new UpstreamConnectError({ cause: err }), grpc, rec);
    } else if (!stream.closed) {
      stream.close(NGHTTP2_INTERNAL_ERROR);
    }
  });
}

function respondError(ctx: ConnectionContext, stream: http2.ServerHttp2Stream, err: unknown, grpc: boolean, rec: RequestRecorder): void {
  const e = errorResponse(err);
  ctx.services.metrics.httpErrors.inc({ error: e.reason });
  rec.error(e.reason);
  if (e.reason === 'unexpected') ctx.log.warn('request failed', { reason: err instanceof Error ? err.message : String(err) });
  if (stream.closed || stream.destroyed) return;
  if (stream.headersSent) {
    stream.close(NGHTTP2_INTERNAL_ERROR);
    return;
  }
  const { status, headers } = errorHeaders(e, grpc);
  rec.headers(status, grpc ? headers['grpc-status'] : undefined);
  stream.respond({ ':status': status, ...headers }, { endStream: grpc });
  if (!grpc) stream.end(`${e.message}\n`);
  // Drain what the client is still sending so the stream can close cleanly.
  stream.resume();
  if (e.closeConnection) stream.session?.close();
}

function headerString(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
