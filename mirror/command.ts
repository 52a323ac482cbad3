// `multicluster mirror`: the service-mirror controller process for one Link. The only place
// that reads flags and the environment: they are parsed once into a frozen MirrorConfig, and
// library errors about them become UsageErrors here. Only the Lease holder runs the Link
// controller; shutdown is bounded by --shutdown-timeout.
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { Command, Option } from 'commander';
import { tryParseGoDuration } from '../duration/go-duration.ts';
import { UsageError } from '../cli/usage-error.ts';
import { parseListenAddr, startAdminServer } from '../admin/admin-server.ts';
import { KubeConfigError, loadKubeConfig } from '../kube/client.ts';
import { LeaderElector } from '../kube/lease.ts';
import { createLogger, errorMessage, parseLogLevel, type Logger } from '../log/logger.ts';
import { Defaults, Labels, ObjectNames } from '../model/linkerd-names.ts';
import { parseSelector } from '../model/label-selector.ts';
import { LocalMirror } from './local-mirror.ts';
import type { MirrorConfig } from './config.ts';
import { LinkController } from './link-controller.ts';
import { MirrorMetrics } from './metrics.ts';
import { isDns1123Label } from '../model/mirror-naming.ts';

interface MirrorFlags {
  link?: string;
  localMirror: boolean;
  federatedServiceSelector: string;
  namespace: string;
  kubeconfig?: string;
  context?: string;
  enableNamespaceCreation: boolean;
  enableHeadlessServices: boolean;
  keepMirrorsOnUnlink: boolean;
  endpointRefreshPeriod: string;
  workers: string;
  metricsAddr: string;
  identity?: string;
  leaseDuration: string;
  leaseRenew: string;
  leaseRetry: string;
  shutdownTimeout: string;
  logLevel: string;
}

function duration(flag: string, text: string): number {
  const ms = tryParseGoDuration(text);
  if (ms === undefined || ms <= 0) throw new UsageError(`invalid --${flag} "${text}": use a positive Go duration such as 30s or 1m`);
  return ms;
}

export function parseMirrorConfig(flags: MirrorFlags, positionalLink?: string): MirrorConfig {
  const named = flags.link ?? positionalLink;
  if (flags.localMirror && named) throw new UsageError(`--local-mirror serves no Link: drop the Link name "${named}"`);
  const linkName = flags.localMirror ? '' : named;
  if (linkName === undefined)
    throw new UsageError('missing the Link name: pass --link <name> (the name of the Link object in --namespace), or --local-mirror');
  if (!flags.localMirror && !isDns1123Label(linkName))
    throw new UsageError(`invalid Link name "${linkName}": it must be a DNS-1123 label (lowercase letters, digits, '-')`);
  let localMirror: MirrorConfig['localMirror'];
  if (flags.localMirror) {
    try {
      localMirror = Object.freeze({ federatedSelector: parseSelector(flags.federatedServiceSelector) });
    } catch (err) {
      throw new UsageError(`invalid --federated-service-selector "${flags.federatedServiceSelector}": ${errorMessage(err)}`);
    }
  }
  const workers = Number(flags.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64)
    throw new UsageError(`invalid --workers "${flags.workers}": use a whole number from 1 to 64`);
  let metricsAddr: { host: string; port: number };
  try {
    metricsAddr = parseListenAddr(flags.metricsAddr);
  } catch (err) {
    throw new UsageError(errorMessage(err));
  }
  const identity = flags.identity ?? process.env['HOSTNAME'] ?? hostname();
  return Object.freeze({
    linkName,
    localMirror,
    leaseName: localMirror ? LOCAL_MIRROR_LEASE : ObjectNames.lease(linkName),
    namespace: flags.namespace,
    kubeconfig: flags.kubeconfig,
    context: flags.context,
    enableNamespaceCreation: flags.enableNamespaceCreation,
    enableHeadlessServices: flags.enableHeadlessServices,
    keepMirrorsOnUnlink: flags.keepMirrorsOnUnlink,
    endpointRefreshPeriodMs: duration('endpoint-refresh-period', flags.endpointRefreshPeriod),
    workers,
    metricsAddr,
    identity,
    fieldManager: localMirror ? 'local-service-mirror' : `service-mirror-${linkName}`,
    shutdownTimeoutMs: duration('shutdown-timeout', flags.shutdownTimeout),
    lease: Object.freeze({
      durationMs: duration('lease-duration', flags.leaseDuration),
      renewMs: duration('lease-renew', flags.leaseRenew),
      retryMs: duration('lease-retry', flags.leaseRetry),
    }),
  });
}

