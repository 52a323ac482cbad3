// `multicluster gateway`: flags → a frozen GatewayConfig (the one place this part reads flags
// and the environment), then the gateway until SIGTERM, which drains it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { parseListenAddr } from '../admin/admin-server.ts';
import { UsageError } from '../cli/usage-error.ts';
import { tryParseGoDuration } from '../duration/go-duration.ts';
import { PkiError } from '../identity/x509.ts';
import { loadKubeConfig } from '../kube/client.ts';
import { createLogger, parseLogLevel } from '../log/logger.ts';
import { Defaults } from '../model/linkerd-names.ts';
import type { GatewayConfig, ListenAddr } from './config.ts';
import { GatewayError } from './errors.ts';
import { startGateway } from './gateway.ts';
import { parseIdentityFlags, type IdentityFlags } from './identity-config.ts';

interface GatewayFlags extends IdentityFlags {
  listen: string;
  adminListen: string;
  kubeconfig?: string;
  context?: string;
  clusterDomain: string;
  policy?: string;
  maxConnections: string;
  maxConcurrentStreams: string;
  responseTimeout: string;
  connectTimeout: string;
  idleTimeout: string;
  handshakeTimeout: string;
  drainTimeout: string;
  logLevel: string;
}

export function duration(flag: string, text: string): number {
  const ms = tryParseGoDuration(text);
  if (ms === undefined || ms <= 0) throw new UsageError(`invalid --${flag} "${text}": use a positive Go duration such as 10s or 1m`);
  return ms;
}

export function count(flag: string, text: string, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`invalid --${flag} "${text}": use a whole number from 1 to ${max}`);
  return n;
}

export function listenAddr(flag: string, text: string): ListenAddr {
  try {
    return parseListenAddr(text);
  } catch {
    throw new UsageError(`invalid --${flag} "${text}": use ADDR:PORT, e.g. 0.0.0.0:4143`);
  }
}

/**
 * Flags first, then the environment a Linkerd proxy is configured with (what the injector sets:
 * LINKERD2_PROXY_IDENTITY_*; MC_GATEWAY_IDENTITY from our gateway manifest), so the same binary
 * runs in a Pod without repeating them as flags. Trust anchors given as PEM in the environment
 * are written to a private temporary file, since every source reads (and may reload) a file.
 */
export function withIdentityEnv(flags: IdentityFlags, env: NodeJS.ProcessEnv): IdentityFlags {
  const fileOrIssuer = flags.cert !== undefined || flags.key !== undefined || flags.issuerCert !== undefined || flags.issuerKey !== undefined;
  let trustAnchors = flags.trustAnchors;
  const anchorsPem = env['LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS'];
  if (trustAnchors === undefined && anchorsPem !== undefined && anchorsPem.trim() !== '') {
    const dir = mkdtempSync(join(tmpdir(), 'mc-trust-'));
    trustAnchors = join(dir, 'ca.crt');
    writeFileSync(trustAnchors, anchorsPem, { mode: 0o600 });
  }
  return {
    ...flags,
    trustAnchors,
    identity: flags.identity ?? env['LINKERD2_PROXY_IDENTITY_LOCAL_NAME'] ?? env['MC_GATEWAY_IDENTITY'],
    ...(fileOrIssuer
      ? {}
      : {
          identityAddr: flags.identityAddr ?? env['LINKERD2_PROXY_IDENTITY_SVC_ADDR'],
          identityTokenFile: flags.identityTokenFile ?? env['LINKERD2_PROXY_IDENTITY_TOKEN_FILE'],
          identityServerName: flags.identityServerName ?? env['LINKERD2_PROXY_IDENTITY_SVC_NAME'],
        }),
  };
}

/** Maps the identity flags' own errors to usage errors (only command files do that). */
export function identityFromFlags(flags: IdentityFlags, env: NodeJS.ProcessEnv = process.env): GatewayConfig['identity'] {
  try {
    return parseIdentityFlags(withIdentityEnv(flags, env));
  } catch (err) {
    if (err instanceof GatewayError) throw new UsageError(err.message);
    throw err;
  }
}

