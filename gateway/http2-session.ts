// session_protocol http2: the client connection carries prior-knowledge HTTP/2. The gateway
// relays it at the frame level (h2/connection.ts): each client stream becomes a stream on a
// multiplexed connection to the endpoint the balancer picked, headers rewritten, DATA passed
// on under both sides' flow control. A request carrying l5d-orig-proto goes to the target
// over HTTP/1.1 instead and its response is marked back with l5d-orig-proto.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { H2Connection, type H2Stream } from '../h2/connection.ts';
import { ErrorCode } from '../h2/frames.ts';
import type { FlatHeaders } from '../h2/hpack.ts';
import type { ConnectionContext } from './context.ts';
import { UpstreamConnectError, UpstreamTimeoutError } from './errors.ts';
import { errorHeaders, errorResponse, isGrpcRequest } from './error-response.ts';
import {
  cleanTrailers,
  flatEndToEnd,
  flatGet,
  flatH2Request,
  flatToObject,
  h1ToH2Response,
  h2ToH1Request,
  objectToFlat,
  ORIG_PROTO,
} from './http-headers.ts';
import { routeRequest, type Route } from './http-route.ts';
import { RequestRecorder } from './request-metrics.ts';

/** Serves HTTP/2 on `socket`; `rest` is what arrived after the transport header. Returns a drain hook. */
export function serveHttp2(socket: TLSSocket, rest: Buffer, ctx: ConnectionContext): () => void {
  const conn = new H2Connection(socket, {
    role: 'server',
    maxConcurrentStreams: ctx.services.limits.maxConcurrentStreams,
    onStream: (stream, headers, endStream) => handleStream(ctx, stream, headers, endStream),
    onClose: (err) => {
      if (err !== undefined) ctx.log.debug('client session error', { reason: err.message });
    },
  });
  socket.setTimeout(ctx.services.limits.idleTimeoutMs, () => conn.close());
  conn.feed(rest);
  return () => conn.close();
}

function handleStream(ctx: ConnectionContext, down: H2Stream, headers: FlatHeaders, endStream: boolean): void {
  let contentType: string | undefined;
  let origProto = false;
  const forwarded: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    if (name === 'forwarded') forwarded.push(headers[i + 1] as string);
    else if (name === 'content-type') contentType = headers[i + 1];
    else if (name === ORIG_PROTO) origProto = true;
  }
  const grpc = isGrpcRequest(contentType);
  const rec = new RequestRecorder(ctx.httpMetrics);
  down.onClose = () => rec.end();
  let route: Route;
  try {
    route = routeRequest(ctx, forwarded);
  } catch (err) {
    respondError(ctx, down, err, grpc, rec);
    return;
  }
  if (origProto) forwardH1(ctx, down, headers, route, grpc, rec);
  else forwardH2(ctx, down, headers, route, grpc, rec, endStream);
}

function forwardH2(
  ctx: ConnectionContext,
  down: H2Stream,
  headers: FlatHeaders,
  route: Route,
  grpc: boolean,
  rec: RequestRecorder,
  endStream: boolean,
): void {
  const started = performance.now();
  const upHeaders = flatH2Request(headers, { forwarded: route.forwarded, clientId: ctx.clientId });
  let up = ctx.services.upstreams.h2Connection(route.pick.endpoint).request(upHeaders, endStream);
  let responded = false;
  // A stream the target refused was never processed: a bodyless request may go again, once.
  let retried = !endStream;
  const timer = setTimeout(() => {
    route.pick.release();
    up.reset(ErrorCode.cancel);
    respondError(ctx, down, new UpstreamTimeoutError(), grpc, rec);
  }, ctx.services.limits.responseTimeoutMs);

  // Client → target: the client's window is handed back once the target's side took the bytes.
  const ackDown = (): void => down.consumeAll();
  down.onData = (chunk, end) => {
    up.sendData(chunk, end);
    up.whenWritable(ackDown);
  };
  down.onHeaders = (trailers) => up.sendHeaders(flatEndToEnd(trailers, true), true);
  down.onReset = (code) => up.reset(code === ErrorCode.noError ? ErrorCode.cancel : code);
  down.onClose = () => {
    clearTimeout(timer);
    route.pick.release();
    rec.end();
    if (!up.closed) up.reset(ErrorCode.cancel);
  };

  // Target → client.
  const bind = (): void => {
    up.onHeaders = (h, end) => {
      if (responded) {
        rec.trailers(flatGet(h, 'grpc-status'));
        down.sendHeaders(flatEndToEnd(h, true), true);
        return;
      }
      const status = Number(flatGet(h, ':status') ?? 502);
      if (status >= 100 && status < 200) {
        down.sendHeaders(flatEndToEnd(h, false), false);
        return;
      }
      responded = true;
      clearTimeout(timer);
      route.pick.success(performance.now() - started);
      rec.headers(status, flatGet(h, 'grpc-status'));
      down.sendHeaders(flatEndToEnd(h, false), end);
    };
    const ackUp = (): void => up.consumeAll();
    up.onData = (chunk, end) => {
      down.sendData(chunk, end);
      down.whenWritable(ackUp);
    };
    up.onReset = (code) => {
      if (!responded && code === ErrorCode.refusedStream && !retried && !down.closed) {
        retried = true;
        up = ctx.services.upstreams.h2Connection(route.pick.endpoint).request(upHeaders, true);
        bind();
        return;
      }
      clearTimeout(timer);
      if (!responded) {
        if (down.headersSent) return;
        route.pick.failure();
        respondError(ctx, down, new UpstreamConnectError({ cause: new Error(`stream reset by target (code ${code})`) }), grpc, rec);
        return;
      }
      if (down.closed) return;
      // A reset after a complete response only stops the upload; anything else cuts the client's stream.
      if (down.localEnded) down.reset(code === ErrorCode.noError ? ErrorCode.noError : ErrorCode.cancel);
      else {
        rec.error('upstream_reset');
        down.reset(code === ErrorCode.cancel ? ErrorCode.cancel : ErrorCode.internal);
      }
    };
  };
  bind();
}

