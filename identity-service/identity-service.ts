// The identity service process: issuer (watched), its own serving certificate (self-issued,
// renewed, re-issued when the issuer changes), the Certify server and the admin server.
import type { Server as HttpServer } from 'node:http';
import { startAdminServer } from '../admin/admin-server.ts';
import { issueLeaf } from '../identity/leaf.ts';
import { readInputFile } from '../identity/pem-files.ts';
import type { SigningCa } from '../identity/signing-ca.ts';
import { parseCertificates } from '../identity/x509.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import { errorMessage, type Logger } from '../log/logger.ts';
import { Certifier } from './certifier.ts';
import { CertifyServer, ListenError } from './certify-server.ts';
import type { IdentityServiceConfig } from './config.ts';
import { IssuerWatcher } from './issuer-watcher.ts';
import { IdentityMetrics } from './metrics.ts';
import { ReloadableServerCredentials, type ServingCertificate } from './server-credentials.ts';
import { KubeTokenReviewer } from './token-review.ts';

// Like a proxy: renew at 70% of the certificate's lifetime, never sooner than 10 s apart.
const RENEW_AT = 0.7;
const MIN_RENEW_MS = 10_000;

export class IdentityService {
  #server: CertifyServer | undefined;
  #admin: HttpServer | undefined;
  #renewTimer: NodeJS.Timeout | undefined;
  #serving: Promise<void> = Promise.resolve();
  #stopped = false;

  private constructor(
    private readonly cfg: IdentityServiceConfig,
    private readonly log: Logger,
    readonly metrics: IdentityMetrics,
    private readonly issuer: IssuerWatcher,
    private readonly credentials: ReloadableServerCredentials,
  ) {}

  /** Throws PkiError/IssuerFileError for unusable inputs and ListenError for a busy address. */
  static async start(cfg: IdentityServiceConfig, kubeConfig: KubeConfig, log: Logger): Promise<IdentityService> {
    const anchors = parseCertificates(readInputFile(cfg.trustAnchorsFile, '--trust-anchors'));
    const metrics = new IdentityMetrics({ processMetrics: true });
    const issuer = await IssuerWatcher.load({ files: cfg.issuer, anchors, log });
    metrics.setIssuerExpiry(issuer.current.expiresAt);
    const first = await issueServing(issuer.current, cfg);
    const service = new IdentityService(cfg, log, metrics, issuer, new ReloadableServerCredentials(first.serving));
    issuer.watch({
      applied: async (ca) => {
        metrics.issuerReloads.inc({ result: 'applied' });
        metrics.setIssuerExpiry(ca.expiresAt);
        await service.reissueServingCertificate('issuer changed');
      },
      rejected: () => metrics.issuerReloads.inc({ result: 'rejected' }),
    });
    service.#scheduleRenewal(first.notAfter);
    try {
      await service.#listen(kubeConfig);
    } catch (err) {
      await service.stop();
      throw err;
    }
    log.info('identity service listening', {
      addr: `${cfg.listen.host}:${service.port}`,
      serviceName: cfg.serviceName,
      issuer: issuer.current.bundle.cert.subject,
      issuerExpiresAt: issuer.current.expiresAt.toISOString(),
    });
    return service;
  }

  async #listen(kubeConfig: KubeConfig): Promise<void> {
    const { cfg, log, metrics, issuer } = this;
    try {
      this.#admin = await startAdminServer({ ...cfg.adminListen, registry: metrics.registry, ready: () => this.ready });
    } catch (err) {
      throw new ListenError(
        `cannot serve the admin endpoints on ${cfg.adminListen.host}:${cfg.adminListen.port} (${errorMessage(err)}): ` +
          'pass a free address with --admin-listen',
        { cause: err },
      );
    }
    this.#server = await CertifyServer.start({
      ...cfg.listen,
      credentials: this.credentials,
      certifier: new Certifier({
        scope: cfg.scope,
        lifetimeMs: cfg.issuanceLifetimeMs,
        skewMs: cfg.clockSkewAllowanceMs,
        issuer: () => issuer.current,
        reviewer: new KubeTokenReviewer(kubeConfig),
        metrics,
        log,
      }),
      log,
    });
  }

  /** The issuer is loaded (always, once constructed) and the Certify server listens. */
  get ready(): boolean {
    return this.#server !== undefined;
  }

  get port(): number | undefined {
    return this.#server?.port;
  }

  /** Self-issues a new serving certificate from the current issuer; serialized, so renewals never interleave. */
  reissueServingCertificate(why: string): Promise<void> {
    this.#serving = this.#serving.then(async () => {
      try {
        const next = await issueServing(this.issuer.current, this.cfg);
        this.credentials.update(next.serving);
        this.#scheduleRenewal(next.notAfter);
        this.log.info('serving certificate issued', { reason: why, notAfter: next.notAfter.toISOString() });
      } catch (err) {
        this.log.error('cannot issue the serving certificate; retrying', { reason: why, error: errorMessage(err) });
        this.#scheduleRetry();
      }
    });
    return this.#serving;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#renewTimer);
    this.issuer.close();
    await this.#server?.shutdown(this.cfg.shutdownGraceMs);
    this.#server = undefined;
    const admin = this.#admin;
    this.#admin = undefined;
    if (admin) await new Promise<void>((resolve) => admin.close(() => resolve()));
  }

  #scheduleRenewal(notAfter: Date): void {
    const remaining = notAfter.getTime() - Date.now();
    this.#arm(Math.max(MIN_RENEW_MS, remaining * RENEW_AT));
  }

  #scheduleRetry(): void {
    this.#arm(MIN_RENEW_MS);
  }

  #arm(ms: number): void {
    clearTimeout(this.#renewTimer);
    if (this.#stopped) return;
    // setTimeout overflows past ~24.8 days; a renewal due later than that simply happens early.
    this.#renewTimer = setTimeout(() => void this.reissueServingCertificate('renewal'), Math.min(ms, 2 ** 31 - 1));
    this.#renewTimer.unref();
  }
}

async function issueServing(issuer: SigningCa, cfg: IdentityServiceConfig): Promise<{ serving: ServingCertificate; notAfter: Date }> {
  const leaf = await issueLeaf(issuer, { identity: cfg.serviceName, lifetimeMs: cfg.issuanceLifetimeMs, skewMs: cfg.clockSkewAllowanceMs });
  return { serving: { chainPem: leaf.chainPem, keyPem: leaf.keyPem }, notAfter: leaf.cert.notAfter };
}
