// Watches one Link and its credentials Secret and keeps a ClusterWatcher running for the
// current pair of them. A spec change or a rotated Secret restarts the watcher in place
// (mirrors stay); a bad Link or Secret is reported in the status and as an Event, and the
// process keeps running. Deleting the Link removes its mirrors through a finalizer.
import { createHash } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesObject, type V1Secret } from '@kubernetes/client-node';
import { isConflict, isNotFound, loadKubeConfig } from '../kube/client.ts';
import { EventRecorder } from '../kube/event-recorder.ts';
import { customObjectPage, Reflector } from '../kube/reflector.ts';
import { InvalidLinkError, linkGatewayAddresses, linkGatewayPort, linkProbe, parseLink } from '../model/link-parse.ts';
import { LINK_GROUP, LINK_PLURAL, LINK_STORAGE_VERSION, type Link, type LinkProbe } from '../model/link-types.ts';
import { errorMessage, type Logger } from '../log/logger.ts';
import { Defaults } from '../model/linkerd-names.ts';
import { Backoff } from '../retry/backoff.ts';
import { ClusterWatcher } from './cluster-watcher.ts';
import { LinkStatusWriter } from './link-status.ts';
import { LocalWriter } from './local-writer.ts';
import { deleteMirrorsOf } from './mirror-removal.ts';
import type { MirrorMetrics } from './metrics.ts';
import type { MirrorConfig } from './config.ts';
import { REPORT_AFTER_ATTEMPTS } from './outcome-reporter.ts';
import { ProbeWorker } from './probe-worker.ts';

const MIRROR_FINALIZER = 'multicluster.linkerd.io/mirrors';
/** Tries at the finalizer release when the Link keeps changing under it (status writes). */
const FINALIZER_ATTEMPTS = 5;

/** Link-level problems that stop mirroring until the user fixes them. */
type LinkProblem =
  | { kind: 'LinkMissing' }
  | { kind: 'LinkInvalid'; message: string }
  | { kind: 'SecretMissing'; secret: string }
  | { kind: 'KubeconfigInvalid'; secret: string; message: string };

export class LinkController {
  readonly #kc: KubeConfig;
  readonly #cfg: MirrorConfig;
  readonly #metrics: MirrorMetrics;
  readonly #log: Logger;
  readonly #links: Reflector<KubernetesObject>;
  readonly #core: CoreV1Api;
  /** Watches only the Link's credentials Secret by name, which is all its Role may read. */
  #secrets?: { name: string; reflector: Reflector<V1Secret> };
  readonly #custom: CustomObjectsApi;
  readonly #events: EventRecorder;
  readonly #status: LinkStatusWriter;
  #watcher?: ClusterWatcher;
  #probe?: ProbeWorker;
  #probeKey = '';
  #fingerprint = '';
  #syncing: Promise<void> = Promise.resolve();
  #pending = false;
  #stopped = false;
  #repairTimer?: NodeJS.Timeout;
  #problem?: LinkProblem;
  #seeded = false;
  readonly #retry = new Backoff({ baseMs: 500, capMs: 30_000 });
  #retryTimer?: NodeJS.Timeout;
  readonly #writer: LocalWriter;