function forwardH1(ctx: ConnectionContext, down: H2Stream, headers: FlatHeaders, route: Route, grpc: boolean, rec: RequestRecorder): void {
  const started = performance.now();
  const { ip, port } = route.pick.endpoint;
  const r = h2ToH1Request(flatToObject(headers), ctx.authority, { forwarded: route.forwarded, clientId: ctx.clientId });
  const req = httpRequest({ host: ip, port, method: r.method, path: r.path, headers: r.headers, agent: ctx.services.upstreams.agent });
  let res: IncomingMessage | undefined;
  const timer = setTimeout(() => {
    route.pick.release();
    req.destroy();
    respondError(ctx, down, new UpstreamTimeoutError(), grpc, rec);
  }, ctx.services.limits.responseTimeoutMs);
  const ackDown = (): void => down.consumeAll();
  down.onData = (chunk, end) => {
    if (chunk.length > 0 && !req.write(chunk)) req.once('drain', ackDown);
    else ackDown();
    if (end) req.end();
  };
  if (down.remoteEnded) req.end();
  down.onHeaders = () => req.end();
  down.onReset = () => req.destroy();
  down.onClose = () => {
    clearTimeout(timer);
    route.pick.release();
    rec.end();
    if (!req.destroyed && !req.writableFinished) req.destroy();
    res?.destroy();
  };
  req.once('response', (response) => {
    res = response;
    clearTimeout(timer);
    route.pick.success(performance.now() - started);
    if (down.closed) {
      response.resume();
      return;
    }
    const status = response.statusCode ?? 502;
    rec.headers(status, headerString(response.headers['grpc-status']));
    down.sendHeaders(objectToFlat(h1ToH2Response(status, response.headers, response.httpVersion)), false);
    response.on('data', (chunk: Buffer) => {
      if (!down.sendData(chunk, false) || !down.writable) {
        response.pause();
        down.whenWritable(() => response.resume());
      }
    });
    response.once('end', () => {
      const trailers = objectToFlat(cleanTrailers(response.trailers));
      if (trailers.length > 0) down.sendHeaders(trailers, true);
      else down.sendData(Buffer.alloc(0), true);
    });
    response.once('aborted', () => down.reset(ErrorCode.internal));
  });
  req.on('error', (err) => {
    clearTimeout(timer);
    if (!down.headersSent) {
      route.pick.failure();
      respondError(ctx, down, new UpstreamConnectError({ cause: err }), grpc, rec);
    } else if (!down.closed) {
      down.reset(ErrorCode.internal);
    }
  });
}

function respondError(ctx: ConnectionContext, down: H2Stream, err: unknown, grpc: boolean, rec: RequestRecorder): void {
  const e = errorResponse(err);
  ctx.services.metrics.httpErrors.inc({ error: e.reason });
  rec.error(e.reason);
  if (e.reason === 'unexpected') ctx.log.warn('request failed', { reason: err instanceof Error ? err.message : String(err) });
  if (down.closed) return;
  if (down.headersSent) {
    down.reset(ErrorCode.internal);
    return;
  }
  const { status, headers } = errorHeaders(e, grpc);
  rec.headers(status, grpc ? headers['grpc-status'] : undefined);
  down.sendHeaders([':status', String(status), ...objectToFlat(headers)], grpc);
  if (!grpc) down.sendData(Buffer.from(`${e.message}\n`), true);
  // Take in what the client is still sending so the stream can close cleanly.
  down.onData = () => down.consumeAll();
  down.onHeaders = () => undefined;
  down.onReset = () => undefined;
  if (e.closeConnection) down.conn.close();
}

function headerString(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
