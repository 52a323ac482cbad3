// No session protocol: opaque TCP. The bytes after the transport header are piped to a picked
// endpoint and back, with backpressure and half-close (each direction ends on
// its own; the pair is torn down once both ended or either failed).
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { ConnectionContext } from './context.ts';
import { errorResponse } from './error-response.ts';
import { checkLoop } from './forwarded.ts';
import { isAllowed } from './policy.ts';
import { NoEndpointsError, UnauthorizedClientError } from './errors.ts';

/**
 * `from` → `to` with backpressure and half-close, as stream.pipe, but what one turn of the event
 * loop read goes out in one write: TLS hands over each 16 KiB record as its own chunk, and one writev per read
 * instead of a write per record is most of what a bulk transfer costs the gateway.
 */
function relay(from: Duplex, to: Duplex): void {
  let corked = false;
  let paused = false;
  const uncork = (): void => {
    corked = false;
    to.uncork();
  };
  const resume = (): void => {
    paused = false;
    from.resume();
  };
  from.on('data', (chunk: Buffer) => {
    if (!corked) {
      corked = true;
      to.cork();
      setImmediate(uncork);
    }
    if (!to.write(chunk) && !paused) {
      paused = true;
      from.pause();
      to.once('drain', resume);
    }
  });
  from.once('end', () => to.end());
}

/** Pipes `a` and `b` both ways; resolves when both are closed. */
export function pipeBoth(a: Duplex, b: Duplex): Promise<void> {
  return new Promise((resolve) => {
    let closed = 0;
    const onClose = (): void => {
      if (++closed === 2) resolve();
    };
    const fail = (): void => {
      a.destroy();
      b.destroy();
    };
    a.once('close', onClose);
    b.once('close', onClose);
    a.on('error', fail);
    b.on('error', fail);
    relay(a, b);
    relay(b, a);
    // With allowHalfOpen a socket stays open after both directions ended; close it then.
    let ended = 0;
    const onFinish = (): void => {
      if (++ended === 2) {
        a.destroy();
        b.destroy();
      }
    };
    a.once('finish', onFinish);
    b.once('finish', onFinish);
    // One side closing outright (no half-close) takes the other down.
    a.once('close', () => b.destroy());
    b.once('close', () => a.destroy());
  });
}

export async function serveOpaque(socket: TLSSocket, rest: Buffer, ctx: ConnectionContext): Promise<void> {
  const s = ctx.services;
  let upstream: Socket;
  try {
    checkLoop({ gatewayId: s.gatewayId(), clientId: ctx.clientId, target: ctx.authority }, []);
    const target = s.resolver.resolve(ctx.targetName, ctx.targetPort);
    if (!isAllowed(s.policy, { clientId: ctx.clientId, service: target.service, annotation: target.allowedClients })) {
      s.metrics.authzDeny.inc({ client_id: ctx.clientId, target_service: `${target.service.name}.${target.service.namespace}` });
      throw new UnauthorizedClientError();
    }
    const pick = target.balancer.pick();
    if (pick === undefined) throw new NoEndpointsError();
    const started = performance.now();
    try {
      upstream = await s.upstreams.dial(pick.endpoint);
      pick.success(performance.now() - started);
    } catch (err) {
      pick.failure();
      throw err;
    }
  } catch (err) {
    // Opaque connections have no way to carry an error message: they are closed.
    const e = errorResponse(err);
    s.metrics.tcpErrors.inc({ error: e.reason });
    ctx.log.debug('opaque connection refused', { reason: e.reason, target: ctx.authority });
    socket.destroy();
    return;
  }
  if (rest.length > 0) upstream.write(rest);
  await pipeBoth(socket, upstream);
}