export function parseGatewayConfig(flags: GatewayFlags, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return Object.freeze({
    listen: listenAddr('listen', flags.listen),
    adminListen: listenAddr('admin-listen', flags.adminListen),
    kubeconfig: flags.kubeconfig,
    context: flags.context,
    identity: identityFromFlags(flags, env),
    clusterDomain: flags.clusterDomain.replace(/\.$/, ''),
    policyFile: flags.policy,
    limits: Object.freeze({
      maxConnections: count('max-connections', flags.maxConnections, 1_000_000),
      maxConcurrentStreams: count('max-concurrent-streams', flags.maxConcurrentStreams, 100_000),
      responseTimeoutMs: duration('response-timeout', flags.responseTimeout),
      connectTimeoutMs: duration('connect-timeout', flags.connectTimeout),
      idleTimeoutMs: duration('idle-timeout', flags.idleTimeout),
      handshakeTimeoutMs: duration('handshake-timeout', flags.handshakeTimeout),
    }),
    drainTimeoutMs: duration('drain-timeout', flags.drainTimeout),
  });
}

/** The identity flags both `gateway` and `outbound` take. */
export function addIdentityOptions(cmd: Command): Command {
  return cmd
    .option('--cert <file>', 'identity from files: leaf certificate PEM (may carry its chain); reloaded on change')
    .option('--key <file>', 'identity from files: PKCS#8 or SEC1 private key PEM')
    .option('--trust-anchors <file>', 'trust anchor PEM bundle (required with every identity source)')
    .option('--issuer-cert <file>', 'self-issued identity: issuer certificate PEM')
    .option('--issuer-key <file>', 'self-issued identity: issuer private key PEM')
    .option('--identity <name>', 'the workload identity to self-issue or certify')
    .option('--identity-addr <host:port>', 'identity service address (Certify)')
    .option('--identity-token-file <file>', 'ServiceAccount token (audience identity.l5d.io) for the identity service')
    .option('--identity-server-name <name>', "the identity service's identity (default identity.<ns>.serviceaccount.identity.<ns>.<domain>)");
}

export function gatewayCommand(): Command {
  const cmd = new Command('gateway').description('run the multicluster gateway: mTLS on --listen, transport header, forwarding to local Services');
  addIdentityOptions(cmd)
    .option('--listen <addr>', 'gateway listener', `0.0.0.0:${Defaults.gatewayPort}`)
    .option('--admin-listen <addr>', 'admin listener (/live, /ready, /metrics; plaintext HTTP/1 and mTLS HTTP/2)', `0.0.0.0:${Defaults.probePort}`)
    .option('--kubeconfig <path>', 'kubeconfig of the local cluster (default: in-cluster or $KUBECONFIG)')
    .option('--context <name>', 'kubeconfig context of the local cluster')
    .option('--cluster-domain <domain>', 'local cluster domain; names must end in svc.<domain>', Defaults.clusterDomain)
    .option('--policy <file>', 'authorization policy YAML (rules: [{service: glob, allow: [identity globs]}])')
    .option('--max-connections <n>', 'concurrent client connections', '10000')
    .option('--max-concurrent-streams <n>', 'concurrent HTTP/2 streams per client connection', '1000')
    .option('--response-timeout <d>', 'wait for target response headers before answering 504', '30s')
    .option('--connect-timeout <d>', 'dialing a target endpoint', '5s')
    .option('--idle-timeout <d>', 'close client connections idle this long', '5m')
    .option('--handshake-timeout <d>', 'TLS handshake deadline', '10s')
    .option('--drain-timeout <d>', 'on SIGTERM, how long in-flight requests may finish', '20s')
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).default('info'))
    .action(async (flags: GatewayFlags) => {
      const cfg = parseGatewayConfig(flags);
      const log = createLogger({ level: parseLogLevel(flags.logLevel) }).with({ component: 'gateway' });
      const kc = loadKubeConfig({ kubeconfig: cfg.kubeconfig, context: cfg.context });
      let gw;
      try {
        gw = await startGateway(cfg, kc, log, { processMetrics: true });
      } catch (err) {
        if (err instanceof PkiError || err instanceof GatewayError) throw new UsageError(err.message);
        throw err;
      }
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      await gw.stop();
      log.info('stopped');
    });
  return cmd;
}
