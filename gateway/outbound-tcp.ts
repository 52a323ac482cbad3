// The outbound proxy's TCP listeners: each accepts on a local address and forwards opaque
// bytes to one named target (a transport header without session protocol for meshed peers).
import { createServer, type Server } from 'node:net';
import { errorMessage, type Logger } from '../log/logger.ts';
import { pipeBoth } from './opaque.ts';
import { outboundKey } from './outbound-endpoint.ts';
import type { DestinationResolver } from './outbound-resolve.ts';
import type { OutboundConnections } from './outbound-upstream.ts';
import { GatewayError } from './errors.ts';

export interface TcpMapping {
  listen: { host: string; port: number };
  /** `name:port` to resolve. */
  target: string;
}

export class TcpMappingError extends GatewayError {
  override readonly name = 'TcpMappingError';
}

/** Parses `[HOST:]PORT=NAME:PORT`, e.g. `127.0.0.1:7000=echo.ns.svc.cluster.local:7000`. */
export function parseTcpMapping(text: string): TcpMapping {
  const m = /^(?:(.*):)?(\d+)=([^=]+:\d+)$/.exec(text);
  if (!m) throw new TcpMappingError(`invalid TCP mapping "${text}": use [HOST:]PORT=NAME:PORT`);
  return { listen: { host: m[1] || '127.0.0.1', port: Number(m[2]) }, target: (m[3] ?? '').toLowerCase() };
}

export function createTcpListener(
  mapping: TcpMapping,
  deps: { resolver: DestinationResolver; connections: OutboundConnections; log: Logger },
): Server {
  return createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    client.on('error', () => undefined);
    void (async () => {
      try {
        const r = await deps.resolver.resolve(mapping.target);
        const pick = r.balancer.pick();
        const e = pick && r.endpoints.get(outboundKey({ ip: pick.endpoint.ip, port: pick.endpoint.port, h2: false }));
        if (!pick || !e) throw new Error(`no endpoints for ${mapping.target}`);
        const started = performance.now();
        const up = await deps.connections.dial(e, undefined).catch((err: unknown) => {
          pick.failure();
          throw err;
        });
        pick.success(performance.now() - started);
        client.resume();
        await pipeBoth(client, up);
      } catch (err) {
        deps.log.debug('outbound TCP connection failed', { target: mapping.target, reason: errorMessage(err) });
        client.destroy();
      }
    })();
  });
}
