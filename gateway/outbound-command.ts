// `multicluster outbound`: a local outbound proxy for one workload identity, the client peer of
// the gateway. It resolves targets through the destination API and connects the way a
// linkerd2-proxy would, so callers without a mesh proxy (tests, the demo) take the real path.
import type { Server } from 'node:net';
import { Command, Option } from 'commander';
import { startAdminServer } from '../admin/admin-server.ts';
import { UsageError } from '../cli/usage-error.ts';
import { createLogger, parseLogLevel } from '../log/logger.ts';
import { addIdentityOptions, duration, identityFromFlags, listenAddr } from './command.ts';
import { GatewayError } from './errors.ts';
import { createIdentitySource } from './identity-config.ts';
import { isValid } from './identity-source.ts';
import { createHttp1Listener, createHttp2Listener } from './outbound-http.ts';
import { DestinationResolver } from './outbound-resolve.ts';
import { createTcpListener, parseTcpMapping, type TcpMapping } from './outbound-tcp.ts';
import { OutboundConnections } from './outbound-upstream.ts';
import { OutboundMetrics } from './outbound-metrics.ts';
import type { IdentityFlags } from './identity-config.ts';

interface OutboundFlags extends IdentityFlags {
  destinationAddr: string;
  http1Listen?: string;
  http2Listen?: string;
  tcpListen: string[];
  adminListen: string;
  connectTimeout: string;
  logLevel: string;
}

function parseConfig(flags: OutboundFlags) {
  let tcp: TcpMapping[];
  try {
    tcp = flags.tcpListen.map(parseTcpMapping);
  } catch (err) {
    if (err instanceof GatewayError) throw new UsageError(err.message);
    throw err;
  }
  if (flags.http1Listen === undefined && flags.http2Listen === undefined && tcp.length === 0) {
    throw new UsageError('nothing to listen on: pass --http1-listen, --http2-listen or --tcp-listen');
  }
  return Object.freeze({
    identity: identityFromFlags(flags),
    destinationAddr: flags.destinationAddr,
    http1: flags.http1Listen === undefined ? undefined : listenAddr('http1-listen', flags.http1Listen),
    http2: flags.http2Listen === undefined ? undefined : listenAddr('http2-listen', flags.http2Listen),
    tcp,
    admin: listenAddr('admin-listen', flags.adminListen),
    connectTimeoutMs: duration('connect-timeout', flags.connectTimeout),
  });
}

function listen(server: Server, addr: { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => resolve());
  });
}

export function outboundCommand(): Command {
  const cmd = new Command('outbound').description(
    'run a local outbound proxy for one workload identity (resolves via the destination API, dials gateways with mTLS)',
  );
  addIdentityOptions(cmd)
    .requiredOption('--destination-addr <host:port>', 'destination service (plaintext gRPC)')
    .option('--http1-listen <addr>', 'HTTP/1 listener: the Host header (or absolute URI) names the target')
    .option('--http2-listen <addr>', 'HTTP/2 (h2c) listener: :authority names the target')
    .option(
      '--tcp-listen <mapping>',
      'opaque TCP listener [HOST:]PORT=NAME:PORT (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--admin-listen <addr>', 'admin listener (/live, /ready, /metrics)', '127.0.0.1:4191')
    .option('--connect-timeout <d>', 'dialing a peer', '5s')
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).default('info'))
    .action(async (flags: OutboundFlags) => {
      const cfg = parseConfig(flags);
      const log = createLogger({ level: parseLogLevel(flags.logLevel) }).with({ component: 'outbound' });
      const identity = createIdentitySource(cfg.identity, log.with({ part: 'identity' }));
      const metrics = new OutboundMetrics(() => identity.current()?.identity ?? '');
      const admin = await startAdminServer({ ...cfg.admin, registry: metrics.metrics.registry, ready: () => isValid(identity.current()) });
      try {
        await identity.start();
      } catch (err) {
        throw new UsageError(`cannot obtain an identity: ${err instanceof Error ? err.message : String(err)}`);
      }
      const resolver = new DestinationResolver({ addr: cfg.destinationAddr, log });
      const connections = new OutboundConnections(() => identity.current(), cfg.connectTimeoutMs);
      const deps = { resolver, connections, log, metrics };
      const servers: Server[] = [];
      if (cfg.http1) {
        const s = createHttp1Listener(deps);
        await listen(s, cfg.http1);
        servers.push(s);
      }
      if (cfg.http2) {
        const s = createHttp2Listener(deps);
        await listen(s, cfg.http2);
        servers.push(s);
      }
      for (const m of cfg.tcp) {
        const s = createTcpListener(m, deps);
        await listen(s, m.listen);
        servers.push(s);
      }
      log.info('outbound proxy listening', { identity: identity.current()?.identity, listeners: servers.length });
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      for (const s of servers) s.close();
      connections.close();
      resolver.close();
      identity.stop();
      admin.close();
    });
  return cmd;
}
