// Puts the layers together, in the order a connection meets them: identity → admin (so /ready
// can say 503 while the certificate is pending) → local Service cache → TLS listener.
import { readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../log/logger.ts';
import { AdminServer } from './admin.ts';
import type { GatewayConfig } from './config.ts';
import type { GatewayServices } from './context.ts';
import { createIdentitySource } from './identity-config.ts';
import { isValid, type IdentitySource } from './identity-source.ts';
import { GatewayMetrics } from './metrics.ts';
import { parsePolicy, type Policy } from './policy.ts';
import { ServiceResolver } from './resolve.ts';
import { GatewayServer } from './server.ts';
import { gatewaySuffix } from './target-name.ts';
import { Upstreams } from './upstream.ts';

export interface RunningGateway {
  listen: { host: string; port: number };
  admin: { host: string; port: number };
  metrics: GatewayMetrics;
  /** Stops accepting, drains within the configured deadline, then releases everything. */
  stop(): Promise<void>;
}

export async function startGateway(
  cfg: GatewayConfig,
  kubeConfig: KubeConfig,
  log: Logger,
  opts: { processMetrics?: boolean } = {},
): Promise<RunningGateway> {
  const metrics = new GatewayMetrics({ processMetrics: opts.processMetrics ?? false });
  const policy: Policy | undefined = cfg.policyFile === undefined ? undefined : parsePolicy(readFileSync(cfg.policyFile, 'utf8'));
  const identity: IdentitySource = createIdentitySource(cfg.identity, log.with({ part: 'identity' }));
  const resolver = new ServiceResolver({ kubeConfig, suffix: gatewaySuffix(cfg.clusterDomain), log });
  const admin = new AdminServer({
    ...cfg.adminListen,
    registry: metrics.registry,
    ready: () => isValid(identity.current()) && resolver.synced,
    credentials: () => identity.current(),
  });
  const adminAddr = await admin.start();
  log.info('admin server listening', { addr: `${adminAddr.host}:${adminAddr.port}` });

  await identity.start();
  const creds = identity.current();
  if (creds === undefined) throw new Error('identity source started without credentials');
  metrics.certExpiry.set(creds.notAfter.getTime() / 1000);
  await resolver.start();

  const upstreams = new Upstreams({ connectTimeoutMs: cfg.limits.connectTimeoutMs });
  const services: GatewayServices = {
    gatewayId: () => identity.current()?.identity ?? creds.identity,
    resolver,
    ...(policy === undefined ? {} : { policy }),
    metrics,
    upstreams,
    log,
    limits: cfg.limits,
  };
  const server = new GatewayServer({
    ...cfg.listen,
    services,
    credentials: creds,
    maxConnections: cfg.limits.maxConnections,
    handshakeTimeoutMs: cfg.limits.handshakeTimeoutMs,
  });
  identity.onChange((c) => {
    server.setCredentials(c);
    admin.setCredentials(c);
    metrics.certExpiry.set(c.notAfter.getTime() / 1000);
  });
  const listen = await server.start();
  log.info('gateway listening', { addr: `${listen.host}:${listen.port}`, identity: creds.identity, suffix: gatewaySuffix(cfg.clusterDomain) });

  return {
    listen,
    admin: adminAddr,
    metrics,
    stop: async () => {
      log.info('draining', { connections: server.connections, deadlineMs: cfg.drainTimeoutMs });
      await server.drain(cfg.drainTimeoutMs);
      upstreams.close();
      identity.stop();
      await resolver.stop();
      admin.close();
    },
  };
}
