// Test support for the reconciler unit tests (*.test.ts only): one Link's reconcilers over the
// fakes of fake-clusters.ts. Remote changes go through the real EventRouter as reflector events;
// queue items wait in an open queue (so follow-ups can be asserted) and run one at a time
// through the real dispatch and OutcomeReporter, as upstream's cluster_watcher tests drive
// processNextEvent.
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { createLogger, type Logger } from '../log/logger.ts';
import type { ExportSelectors } from '../model/remote-selector.ts';
import { handleEvent } from './dispatch.ts';
import { PermanentError, RetryableError } from './errors.ts';
import { EventRouter } from './event-router.ts';
import { decodeKey, eventKey, type EventKey, type MirrorEvent } from './events.ts';
import { FakeLocal, FakeRemote, FakeStatus } from './fake-clusters.ts';
import type { ResolvedGateway } from './gateway-resolver.ts';
import { MirrorMetrics } from './metrics.ts';
import type { MirrorSettings } from './mirror-objects.ts';
import { OutcomeReporter, type EventSink } from './outcome-reporter.ts';
import type { ReconcileContext } from './reconcile-context.ts';
import type { Outcome, Priority } from './work-queue.ts';

const key = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export interface HarnessOptions {
  cluster?: string;
  /** Gateway addresses of the Link; none makes a pod-to-pod Link. */
  gatewayAddresses?: string[];
  selectors?: ExportSelectors;
  enableHeadlessServices?: boolean;
  enableNamespaceCreation?: boolean;
  probePort?: number;
  linkAges?: string[];
}

export const DEFAULT_SELECTORS: ExportSelectors = {
  gateway: { matchLabels: { 'mirror.linkerd.io/exported': 'true' } },
  remoteDiscovery: { matchLabels: { 'mirror.linkerd.io/exported': 'remote-discovery' } },
  federated: { matchLabels: { 'mirror.linkerd.io/federated': 'member' } },
};

/** One Link's reconcilers over fakes, with the queue held open so follow-up items can be asserted. */
export class Harness {
  readonly local: FakeLocal;
  readonly remote = new FakeRemote();
  readonly status = new FakeStatus();
  readonly events: Array<{ reason: string; message: string }> = [];
  readonly logs: string[] = [];
  readonly router: EventRouter;
  readonly ctx: ReconcileContext;
  readonly settings: MirrorSettings;
  /** Queued keys in order, each once, with their priority. */
  readonly queue = new Map<EventKey, Priority>();
  alive = true;
  resolved?: ResolvedGateway;
  #addresses: string[];
  readonly #attempts = new Map<EventKey, number>();
  readonly #reporter: OutcomeReporter;

