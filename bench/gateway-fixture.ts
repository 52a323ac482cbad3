// Child processes of `npm run bench -- gateway`: `target` (an h2c server answering a small body,
// and a TCP sink that reports the bytes it got), `gateway` (the real GatewayServer with the
// target as its only endpoint, identity from files), or `relay` (plain TCP piped to the target's
// ports with stream.pipe, no TLS: the floor of any relay in Node). Prints `ready <port...>` on stdout.
import * as http2 from 'node:http2';
import { connect, createServer, type AddressInfo } from 'node:net';
import { P2cBalancer } from '../gateway/balancer.ts';
import { GatewayDomainInvalidError } from '../gateway/errors.ts';
import { loadCredentialFiles } from '../gateway/identity-source-files.ts';
import { GatewayMetrics } from '../gateway/metrics.ts';
import { GatewayServer } from '../gateway/server.ts';
import { Upstreams } from '../gateway/upstream.ts';
import { createLogger } from '../log/logger.ts';

const [role, ...args] = process.argv.slice(2);

if (role === 'target') {
  const h2 = http2.createServer();
  const body = Buffer.from('ok\n');
  h2.on('stream', (s) => {
    s.on('error', () => undefined);
    s.respond({ ':status': 200, 'content-type': 'text/plain' });
    s.end(body);
  });
  h2.listen(0, '127.0.0.1');
  const sink = createServer({ allowHalfOpen: true }, (s) => {
    let n = 0;
    s.on('data', (c: Buffer) => (n += c.length));
    s.on('end', () => s.end(String(n)));
    s.on('error', () => undefined);
  });
  sink.listen(0, '127.0.0.1');
  await Promise.all([new Promise((r) => h2.once('listening', r)), new Promise((r) => sink.once('listening', r))]);
  process.stdout.write(`ready ${(h2.address() as AddressInfo).port} ${(sink.address() as AddressInfo).port}\n`);
} else if (role === 'gateway') {
  const [dir, h2Port, sinkPort] = args;
  const creds = await loadCredentialFiles({ certFile: `${dir}/gw.crt`, keyFile: `${dir}/gw.key`, trustAnchorsFile: `${dir}/ca.crt` });
  const balancer = (port: number): P2cBalancer => {
    const b = new P2cBalancer();
    b.update([{ ip: '127.0.0.1', port }]);
    return b;
  };
  const targets = new Map([
    ['h2.bench.svc.cluster.local', balancer(Number(h2Port))],
    ['sink.bench.svc.cluster.local', balancer(Number(sinkPort))],
  ]);
  const server = new GatewayServer({
    host: '127.0.0.1',
    port: 0,
    credentials: creds,
    maxConnections: 10_000,
    handshakeTimeoutMs: 10_000,
    services: {
      gatewayId: () => creds.identity,
      metrics: new GatewayMetrics(),
      log: createLogger({ level: 'warn' }),
      upstreams: new Upstreams({ connectTimeoutMs: 5000 }),
      limits: { maxConcurrentStreams: 1000, responseTimeoutMs: 30_000, idleTimeoutMs: 300_000, connectTimeoutMs: 5000 },
      resolver: {
        resolve: (name) => {
          const b = targets.get(name);
          if (!b) throw new GatewayDomainInvalidError();
          return { service: { name: name.split('.')[0] ?? '', namespace: 'bench' }, balancer: b };
        },
      },
    },
  });
  const addr = await server.start();
  process.stdout.write(`ready ${addr.port}\n`);
} else if (role === 'relay') {
  // One listener per target port, in the order given.
  const ports = await Promise.all(
    args.map(async (arg) => {
      const targetPort = Number(arg);
      const relay = createServer({ allowHalfOpen: true, noDelay: true }, (from) => {
        const to = connect({ host: '127.0.0.1', port: targetPort, allowHalfOpen: true, noDelay: true });
        from.pipe(to).pipe(from);
        from.on('error', () => to.destroy());
        to.on('error', () => from.destroy());
      });
      relay.listen(0, '127.0.0.1');
      await new Promise((r) => relay.once('listening', r));
      return (relay.address() as AddressInfo).port;
    }),
  );
  process.stdout.write(`ready ${ports.join(' ')}\n`);
} else {
  process.stderr.write('usage: gateway-fixture.ts target | gateway DIR H2PORT SINKPORT | relay PORT...\n');
  process.exit(2);
}

// Exit normally on a signal, so that --cpu-prof and friends write their output.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(0));