export function mirrorCommand(): Command {
  return new Command('mirror')
    .description('run the service-mirror controller for one Link (mirrors exported remote Services as <svc>-<cluster>)')
    .argument('[link]', 'Link name (same as --link; upstream passes it positionally)')
    .option('--link <name>', 'name of the Link to serve')
    .option('--local-mirror', "serve no Link: add the local cluster's federated members to <svc>-federated (local-discovery)", false)
    .option('--federated-service-selector <selector>', 'with --local-mirror: label selector of federated members', `${Labels.federated}=member`)
    .option('--namespace <ns>', 'namespace of the Link and its credentials Secret', Defaults.namespace)
    .option('--kubeconfig <path>', 'kubeconfig of the local cluster (default: in-cluster or $KUBECONFIG)')
    .option('--context <name>', 'kubeconfig context of the local cluster')
    .option('--enable-namespace-creation', 'create missing local namespaces instead of reporting MissingNamespace', false)
    .option('--enable-headless-services', 'mirror headless Services as headless, with one endpoint mirror <hostname>-<cluster> per remote pod', false)
    .option('--keep-mirrors-on-unlink', 'leave mirrors in place when the Link is deleted (no finalizer)', false)
    .option('--endpoint-refresh-period <duration>', 'how often to re-resolve the gateway and repair gateway Endpoints', '1m')
    .option('--workers <n>', 'reconcile workers (one object is never reconciled by two at once)', '16')
    .option('--metrics-addr <addr>', 'admin server address (/metrics, /ready, /live)', ':9999')
    .option('--identity <id>', 'leader-election identity (default: $HOSTNAME)')
    .option('--lease-duration <d>', 'leader lease duration', '30s')
    .option('--lease-renew <d>', 'leader lease renew period', '10s')
    .option('--lease-retry <d>', 'retry period for standbys', '2s')
    .option('--shutdown-timeout <d>', 'on SIGTERM or a lost lease, how long the final Link status write and the lease release may take', '10s')
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).default('info'))
    .action(async (positional: string | undefined, flags: MirrorFlags) => {
      const cfg = parseMirrorConfig(flags, positional);
      const log = createLogger({ level: parseLogLevel(flags.logLevel) }).with(
        cfg.localMirror ? { component: 'local-service-mirror' } : { component: 'service-mirror', link: cfg.linkName },
      );
      await runMirror(cfg, log);
    });
}

function localKubeConfig(cfg: MirrorConfig): KubeConfig {
  try {
    return loadKubeConfig({ kubeconfig: cfg.kubeconfig, context: cfg.context });
  } catch (err) {
    if (err instanceof KubeConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/** What the Lease holder runs: the Link controller, or the local mirror. */
interface MirrorRuntime {
  readonly ready: boolean;
  readonly statusPending: boolean;
  stop(): Promise<void>;
}

const LOCAL_MIRROR_LEASE = 'local-service-mirror-write';

function startRuntime(kc: KubeConfig, cfg: MirrorConfig, metrics: MirrorMetrics, log: Logger): MirrorRuntime {
  if (!cfg.localMirror) {
    const c = new LinkController(kc, cfg, metrics, log);
    c.start();
    return c;
  }
  const m = new LocalMirror(
    kc,
    { namespace: cfg.namespace, federatedSelector: cfg.localMirror.federatedSelector, workers: cfg.workers, fieldManager: cfg.fieldManager },
    metrics,
    log,
  );
  m.start().catch((err: unknown) => log.error('local mirror failed to start', { reason: errorMessage(err) }));
  return {
    get ready() {
      return m.ready;
    },
    statusPending: false,
    stop: () => m.stop(),
  };
}

/** Resolves with what `work` returned, or 'timeout' after ms. */
async function within<T>(ms: number, work: Promise<T>): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function runMirror(cfg: MirrorConfig, log: Logger): Promise<void> {
  const kc = localKubeConfig(cfg);
  const metrics = new MirrorMetrics({ processMetrics: true });
  let controller: MirrorRuntime | undefined;
  /** The stop of the last term, so a new term (or the process exit) waits for its final writes. */
  let stopping: Promise<void> = Promise.resolve();
  let shuttingDown = false;
  const stopController = async (): Promise<void> => {
    const c = controller;
    controller = undefined;
    if (!c) return;
    const done = await within(cfg.shutdownTimeoutMs, c.stop());
    if (done === 'timeout' || c.statusPending) {
      log.error('controller stopped with writes undone', {
        reason: done === 'timeout' ? 'ShutdownTimeout' : 'WriteFailed',
        unwritten: 'link status',
      });
    }
  };
  const elector = new LeaderElector(
    {
      kubeConfig: kc,
      namespace: cfg.namespace,
      name: cfg.leaseName,
      identity: cfg.identity,
      leaseMs: cfg.lease.durationMs,
      renewMs: cfg.lease.renewMs,
      retryMs: cfg.lease.retryMs,
      log,
    },
    {
      onStartedLeading: () => {
        controller = startRuntime(kc, cfg, metrics, log);
      },
      onStoppedLeading: () => (stopping = stopController()),
    },
  );
  // Ready: a leader whose caches have synced, or a standby waiting for the lease.
  const ready = () => !shuttingDown && (controller ? controller.ready : !elector.leading);
  const admin = await startAdminServer({ ...cfg.metricsAddr, registry: metrics.registry, ready });
  elector.start();
  log.info('service mirror started', { identity: cfg.identity, reason: 'waiting for the lease' });
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  shuttingDown = true;
  log.info('shutting down', { timeout_ms: cfg.shutdownTimeoutMs });
  // The final status flush, then the lease release, under one deadline: an unreachable API
  // server must not keep the process (and its replacement's wait) going.
  const leading = elector.leading;
  let released = false;
  const done = await within(
    cfg.shutdownTimeoutMs,
    (async () => {
      await elector.stop();
      released = true;
      await stopping;
    })(),
  );
  if (done === 'timeout') {
    // The release follows the controller's stop, so neither happened.
    const unwritten = leading && !released ? 'link status, lease release' : 'none';
    log.error('shutdown deadline passed; exiting', { reason: 'ShutdownTimeout', unwritten });
  }
  admin.close();
  log.info('stopped');
  // Requests to an unreachable API server may still hold sockets open; nothing is left to wait for.
  process.exit(done === 'timeout' ? 1 : 0);
}