  constructor(o: HarnessOptions = {}) {
    const cluster = o.cluster ?? 'east';
    this.local = new FakeLocal(cluster);
    this.local.namespaces.add('web');
    this.#addresses = [...(o.gatewayAddresses ?? ['192.0.2.10'])];
    const log: Logger = createLogger({ level: 'debug', write: (line) => this.logs.push(line) });
    const metrics = new MirrorMetrics();
    this.settings = {
      clusterName: cluster,
      clusterDomain: 'cluster.local',
      gatewayIdentity: 'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local',
      gatewayPort: 4143,
      excludedLabels: ['excluded/*'],
      excludedAnnotations: [],
    };
    const enqueue = (e: MirrorEvent, priority: Priority = 'event') => {
      const k = eventKey(e);
      if (this.queue.get(k) !== 'event') this.queue.set(k, priority);
    };
    this.router = new EventRouter({
      cluster,
      enqueue,
      isExported: (ns, name) => this.remote.service(ns, name) !== undefined,
      status: this.status,
      metrics,
      log,
    });
    this.local.onService = (e) => this.router.onLocalService(e);
    this.local.onEndpoints = (e) => this.router.onLocalMirror(e);
    const eventSink: EventSink = {
      record: (_obj, _type, reason, message) => {
        this.events.push({ reason, message });
        return Promise.resolve();
      },
    };
    this.ctx = {
      local: this.local,
      remote: this.remote,
      settings: this.settings,
      selectors: o.selectors ?? DEFAULT_SELECTORS,
      hasGateway: this.#addresses.length > 0,
      enableHeadlessServices: o.enableHeadlessServices ?? false,
      enableNamespaceCreation: o.enableNamespaceCreation ?? false,
      linkName: cluster,
      namespace: 'linkerd-multicluster',
      probePort: o.probePort,
      status: this.status,
      metrics,
      log,
      collisions: this.router.collisions,
      gateway: () => ({ addresses: this.#addresses, alive: this.alive }),
      setGatewayAddresses: (a) => (this.#addresses = a),
      resolveGateway: () => Promise.resolve(this.resolved ?? { addresses: this.#addresses, source: 'link-spec', unresolved: [] }),
      linkAges: () => Promise.resolve(o.linkAges ?? [cluster]),
      enqueue,
    };
    this.#reporter = new OutcomeReporter({
      settings: this.settings,
      link: { apiVersion: 'multicluster.linkerd.io/v1alpha3', kind: 'Link', name: cluster, namespace: 'linkerd-multicluster' },
      status: this.status,
      events: eventSink,
      metrics,
      log,
      collisions: this.router.collisions,
    });
  }

  /** A remote Service appears or changes (the remote reflector's event). */
  exportService(svc: V1Service): void {
    const k = key(svc);
    const prev = this.remote.servicesByKey.get(k);
    this.remote.servicesByKey.set(k, svc);
    this.router.onRemoteService(prev ? { type: 'updated', object: svc, previous: prev } : { type: 'added', object: svc });
  }

  /** The remote Service stops matching the export selector, or is deleted: the reflector reports it deleted. */
  unexportService(namespace: string, name: string): void {
    const prev = this.remote.servicesByKey.get(`${namespace}/${name}`);
    if (!prev) return;
    this.remote.servicesByKey.delete(`${namespace}/${name}`);
    this.router.onRemoteService({ type: 'deleted', object: prev });
  }

  putSlice(slice: V1EndpointSlice): void {
    const k = key(slice);
    const prev = this.remote.slicesByKey.get(k);
    this.remote.slicesByKey.set(k, slice);
    this.router.onRemoteSlice(prev ? { type: 'updated', object: slice, previous: prev } : { type: 'added', object: slice });
  }

  deleteSlice(namespace: string, name: string): void {
    const prev = this.remote.slicesByKey.get(`${namespace}/${name}`);
    if (!prev) return;
    this.remote.slicesByKey.delete(`${namespace}/${name}`);
    this.router.onRemoteSlice({ type: 'deleted', object: prev });
  }

  putFederated(svc: V1Service): void {
    const prev = this.remote.federatedByKey.get(key(svc));
    this.remote.federatedByKey.set(key(svc), svc);
    this.router.onRemoteFederated(prev ? { type: 'updated', object: svc, previous: prev } : { type: 'added', object: svc });
  }

  removeFederated(namespace: string, name: string): void {
    const prev = this.remote.federatedByKey.get(`${namespace}/${name}`);
    if (!prev) return;
    this.remote.federatedByKey.delete(`${namespace}/${name}`);
    this.router.onRemoteFederated({ type: 'deleted', object: prev });
  }

  /** Queued keys, events before background ones (the order the work queue runs them). */
  queued(): EventKey[] {
    const all = [...this.queue.entries()];
    return [...all.filter(([, p]) => p === 'event'), ...all.filter(([, p]) => p === 'background')].map(([k]) => k);
  }

  /** Runs the next queued key, as a queue worker would, and reports its outcome; returns what ran. */
  async step(): Promise<{ key: EventKey; outcome: Outcome['kind'] } | undefined> {
    const k = this.queued()[0];
    if (!k) return undefined;
    this.queue.delete(k);
    const e = decodeKey(k);
    if (!e) return { key: k, outcome: 'done' };
    let outcome: Outcome;
    try {
      await handleEvent(this.ctx, e);
      this.#attempts.delete(k);
      outcome = { kind: 'done' };
    } catch (err) {
      const attempt = (this.#attempts.get(k) ?? 0) + 1;
      if (err instanceof PermanentError) {
        this.#attempts.delete(k);
        outcome = { kind: 'failed', error: err };
      } else {
        this.#attempts.set(k, attempt);
        outcome =
          err instanceof RetryableError ? { kind: 'retry', attempt, delayMs: 0, error: err } : { kind: 'crashed', attempt, delayMs: 0, error: err };
      }
    }
    this.#reporter.report(e, k, outcome, 1);
    return { key: k, outcome: outcome.kind };
  }

  /** Runs queued keys until none is left; returns each key run with its outcome. */
  async drain(limit = 200): Promise<string[]> {
    const ran: string[] = [];
    for (let i = 0; i < limit; i++) {
      const r = await this.step();
      if (!r) return ran;
      ran.push(`${r.key} ${r.outcome}`);
    }
    throw new Error(`queue did not drain after ${limit} items: ${this.queued().join(', ')}`);
  }

  /** Writes made since the last call. */
  takeWrites(): string[] {
    return this.local.writes.splice(0);
  }
}

/** An exported Service in gateway mode unless labels say otherwise. */
export function remoteService(
  name: string,
  o: { namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; headless?: boolean } = {},
): V1Service {
  return {
    metadata: {
      name,
      namespace: o.namespace ?? 'web',
      resourceVersion: '1',
      labels: o.labels ?? { 'mirror.linkerd.io/exported': 'true' },
      annotations: o.annotations ?? {},
    },
    spec: {
      ...(o.headless ? { clusterIP: 'None' } : {}),
      ports: [
        { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', appProtocol: 'http' },
        { name: 'grpc', port: 9090, protocol: 'TCP' },
      ],
    },
  };
}

/** One EndpointSlice of `service` with endpoints of the given readiness (and hostnames, if named). */
export function remoteSlice(
  service: string,
  endpoints: Array<{ ready: boolean; hostname?: string }>,
  o: { namespace?: string; name?: string } = {},
): V1EndpointSlice {
  return {
    metadata: {
      name: o.name ?? `${service}-abcde`,
      namespace: o.namespace ?? 'web',
      resourceVersion: '1',
      labels: { 'kubernetes.io/service-name': service },
    },
    addressType: 'IPv4',
    endpoints: endpoints.map((e, i) => ({ addresses: [`10.1.0.${i + 1}`], hostname: e.hostname, conditions: { ready: e.ready } })),
  };
}
