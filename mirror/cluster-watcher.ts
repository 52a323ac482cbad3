// The per-Link runtime: remote and local caches feed one keyed work queue, whose handlers
// turn "what the remote cluster exports" into local mirrors. Follow a remote Service:
// remote reflector (remote-caches.ts) → event-router.ts → queue key → dispatch.ts →
// service-reconciler.ts → mirror-objects (desired state) → local-writer (ownership-checked write).
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { EventRecorder } from '../kube/event-recorder.ts';
import type { Logger } from '../log/logger.ts';
import type { Link } from '../model/link-types.ts';
import type { ExportSelectors } from '../model/remote-selector.ts';
import { handleEvent } from './dispatch.ts';
import { EventRouter } from './event-router.ts';
import { decodeKey, eventKey, type EventKey, type MirrorEvent } from './events.ts';
import { resolveGateway } from './gateway-resolver.ts';
import { LocalCaches, localApi } from './local-caches.ts';
import { LocalWriter } from './local-writer.ts';
import type { MirrorMetrics } from './metrics.ts';
import type { MirrorSettings } from './mirror-objects.ts';
import { OutcomeReporter } from './outcome-reporter.ts';
import type { GatewayHealth } from './probe-worker.ts';
import type { ReconcileContext, StatusSink } from './reconcile-context.ts';
import { RemoteCaches } from './remote-caches.ts';
import { WorkQueue, type Priority, type RunTiming } from './work-queue.ts';

export interface ClusterWatcherOptions {
  link: Link;
  /** Namespace of the Link and of the controller's own objects (probe Endpoints). */
  namespace: string;
  localKubeConfig: KubeConfig;
  remoteKubeConfig: KubeConfig;
  settings: MirrorSettings;
  selectors: ExportSelectors;
  gatewayAddresses: readonly string[];
  probePort?: number;
  enableNamespaceCreation: boolean;
  enableHeadlessServices: boolean;
  workers: number;
  fieldManager: string;
  metrics: MirrorMetrics;
  status: StatusSink;
  events: EventRecorder;
  log: Logger;
  gatewayHealth: () => GatewayHealth;
  linkAges: () => Promise<string[]>;
  /** Called with the gateway's current addresses after each repair, for the probe worker. */
  onGatewayAddresses: (addresses: string[]) => void;
}

export class ClusterWatcher {
  readonly #o: ClusterWatcherOptions;
  readonly #cluster: string;
  readonly #queue: WorkQueue<EventKey>;
  readonly #router: EventRouter;
  readonly #local: LocalCaches;
  readonly #remote: RemoteCaches;
  readonly #ctx: ReconcileContext;
  readonly #reporter: OutcomeReporter;
  /** Keys that did not decode, logged once each. */
  readonly #badKeys = new Set<string>();
  readonly #hasGateway: boolean;
  #gatewayAddresses: string[];
  #stopped = false;

  constructor(o: ClusterWatcherOptions) {
    this.#o = o;
    this.#cluster = o.settings.clusterName;
    this.#hasGateway = o.gatewayAddresses.length > 0;
    this.#gatewayAddresses = [...o.gatewayAddresses];
    this.#queue = new WorkQueue<EventKey>({
      workers: o.workers,
      handle: (key, timing) => this.#handle(key, timing),
      onOutcome: (key, outcome, ms) => {
        const e = decodeKey(key);
        if (e) this.#reporter.report(e, key, outcome, ms);
        this.#o.metrics.queueDepth.set({ target_cluster_name: this.#cluster }, this.#queue.depth);
        this.#o.metrics.mirrors.set({ target_cluster_name: this.#cluster }, this.#router.ownedMirrors);
      },
    });
    this.#router = new EventRouter({
      cluster: this.#cluster,
      enqueue: (e, priority) => this.#enqueue(e, priority),
      isExported: (ns, name) => this.#remote.service(ns, name) !== undefined,
      status: o.status,
      metrics: o.metrics,
      log: o.log,
    });
    this.#local = new LocalCaches(o.localKubeConfig, this.#cluster, this.#router);
    this.#remote = new RemoteCaches(o.remoteKubeConfig, o.selectors, this.#router);
    const remoteCore = o.remoteKubeConfig.makeApiClient(CoreV1Api);
    const writer = new LocalWriter(o.localKubeConfig, this.#cluster, o.fieldManager);
    this.#ctx = {
      local: localApi(this.#local, writer),
      remote: this.#remote,
      settings: o.settings,
      selectors: o.selectors,
      hasGateway: this.#hasGateway,
      enableHeadlessServices: o.enableHeadlessServices,
      enableNamespaceCreation: o.enableNamespaceCreation,
      linkName: o.link.metadata.name,
      namespace: o.namespace,
      probePort: o.probePort,
      status: o.status,
      metrics: o.metrics,
      log: o.log,
      collisions: this.#router.collisions,
      gateway: () => ({ addresses: this.#gatewayAddresses, alive: o.gatewayHealth() === 'alive' }),
      setGatewayAddresses: (addresses) => {
        this.#gatewayAddresses = addresses;
        o.onGatewayAddresses(addresses);
      },
      resolveGateway: () => resolveGateway(remoteCore, o.settings.gatewayIdentity, o.gatewayAddresses),
      linkAges: o.linkAges,
      enqueue: (e, priority) => this.#enqueue(e, priority),
    };
    this.#reporter = new OutcomeReporter({
      settings: o.settings,
      link: {
        apiVersion: o.link.apiVersion,
        kind: 'Link',
        name: o.link.metadata.name,
        namespace: o.link.metadata.namespace ?? o.namespace,
        uid: o.link.metadata.uid,
      },
      status: o.status,
      events: o.events,
      metrics: o.metrics,
      log: o.log,
      collisions: this.#router.collisions,
    });
  }

  /** Starts the local caches first, so the first remote events find them filled. */
  async start(): Promise<void> {
    await this.#local.start();
    if (this.#hasGateway) this.#enqueue({ kind: 'GatewayChanged' });
    this.#remote.start();
    if (!this.#remote.watchesExports) this.#enqueue({ kind: 'OrphanSweep' });
  }

  /** The local caches have listed: the watcher writes from a complete view. */
  get synced(): boolean {
    return this.#local.synced;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([this.#remote.stop(), this.#local.stop()]);
    await this.#queue.stop();
  }

  /** Liveness changed or the repair period elapsed. */
  gatewayChanged(): void {
    if (this.#hasGateway) this.#enqueue({ kind: 'GatewayChanged' });
  }

  async #handle(key: EventKey, timing: RunTiming): Promise<void> {
    const e = decodeKey(key);
    // Each line a reconcile logs says when its change reached the controller and how long it queued.
    if (e) return handleEvent({ ...this.#ctx, log: this.#ctx.log.with(timingFields(timing)) }, e);
    // Not a ServiceChanged of some odd name: a key no event makes is a bug, reported once and dropped.
    if (!this.#badKeys.has(key)) {
      this.#badKeys.add(key);
      this.#o.log.error('unknown queue key dropped', { object: key });
    }
  }

  #enqueue(e: MirrorEvent, priority: Priority = 'event'): void {
    if (!this.#stopped) {
      this.#queue.add(eventKey(e), priority);
      this.#o.metrics.queueDepth.set({ target_cluster_name: this.#cluster }, this.#queue.depth);
    }
  }
}

function timingFields(t: RunTiming): { event_at: number; queued_ms: number } {
  return { event_at: Math.round(t.queuedAt * 10) / 10, queued_ms: Math.round((t.startedAt - t.queuedAt) * 10) / 10 };
}
