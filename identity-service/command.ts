// `multicluster identity`: a Linkerd-compatible identity service (Certify). Flags are parsed
// once into a frozen IdentityServiceConfig; library errors about the inputs become usage errors.
import { Command, Option } from 'commander';
import { parseListenAddr } from '../admin/admin-server.ts';
import { UsageError } from '../cli/usage-error.ts';
import { formatGoDuration, InvalidDurationError, parseGoDuration } from '../duration/go-duration.ts';
import { identityServiceName } from '../identity/certify-protocol.ts';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_LEAF_LIFETIME_MS } from '../identity/leaf.ts';
import { PkiError } from '../identity/x509.ts';
import { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig, reuseConnections } from '../kube/client.ts';
import { createLogger, parseLogLevel } from '../log/logger.ts';
import { Defaults } from '../model/linkerd-names.ts';
import { ListenError } from './certify-server.ts';
import type { IdentityServiceConfig, ListenAddr } from './config.ts';
import { IdentityService } from './identity-service.ts';
import { IssuerFileError } from './issuer-watcher.ts';

export interface IdentityFlags {
  listen: string;
  adminListen: string;
  kubeconfig?: string;
  context?: string;
  issuerCert: string;
  issuerKey: string;
  trustAnchors: string;
  trustDomain: string;
  controlNamespace: string;
  issuanceLifetime: string;
  clockSkewAllowance: string;
  shutdownGrace: string;
  logLevel: string;
}

export function parseIdentityConfig(flags: IdentityFlags): IdentityServiceConfig {
  const scope = { trustDomain: flags.trustDomain, controlNamespace: flags.controlNamespace };
  let serviceName: string;
  try {
    serviceName = identityServiceName(scope.controlNamespace, scope.trustDomain);
  } catch (err) {
    if (err instanceof PkiError) {
      throw new UsageError(`invalid --trust-domain/--control-namespace: ${err.message}`, { cause: err });
    }
    throw err;
  }
  return Object.freeze({
    listen: Object.freeze(listenAddr('--listen', flags.listen)),
    adminListen: Object.freeze(listenAddr('--admin-listen', flags.adminListen)),
    kubeconfig: flags.kubeconfig,
    context: flags.context,
    issuer: Object.freeze({ certFile: flags.issuerCert, keyFile: flags.issuerKey }),
    trustAnchorsFile: flags.trustAnchors,
    scope: Object.freeze(scope),
    serviceName,
    issuanceLifetimeMs: duration('--issuance-lifetime', flags.issuanceLifetime, true),
    clockSkewAllowanceMs: duration('--clock-skew-allowance', flags.clockSkewAllowance, false),
    shutdownGraceMs: duration('--shutdown-grace', flags.shutdownGrace, false),
    logLevel: parseLogLevel(flags.logLevel),
  });
}

export function identityCommand(): Command {
  return new Command('identity')
    .description('run a Linkerd-compatible identity service: sign proxy CSRs (io.linkerd.proxy.identity.Identity/Certify) after a TokenReview')
    .option('--listen <addr>', 'Certify (gRPC over TLS 1.3) listen address', '0.0.0.0:8080')
    .option('--admin-listen <addr>', 'admin server address (/metrics, /ready, /live)', '0.0.0.0:9990')
    .option('--kubeconfig <path>', 'kubeconfig for TokenReviews (default: in-cluster when neither --kubeconfig nor --context is given)')
    .option('--context <name>', 'kubeconfig context')
    .requiredOption('--issuer-cert <file>', 'identity issuer certificate PEM (optionally followed by its chain); reloaded when it changes')
    .requiredOption('--issuer-key <file>', 'identity issuer private key PEM; reloaded when it changes')
    .requiredOption('--trust-anchors <file>', 'trust anchor PEM bundle the issuer must chain to')
    .option('--trust-domain <domain>', 'identity trust domain', Defaults.trustDomain)
    .option('--control-namespace <ns>', 'Linkerd control-plane namespace', Defaults.linkerdNamespace)
    .option('--issuance-lifetime <duration>', 'lifetime of issued certificates (Go duration)', formatGoDuration(DEFAULT_LEAF_LIFETIME_MS))
    .option('--clock-skew-allowance <duration>', 'added to both ends of each validity period', formatGoDuration(DEFAULT_CLOCK_SKEW_MS))
    .option('--shutdown-grace <duration>', 'how long calls in flight may finish on SIGTERM', '5s')
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).default('info'))
    .action(async (flags: IdentityFlags) => {
      const cfg = parseIdentityConfig(flags);
      const log = createLogger({ level: cfg.logLevel }).with({ component: 'identity' });
      const service = await asUsage(() => IdentityService.start(cfg, kubeConfig(cfg), log));
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      log.info('shutting down', { signal });
      await service.stop();
    });
}

function kubeConfig(cfg: IdentityServiceConfig): KubeConfig {
  try {
    if (cfg.kubeconfig !== undefined || cfg.context !== undefined) return loadKubeConfig({ kubeconfig: cfg.kubeconfig, context: cfg.context });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), { cause: err });
  }
  if (process.env['KUBERNETES_SERVICE_HOST'] === undefined) {
    throw new UsageError('not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST is unset): pass --kubeconfig and/or --context');
  }
  const kc = reuseConnections(new KubeConfig());
  kc.loadFromCluster();
  return kc;
}

function listenAddr(flag: string, text: string): ListenAddr {
  try {
    return parseListenAddr(text);
  } catch (err) {
    throw new UsageError(`${flag}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

function duration(flag: string, text: string, positive: boolean): number {
  let ms: number;
  try {
    ms = parseGoDuration(text);
  } catch (err) {
    if (err instanceof InvalidDurationError) throw new UsageError(`${flag}: ${err.message}`, { cause: err });
    throw err;
  }
  if (positive && ms <= 0) throw new UsageError(`${flag} must be greater than zero, e.g. ${flag} 24h`);
  return ms;
}

/** Bad issuer/anchor files and busy addresses are the user's to fix: usage errors (exit 2). */
async function asUsage<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof PkiError || err instanceof IssuerFileError || err instanceof ListenError) {
      throw new UsageError(err.message, { cause: err });
    }
    throw err;
  }
}
