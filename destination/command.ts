// `multicluster destination`: Linkerd's Destination API (Get, GetProfile) for local,
// gateway-mirrored, remote-discovery and federated Services. Flags are parsed once into a
// frozen DestinationConfig; the rest of the folder never reads flags or the environment.
import { Command, Option } from 'commander';
import { parseListenAddr, startAdminServer } from '../admin/admin-server.ts';
import { UsageError } from '../cli/usage-error.ts';
import { tryParseGoDuration } from '../duration/go-duration.ts';
import { loadKubeConfig } from '../kube/client.ts';
import { createLogger, errorMessage, parseLogLevel } from '../log/logger.ts';
import { Defaults } from '../model/linkerd-names.ts';
import { ClusterCache } from './cluster-cache.ts';
import { ClusterStore } from './cluster-store.ts';
import type { DestinationConfig } from './config.ts';
import { DestinationMetrics } from './metrics.ts';
import { Resolver } from './resolver.ts';
import { DestinationServer } from './server.ts';
import { wireCodec } from './to-wire.ts';

interface DestinationFlags {
  listen: string;
  adminListen: string;
  kubeconfig?: string;
  context?: string;
  controlNamespace: string;
  credentialsNamespace?: string;
  clusterDomain: string;
  identityTrustDomain?: string;
  trustDomain?: string;
  maxStreamBuffer: string;
  firstListWait: string;
  logLevel: string;
}

function addr(flag: string, text: string): { host: string; port: number } {
  try {
    return parseListenAddr(text);
  } catch (err) {
    throw new UsageError(`--${flag}: ${errorMessage(err)}`);
  }
}

function duration(flag: string, text: string): number {
  const ms = tryParseGoDuration(text);
  if (ms === undefined || ms < 0) throw new UsageError(`invalid --${flag} "${text}": use a Go duration such as 3s or 500ms`);
  return ms;
}

export function parseDestinationConfig(flags: DestinationFlags): DestinationConfig {
  if (flags.trustDomain && flags.identityTrustDomain && flags.trustDomain !== flags.identityTrustDomain) {
    throw new UsageError(
      `--trust-domain "${flags.trustDomain}" and --identity-trust-domain "${flags.identityTrustDomain}" disagree: pass one of them`,
    );
  }
  const bufferMb = Number(flags.maxStreamBuffer);
  if (!Number.isFinite(bufferMb) || bufferMb <= 0 || bufferMb > 1024) {
    throw new UsageError(`invalid --max-stream-buffer "${flags.maxStreamBuffer}": use megabytes from 0.001 to 1024`);
  }
  return Object.freeze({
    listen: addr('listen', flags.listen),
    adminListen: addr('admin-listen', flags.adminListen),
    kubeconfig: flags.kubeconfig,
    context: flags.context,
    controlNamespace: flags.controlNamespace,
    credentialsNamespace: flags.credentialsNamespace ?? flags.controlNamespace,
    clusterDomain: flags.clusterDomain,
    identityTrustDomain: flags.identityTrustDomain ?? flags.trustDomain ?? Defaults.trustDomain,
    maxStreamBufferBytes: Math.round(bufferMb * 1024 * 1024),
    firstListWaitMs: duration('first-list-wait', flags.firstListWait),
    localListWaitMs: 10_000,
    shutdownGraceMs: 5_000,
  });
}

export function destinationCommand(): Command {
  return new Command('destination')
    .description("serve Linkerd's Destination API (Get, GetProfile) with the endpoints of local, mirrored and federated Services")
    .option('--listen <addr>', 'gRPC address (plaintext, as Linkerd serves it)', '0.0.0.0:8086')
    .option('--admin-listen <addr>', 'admin server address (/metrics, /ready, /live)', '0.0.0.0:9996')
    .option('--kubeconfig <path>', 'kubeconfig of the local cluster (default: in-cluster or $KUBECONFIG)')
    .option('--context <name>', 'kubeconfig context of the local cluster')
    .option('--control-namespace <ns>', "Linkerd's control-plane namespace", Defaults.linkerdNamespace)
    .option('--credentials-namespace <ns>', 'namespace of the cluster credential Secrets (default: --control-namespace, where `link` writes them)')
    .option('--cluster-domain <domain>', 'the local cluster domain', Defaults.clusterDomain)
    .option('--identity-trust-domain <domain>', 'the local identity trust domain (default cluster.local)')
    .option('--trust-domain <domain>', 'same as --identity-trust-domain')
    .option('--max-stream-buffer <mb>', 'megabytes a stream may hold for a slow reader before it is reset (RESOURCE_EXHAUSTED)', '16')
    .option('--first-list-wait <duration>', 'how long a new resolution waits for a remote cluster to list before answering', '3s')
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).default('info'))
    .action(async (flags: DestinationFlags) => {
      const cfg = parseDestinationConfig(flags);
      const log = createLogger({ level: parseLogLevel(flags.logLevel) }).with({ component: 'destination' });
      await runDestination(cfg, log);
    });
}

async function runDestination(cfg: DestinationConfig, log: ReturnType<typeof createLogger>): Promise<void> {
  let kc;
  try {
    kc = loadKubeConfig({ kubeconfig: cfg.kubeconfig, context: cfg.context });
  } catch (err) {
    throw new UsageError(errorMessage(err));
  }
  // The metric sources are read only on a scrape, after everything below exists.
  const metrics = new DestinationMetrics(
    {
      clusterStoreSize: () => store.size,
      resolutions: () => resolver.size,
      staleEndpoints: () => [
        { cluster: 'local', count: local.staleEndpoints() },
        ...store.clusters().map((c) => ({ cluster: c.name, count: c.cache.staleEndpoints() })),
      ],
    },
    { processMetrics: true },
  );
  const watchError = (cluster: string, message: string) => {
    metrics.remoteWatchErrors.inc({ cluster });
    log.warn('watch failed; serving the last known endpoints', { cluster, reason: message });
  };
  const local = new ClusterCache({
    facts: { trustDomain: cfg.identityTrustDomain },
    kubeConfig: kc,
    log,
    onWatchError: (m) => watchError('local', m),
  });
  const store = new ClusterStore({ localKubeConfig: kc, namespace: cfg.credentialsNamespace, log, onWatchError: watchError });
  const codec = wireCodec();
  const resolver = new Resolver({
    local,
    store,
    encode: (u) => codec.encodeUpdate(u),
    log,
    firstListWaitMs: cfg.firstListWaitMs,
    localListWaitMs: cfg.localListWaitMs,
  });
  const server = new DestinationServer({
    resolver,
    local,
    codec,
    clusterDomain: cfg.clusterDomain,
    localListWaitMs: cfg.localListWaitMs,
    maxQueuedBytes: cfg.maxStreamBufferBytes,
    metrics,
    log,
  });
  store.start();
  const port = await server.listen(cfg.listen.host, cfg.listen.port).catch((err: unknown) => {
    throw new UsageError(`cannot listen on ${cfg.listen.host}:${cfg.listen.port}: ${errorMessage(err)}; pass a free address with --listen`);
  });
  const admin = await startAdminServer({ ...cfg.adminListen, registry: metrics.registry, ready: () => store.hasListed });
  log.info('destination service started', { listen: `${cfg.listen.host}:${port}`, credentialsNamespace: cfg.credentialsNamespace });
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  log.info('shutting down');
  await server.shutdown(cfg.shutdownGraceMs);
  await resolver.close();
  await Promise.all([store.stop(), local.stop()]);
  await new Promise<void>((resolve) => admin.close(() => resolve()));
  log.info('stopped');
}