  constructor(kubeConfig: KubeConfig, cfg: MirrorConfig, metrics: MirrorMetrics, log: Logger) {
    this.#kc = kubeConfig;
    this.#cfg = cfg;
    this.#metrics = metrics;
    this.#log = log.with({ link: cfg.linkName });
    this.#custom = kubeConfig.makeApiClient(CustomObjectsApi);
    const core = kubeConfig.makeApiClient(CoreV1Api);
    this.#events = new EventRecorder(kubeConfig, 'linkerd-service-mirror', this.#log);
    this.#status = new LinkStatusWriter(kubeConfig, cfg.namespace, cfg.linkName, this.#log);
    const byName = `metadata.name=${cfg.linkName}`;
    this.#links = new Reflector<KubernetesObject>({
      kubeConfig,
      path: `/apis/${LINK_GROUP}/${LINK_STORAGE_VERSION}/namespaces/${cfg.namespace}/${LINK_PLURAL}`,
      fieldSelector: byName,
      // Custom objects come back as plain JSON; parseLink checks them before use.
      list: (q) =>
        customObjectPage(this.#custom, { group: LINK_GROUP, version: LINK_STORAGE_VERSION, namespace: cfg.namespace, plural: LINK_PLURAL }, q),
      onEvent: (e) => {
        if (e.type !== 'error') this.#schedule();
        else this.#log.warn('link watch failed; retrying', { reason: e.message });
      },
    });
    this.#core = core;
    // For the Link's finalizers, which belong to no target cluster (deleteMirrorsOf gets the cluster's own writer).
    this.#writer = new LocalWriter(kubeConfig, '', cfg.fieldManager);
  }

  /**
   * The Link and its Secret are cached, and the mirror caches too when the Link is usable: the
   * controller acts on a complete view. A Link that cannot be used is still a synced state.
   */
  get ready(): boolean {
    if (this.#stopped || !this.#links.hasListed) return false;
    if (this.#watcher) return this.#watcher.synced;
    return this.#problem !== undefined;
  }

  /** Whether Link status changes are still unwritten (after stop: what the final flush could not write). */
  get statusPending(): boolean {
    return this.#status.pending !== 'none';
  }

  start(): void {
    this.#links.start();
    this.#repairTimer = setInterval(() => this.#watcher?.gatewayChanged(), this.#cfg.endpointRefreshPeriodMs);
  }

  /** Stops everything it started, the final status flush last. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#repairTimer) clearInterval(this.#repairTimer);
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    await Promise.all([this.#links.stop(), this.#secrets?.reflector.stop()]);
    await this.#syncing;
    await this.#finishDeletion();
    await this.#stopWatcher();
    this.#probe?.stop();
    this.#status.stop();
    await this.#status.flush();
  }

  /** Serialises syncs; changes that arrive during one cause exactly one more. */
  #schedule(): void {
    if (this.#pending || this.#stopped) return;
    this.#pending = true;
    this.#syncing = this.#syncing.then(async () => {
      this.#pending = false;
      if (this.#stopped) return;
      try {
        await this.#sync();
        this.#retry.reset();
      } catch (err) {
        this.#syncFailed(err);
      }
    });
  }

  /** Retried with capped backoff; one that keeps failing also becomes an Event on the Link. */
  #syncFailed(err: unknown): void {
    const delayMs = Math.round(this.#retry.next());
    const reason = errorMessage(err);
    this.#log.error('link sync failed; retrying', { reason, attempt: this.#retry.attempt, delay_ms: delayMs });
    if (this.#retry.attempt === REPORT_AFTER_ATTEMPTS) {
      void this.#events.record(
        { apiVersion: `${LINK_GROUP}/${LINK_STORAGE_VERSION}`, kind: 'Link', name: this.#cfg.linkName, namespace: this.#cfg.namespace },
        'Warning',
        'LinkSyncFailing',
        `still retrying (attempt ${this.#retry.attempt}): ${reason}`,
      );
    }
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#schedule();
    }, delayMs);
  }

  async #sync(): Promise<void> {
    if (!this.#links.hasListed) return;
    const raw = this.#links.get(this.#cfg.linkName, this.#cfg.namespace);
    if (!raw) {
      // Deleted (past its finalizer, or with --keep-mirrors-on-unlink): stop, keep mirrors.
      await this.#setProblem({ kind: 'LinkMissing' });
      await this.#stopWatcher();
      return;
    }
    let link: Link;
    try {
      link = parseLink(raw);
      if (link.spec.targetClusterName === 'federated') {
        throw new InvalidLinkError(this.#cfg.linkName, [
          'spec.targetClusterName "federated" would make mirror names collide with federated Services (<svc>-federated); choose another cluster name',
        ]);
      }
      if (!link.spec.targetClusterName) throw new InvalidLinkError(this.#cfg.linkName, ['spec.targetClusterName is required']);
    } catch (err) {
      await this.#setProblem(
        { kind: 'LinkInvalid', message: errorMessage(err) },
        { apiVersion: raw.apiVersion, metadata: { name: raw.metadata?.name, uid: raw.metadata?.uid } },
      );
      await this.#stopWatcher();
      return;
    }

    if (link.metadata.deletionTimestamp) {
      await this.#finalize(link);
      return;
    }
    if (!this.#cfg.keepMirrorsOnUnlink && !(link.metadata.finalizers ?? []).includes(MIRROR_FINALIZER)) {
      await this.#patchFinalizers(link, [...(link.metadata.finalizers ?? []), MIRROR_FINALIZER]);
    }
    if (!this.#seeded) {
      this.#status.seed(link.status?.mirrorServices, link.status?.federatedServices);
      this.#seeded = true;
    }

    const secretName = link.spec.clusterCredentialsSecret ?? '';
    const secrets = await this.#watchSecret(secretName);
    if (!secrets.hasListed) return;
    const secret = secrets.get(secretName, this.#cfg.namespace);
    if (!secret) {
      await this.#setProblem({ kind: 'SecretMissing', secret: secretName }, link);
      await this.#stopWatcher();
      return;
    }
    let remote: KubeConfig;
    try {
      const b64 = secret.data?.['kubeconfig'];
      if (!b64) throw new Error('the Secret has no "kubeconfig" key');
      remote = loadKubeConfig({ yaml: Buffer.from(b64, 'base64').toString('utf8') });
      if (!remote.getCurrentCluster()) throw new Error('the kubeconfig has no current cluster');
    } catch (err) {
      await this.#setProblem({ kind: 'KubeconfigInvalid', secret: secretName, message: errorMessage(err) }, link);
      await this.#stopWatcher();
      return;
    }

    const fingerprint = createHash('sha256')
      .update(JSON.stringify([link.spec, secret.metadata?.resourceVersion]))
      .digest('hex');
    if (fingerprint === this.#fingerprint && this.#watcher) return;
    const restarting = this.#watcher !== undefined;
    await this.#stopWatcher();
    this.#problem = undefined;
    this.#fingerprint = fingerprint;
    await this.#startWatcher(link, remote);
    this.#log.info(restarting ? 'link changed; watchers restarted, mirrors kept' : 'mirroring started', {
      cluster: link.spec.targetClusterName,
      reason: restarting ? 'SpecOrSecretChanged' : 'Started',
    });
  }

  async #watchSecret(name: string): Promise<Reflector<V1Secret>> {
    if (this.#secrets?.name === name) return this.#secrets.reflector;
    await this.#secrets?.reflector.stop();
    const reflector = new Reflector<V1Secret>({
      kubeConfig: this.#kc,
      path: `/api/v1/namespaces/${this.#cfg.namespace}/secrets`,
      fieldSelector: `metadata.name=${name}`,
      list: (q) => this.#core.listNamespacedSecret({ namespace: this.#cfg.namespace, ...q }),
      onEvent: (e) => {
        if (e.type !== 'error') this.#schedule();
        else this.#log.warn('credentials Secret watch failed; retrying', { object: `${this.#cfg.namespace}/${name}`, reason: e.message });
      },
    });
    this.#secrets = { name, reflector };
    reflector.start();
    return reflector;
  }

  async #startWatcher(link: Link, remote: KubeConfig): Promise<void> {
    const cluster = link.spec.targetClusterName ?? '';
    const gatewayAddresses = linkGatewayAddresses(link);
    const probe = linkProbe(link);
    const labels = { target_cluster_name: cluster };
    this.#metrics.gatewayEnabled.set(labels, gatewayAddresses.length > 0 ? 1 : 0);
    await this.#ensureProbe(cluster, gatewayAddresses, probe);
    const watcher = new ClusterWatcher({
      link,
      namespace: this.#cfg.namespace,
      localKubeConfig: this.#kc,
      remoteKubeConfig: remote,
      settings: {
        clusterName: cluster,
        clusterDomain: link.spec.targetClusterDomain || Defaults.clusterDomain,
        gatewayIdentity: link.spec.gatewayIdentity ?? '',
        gatewayPort: linkGatewayPort(link) ?? Defaults.gatewayPort,
        excludedLabels: link.spec.excludedLabels ?? [],
        excludedAnnotations: link.spec.excludedAnnotations ?? [],
      },
      selectors: { gateway: link.spec.selector, remoteDiscovery: link.spec.remoteDiscoverySelector, federated: link.spec.federatedServiceSelector },
      linkAges: () => this.#linkAges(),
      gatewayAddresses,
      probePort: probe?.port,
      enableNamespaceCreation: this.#cfg.enableNamespaceCreation,
      enableHeadlessServices: this.#cfg.enableHeadlessServices,
      workers: this.#cfg.workers,
      fieldManager: this.#cfg.fieldManager,
      metrics: this.#metrics,
      status: this.#status,
      events: this.#events,
      log: this.#log.with({ cluster }),
      gatewayHealth: () => this.#probe?.health ?? 'unknown',
      onGatewayAddresses: (addresses) => {
        if (probe) this.#probe?.setTarget({ addresses, probe });
      },
    });
    this.#watcher = watcher;
    await watcher.start();
  }

  /** Keeps the probe worker (and its proven health) across watcher restarts unless its target changed. */
  async #ensureProbe(cluster: string, addresses: string[], probe: LinkProbe | undefined): Promise<void> {
    const key = JSON.stringify([cluster, addresses, probe]);
    if (key === this.#probeKey) return;
    this.#probe?.stop();
    this.#probe = undefined;
    this.#probeKey = key;
    if (!probe || addresses.length === 0) return;
    const worker = new ProbeWorker({ addresses, probe }, cluster, this.#metrics, this.#log.with({ cluster }), (health) => {
      this.#status.setLinkCondition(
        'GatewayAlive',
        health === 'alive' ? 'True' : 'False',
        health === 'alive' ? 'ProbeSucceeded' : 'ProbeFailed',
        `gateway ${health}`,
      );
      this.#watcher?.gatewayChanged();
    });
    this.#probe = worker;
    // Prove the gateway before the first mirror is written, so Endpoints start out right.
    await worker.probeOnce();
    worker.start();
  }

  /** Target clusters of every Link in the namespace, oldest Link first. */
  async #linkAges(): Promise<string[]> {
    const res = (await this.#custom.listNamespacedCustomObject({
      group: LINK_GROUP,
      version: LINK_STORAGE_VERSION,
      namespace: this.#cfg.namespace,
      plural: LINK_PLURAL,
    })) as {
      items: Array<{ metadata?: { creationTimestamp?: string; name?: string }; spec?: { targetClusterName?: string } }>;
    };
    return res.items
      .map((l) => ({ at: l.metadata?.creationTimestamp ?? '', name: l.metadata?.name ?? '', cluster: l.spec?.targetClusterName ?? '' }))
      .sort((a, b) => a.at.localeCompare(b.at) || a.name.localeCompare(b.name))
      .map((l) => l.cluster);
  }

  async #stopWatcher(): Promise<void> {
    const w = this.#watcher;
    this.#watcher = undefined;
    this.#fingerprint = '';
    await w?.stop();
  }

  /**
   * `unlink | kubectl delete -f -` deletes the Link and this Deployment back to back, so SIGTERM
   * can arrive before the deletion event does (the suite saw it on a loaded machine): read the
   * Link once more and run its finalizer now, or the Link stays stuck until someone clears the
   * finalizer by hand.
   */
  async #finishDeletion(): Promise<void> {
    if (this.#cfg.keepMirrorsOnUnlink) return;
    try {
      const link = await this.#readLink();
      if (link?.metadata.deletionTimestamp) await this.#finalize(link);
    } catch (err) {
      this.#log.warn('could not finish removing the deleted Link', { reason: errorMessage(err) });
    }
  }

  /** The Link as the API server has it now; undefined once it is gone. */
  async #readLink(): Promise<Link | undefined> {
    try {
      const raw = (await this.#custom.getNamespacedCustomObject({
        group: LINK_GROUP,
        version: LINK_STORAGE_VERSION,
        namespace: this.#cfg.namespace,
        plural: LINK_PLURAL,
        name: this.#cfg.linkName,
      })) as KubernetesObject;
      return parseLink(raw);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async #finalize(link: Link): Promise<void> {
    if (!(link.metadata.finalizers ?? []).includes(MIRROR_FINALIZER)) return;
    await this.#stopWatcher();
    // The finalizer goes first, the mirrors right after. `unlink | kubectl delete -f -` deletes
    // this controller's ServiceAccount and RBAC a few requests after the Link: a finalizer left
    // for last lost that race (403s) and left the Link stuck. The unlink output lists the
    // mirrors too, so what this process cannot finish is deleted anyway.
    await this.#releaseFinalizer(link);
    const cluster = link.spec.targetClusterName ?? '';
    const removed = await deleteMirrorsOf(this.#kc, new LocalWriter(this.#kc, cluster, this.#cfg.fieldManager));
    this.#log.info('link deleted; mirrors removed', { cluster, reason: 'Finalizer', removed });
    this.#probe?.stop();
    this.#probe = undefined;
    this.#probeKey = '';
    this.#metrics.forget(cluster);
  }

  /**
   * Removes this controller's finalizer under the Link's resourceVersion (other finalizers are
   * not ours to drop). The status writer bumps that version too, so a conflict reads the Link
   * again and retries, a few times.
   */
  async #releaseFinalizer(link: Link): Promise<void> {
    let current: Link | undefined = link;
    for (let attempt = 1; current && (current.metadata.finalizers ?? []).includes(MIRROR_FINALIZER); attempt++) {
      try {
        await this.#patchFinalizers(
          current,
          (current.metadata.finalizers ?? []).filter((f) => f !== MIRROR_FINALIZER),
        );
        return;
      } catch (err) {
        if (attempt >= FINALIZER_ATTEMPTS || !(err instanceof Error && isConflict(err.cause))) throw err;
        current = await this.#readLink();
      }
    }
  }

  async #patchFinalizers(link: Link, finalizers: string[]): Promise<void> {
    const { name, resourceVersion } = link.metadata;
    await this.#writer.setLinkFinalizers({ namespace: this.#cfg.namespace, name, resourceVersion }, finalizers);
  }

  async #setProblem(problem: LinkProblem, link?: { apiVersion?: string; metadata?: { name?: string; uid?: string } }): Promise<void> {
    const prev = JSON.stringify(this.#problem);
    this.#problem = problem;
    if (prev === JSON.stringify(problem) || problem.kind === 'LinkMissing') return;
    const message = problemMessage(problem);
    this.#log.warn('link not usable; mirroring paused, mirrors kept', { reason: problem.kind, error: message });
    this.#status.setLinkCondition('CredentialsValid', 'False', problem.kind, message);
    await this.#events.record(
      {
        apiVersion: link?.apiVersion ?? `${LINK_GROUP}/${LINK_STORAGE_VERSION}`,
        kind: 'Link',
        name: this.#cfg.linkName,
        namespace: this.#cfg.namespace,
        uid: link?.metadata?.uid,
      },
      'Warning',
      problem.kind,
      message,
    );
  }
}

function problemMessage(p: LinkProblem): string {
  switch (p.kind) {
    case 'LinkMissing':
      return 'the Link does not exist';
    case 'LinkInvalid':
      return `${p.message}; fix the Link (re-run \`multicluster link\` and apply its output)`;
    case 'SecretMissing':
      return `credentials Secret ${p.secret} not found: apply the output of \`multicluster link\` (it contains the Secret)`;
    case 'KubeconfigInvalid':
      return `credentials Secret ${p.secret} holds no usable kubeconfig (${p.message}): re-run \`multicluster link\` and apply its output`;
  }
}
