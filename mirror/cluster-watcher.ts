// The per-Link runtime: remote and local caches feed one keyed work queue, whose handlers
// turn "what the remote cluster exports" into local mirrors. Follow a remote Service:
// remote reflector → #onRemoteService → queue key → #handle → #reconcileService →
// mirror-objects (desired state) → local-writer (ownership-checked write).
import {
  CoreV1Api,
  DiscoveryV1Api,
  type KubeConfig,
  type V1EndpointSlice,
  type V1Endpoints,
  type V1Namespace,
  type V1Service,
} from '@kubernetes/client-node';
import { apiErrorMessage, isConflict, isNotFound } from '../kube/client.ts';
import { selectorToQuery } from '../model/label-selector.ts';
import type { EventRecorder } from '../kube/event-recorder.ts';
import { Reflector, type ReflectorEvent } from '../kube/reflector.ts';
import type { Link } from '../model/link-types.ts';
import { errorMessage, type Logger } from '../log/logger.ts';
import { Labels } from '../model/linkerd-names.ts';
import { InvalidServiceError, MissingNamespaceError, NameCollisionError, PermanentError, RetryableError } from './errors.ts';
import { assertNever, decodeKey, eventKey, type EventKey, type MirrorEvent } from './events.ts';
import { resolveGateway } from './gateway-resolver.ts';
import type { LinkStatusWriter } from './link-status.ts';
import { federatedFrom, withMembership } from './federated-mirror.ts';
import { isFederatedService, memberEntry, membershipOf } from '../model/federated-membership.ts';
import { classify, LocalWriter, type WriteResult } from './local-writer.ts';
import { endpointsRecord, serviceMatches, serviceRecord, type LocalRecord } from './local-record.ts';
import type { MirrorMetrics } from './metrics.ts';
import {
  desiredGatewayEndpoints,
  desiredMirrorService,
  desiredProbeEndpoints,
  mirrorName,
  type GatewayState,
  type MirrorSettings,
} from './mirror-objects.ts';
import type { GatewayHealth } from './probe-worker.ts';
import {
  desiredEndpointMirror,
  desiredHeadlessRoot,
  desiredHeadlessRootEndpoints,
  isHeadless,
  remoteHosts,
  type RemoteHost,
} from './headless-mirror.ts';
import { endpointMirrorName, federatedServiceName } from '../model/mirror-naming.ts';
import { exportModeOf, serverSideSelector, type ExportSelectors } from '../model/remote-selector.ts';
import { WorkQueue, type Outcome, type Priority } from './work-queue.ts';
import { federatedServiceShape, remoteServiceShape, remoteSliceShape } from './cache-shapes.ts';

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
  status: LinkStatusWriter;
  events: EventRecorder;
  log: Logger;
  gatewayHealth: () => GatewayHealth;
  /** Target cluster names of every Link, oldest first: the oldest member supplies federated metadata. */
  linkAges: () => Promise<string[]>;
  /** Called with the gateway's current addresses after each repair, for the probe worker. */
  onGatewayAddresses: (addresses: string[]) => void;
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** After this many retries a still-failing mirror is reported as Error in the Link status. */
const REPORT_AFTER_ATTEMPTS = 3;

export class ClusterWatcher {
  readonly #o: ClusterWatcherOptions;
  readonly #cluster: string;
  readonly #writer: LocalWriter;
  readonly #localCore: CoreV1Api;
  readonly #remoteCore: CoreV1Api;
  readonly #queue: WorkQueue<EventKey>;
  readonly #remoteServices?: Reflector<V1Service>;
  readonly #remoteSlices?: Reflector<V1EndpointSlice>;
  /** remote `ns/svc` → names of its EndpointSlices, so readiness is O(slices of one Service). */
  readonly #slicesByService = new Map<string, Set<string>>();
  /** Every local Service (a name absent here is free), as records. */
  readonly #localServices: Reflector<V1Service, LocalRecord>;
  /** This Link's mirror Endpoints, as records. */
  readonly #localEndpoints: Reflector<V1Endpoints, LocalRecord>;
  /** Services among #localServices that are this Link's mirrors (the `mirrors` gauge). */
  #ownedMirrors = 0;
  /** `ns/root` → names of this Link's endpoint mirrors under that headless root mirror. */
  readonly #endpointMirrors = new Map<string, Set<string>>();
  /** `ns/name` of local Services in a mirror's way → the remote Service waiting for the name. */
  readonly #collisions = new Map<string, { namespace: string; name: string }>();
  readonly #namespaces: Reflector<V1Namespace>;
  readonly #remoteFederated?: Reflector<V1Service>;
  readonly #localFederated: Reflector<V1Service>;
  readonly #hasGateway: boolean;
  #gatewayAddresses: string[];
  #stopped = false;

  constructor(o: ClusterWatcherOptions) {
    this.#o = o;
    this.#cluster = o.settings.clusterName;
    this.#writer = new LocalWriter(o.localKubeConfig, this.#cluster, o.fieldManager);
    this.#localCore = o.localKubeConfig.makeApiClient(CoreV1Api);
    this.#remoteCore = o.remoteKubeConfig.makeApiClient(CoreV1Api);
    this.#hasGateway = o.gatewayAddresses.length > 0;
    this.#gatewayAddresses = [...o.gatewayAddresses];
    this.#queue = new WorkQueue<EventKey>({
      workers: o.workers,
      handle: (key) => this.#handle(decodeKey(key)),
      onOutcome: (key, outcome, ms) => this.#onOutcome(key, outcome, ms),
    });

    const remoteSelector = serverSideSelector(o.selectors);
    if (remoteSelector !== null) {
      const labelSelector = remoteSelector ?? undefined;
      const remoteDiscovery = o.remoteKubeConfig.makeApiClient(DiscoveryV1Api);
      this.#remoteServices = new Reflector<V1Service>({
        kubeConfig: o.remoteKubeConfig,
        path: '/api/v1/services',
        labelSelector,
        list: (q) => this.#remoteCore.listServiceForAllNamespaces(q),
        project: remoteServiceShape,
        onEvent: (e) => this.#onRemoteService(e),
      });
      // The EndpointSlice controller copies the Service's labels onto its slices, so the
      // same selector narrows the endpoints watch too.
      this.#remoteSlices = new Reflector<V1EndpointSlice>({
        kubeConfig: o.remoteKubeConfig,
        path: '/apis/discovery.k8s.io/v1/endpointslices',
        labelSelector,
        list: (q) => remoteDiscovery.listEndpointSliceForAllNamespaces(q),
        project: remoteSliceShape,
        onEvent: (e) => this.#onRemoteSlice(e),
      });
    }
    const federatedQuery = selectorToQuery(o.selectors.federated);
    if (federatedQuery !== null) {
      this.#remoteFederated = new Reflector<V1Service>({
        kubeConfig: o.remoteKubeConfig,
        path: '/api/v1/services',
        labelSelector: federatedQuery,
        list: (q) => this.#remoteCore.listServiceForAllNamespaces(q),
        project: remoteServiceShape,
        onEvent: (e) => this.#onRemoteFederated(e),
      });
    }
    this.#localFederated = new Reflector<V1Service>({
      kubeConfig: o.localKubeConfig,
      path: '/api/v1/services',
      labelSelector: `${Labels.mirroredService}=true,!${Labels.clusterName}`,
      list: (q) => this.#localCore.listServiceForAllNamespaces(q),
      project: federatedServiceShape,
      onEvent: (e) => {
        if (e.type === 'listed') this.#enqueue({ kind: 'OrphanSweep' });
      },
    });
    const ours = `${Labels.mirroredService}=true,${Labels.clusterName}=${this.#cluster}`;
    // All Services, not only ours: knowing every taken name lets a new mirror's Service and
    // Endpoints be created together (see LocalWriter.createMirror). Others' are kept as
    // bare name records.
    this.#localServices = new Reflector<V1Service, LocalRecord>({
      kubeConfig: o.localKubeConfig,
      path: '/api/v1/services',
      list: (q) => this.#localCore.listServiceForAllNamespaces(q),
      project: serviceRecord(this.#cluster),
      onEvent: (e) => this.#onLocalService(e),
    });
    this.#localEndpoints = new Reflector<V1Endpoints, LocalRecord>({
      kubeConfig: o.localKubeConfig,
      path: '/api/v1/endpoints',
      labelSelector: ours,
      list: (q) => this.#localCore.listEndpointsForAllNamespaces(q),
      project: endpointsRecord(this.#cluster),
      onEvent: (e) => this.#onLocalMirror(e),
    });
    this.#namespaces = new Reflector<V1Namespace>({
      kubeConfig: o.localKubeConfig,
      path: '/api/v1/namespaces',
      list: (q) => this.#localCore.listNamespace(q),
      onEvent: (e) => {
        if (e.type === 'added') this.#enqueue({ kind: 'NamespaceCreated', namespace: e.object.metadata?.name ?? '' });
      },
    });
  }

  /** Starts the local caches first, so the first remote events find them filled. */
  async start(): Promise<void> {
    const local = [this.#localServices, this.#localEndpoints, this.#namespaces, this.#localFederated];
    for (const r of local) r.start();
    await Promise.all(local.map((r) => r.listed()));
    if (this.#hasGateway) this.#enqueue({ kind: 'GatewayChanged' });
    this.#remoteSlices?.start();
    this.#remoteServices?.start();
    this.#remoteFederated?.start();
    if (!this.#remoteServices) this.#enqueue({ kind: 'OrphanSweep' });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(
      [
        this.#remoteServices,
        this.#remoteSlices,
        this.#localServices,
        this.#localEndpoints,
        this.#namespaces,
        this.#remoteFederated,
        this.#localFederated,
      ].map((r) => r?.stop()),
    );
    await this.#queue.stop();
  }

  /** Liveness changed or the repair period elapsed. */
  gatewayChanged(): void {
    if (this.#hasGateway) this.#enqueue({ kind: 'GatewayChanged' });
  }

  /** Waits until nothing is queued or running (tests, and the finalizer). */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  get remoteListed(): boolean {
    return this.#remoteServices?.hasListed ?? true;
  }

  /** Deletes every mirror of this Link (the Link is being deleted). */
  async deleteAllMirrors(): Promise<number> {
    let n = 0;
    for (const ep of this.#localEndpoints.list()) {
      if ((await this.#writer.deleteEndpoints(ep.metadata.namespace, ep.metadata.name, ep)) === 'deleted') n++;
    }
    for (const svc of this.#mirrors()) {
      if ((await this.#writer.deleteService(svc.metadata.namespace, svc.metadata.name, svc)) === 'deleted') n++;
    }
    return n;
  }

  // === informer callbacks → domain events (the only place this translation happens) ===

  #onRemoteService(e: ReflectorEvent<V1Service>): void {
    const labels = { target_cluster_name: this.#cluster };
    switch (e.type) {
      case 'added':
      case 'updated':
      case 'deleted':
        this.#enqueue({ kind: 'ServiceChanged', namespace: e.object.metadata?.namespace ?? '', name: e.object.metadata?.name ?? '' });
        return;
      case 'listed':
        this.#o.metrics.remoteReachable.set(labels, 1);
        this.#o.status.setLinkCondition('RemoteReachable', 'True', 'Connected', 'the remote API server answers list and watch requests');
        this.#o.status.setLinkCondition('CredentialsValid', 'True', 'Accepted', 'the remote API server accepted the credentials');
        this.#enqueue({ kind: 'OrphanSweep' });
        return;
      case 'error': {
        this.#o.metrics.remoteReachable.set(labels, 0);
        const denied = /HTTP 40[13]|Unauthorized|Forbidden/i.test(e.message);
        if (denied) {
          this.#o.status.setLinkCondition(
            'CredentialsValid',
            'False',
            'Rejected',
            `the remote API server rejected the credentials: ${e.message}. Re-run \`multicluster link\` against the target cluster and apply its output`,
          );
        }
        this.#o.status.setLinkCondition(
          'RemoteReachable',
          'False',
          denied ? 'Unauthorized' : 'Unreachable',
          `${e.message}; mirrors are kept until the remote cluster answers again`,
        );
        this.#o.log.warn('remote watch failed; keeping mirrors and retrying', {
          link: this.#o.link.metadata.name,
          cluster: this.#cluster,
          reason: e.message,
        });
        return;
      }
      default:
        assertNever(e);
    }
  }

  #onRemoteFederated(e: ReflectorEvent<V1Service>): void {
    if (e.type === 'listed') this.#enqueue({ kind: 'OrphanSweep' });
    if (e.type === 'added' || e.type === 'updated' || e.type === 'deleted') {
      this.#enqueue({ kind: 'FederatedChanged', namespace: e.object.metadata?.namespace ?? '', name: e.object.metadata?.name ?? '' });
    }
  }

  #onRemoteSlice(e: ReflectorEvent<V1EndpointSlice>): void {
    if (e.type === 'listed' || e.type === 'error') return;
    const ns = e.object.metadata?.namespace ?? '';
    const svc = e.object.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!svc) return;
    const key = `${ns}/${svc}`;
    const name = e.object.metadata?.name ?? '';
    let set = this.#slicesByService.get(key);
    if (e.type === 'deleted') {
      set?.delete(name);
      if (set?.size === 0) this.#slicesByService.delete(key);
    } else {
      if (!set) this.#slicesByService.set(key, (set = new Set()));
      set.add(name);
    }
    this.#enqueue({ kind: 'ServiceChanged', namespace: ns, name: svc });
  }

  #onLocalService(e: ReflectorEvent<LocalRecord>): void {
    if (e.type === 'deleted' && e.object.owner === 'foreign') {
      // The Service that blocked a mirror is gone: mirror now, not at the next repair pass.
      const key = `${e.object.metadata.namespace}/${e.object.metadata.name}`;
      const waiting = this.#collisions.get(key);
      if (waiting) {
        this.#collisions.delete(key);
        this.#enqueue({ kind: 'ServiceChanged', ...waiting });
      }
    }
    this.#indexEndpointMirror(e);
    if (e.type === 'added' && e.object.owner === 'mirror') this.#ownedMirrors++;
    else if (e.type === 'deleted' && e.object.owner === 'mirror') this.#ownedMirrors--;
    else if (e.type === 'updated' && e.previous.owner !== e.object.owner) this.#ownedMirrors += e.object.owner === 'mirror' ? 1 : -1;
    this.#onLocalMirror(e);
  }

  /** Someone else changed or deleted one of our mirrors: converge it back. */
  #onLocalMirror(e: ReflectorEvent<LocalRecord>): void {
    if (e.type === 'listed' || e.type === 'error') {
      this.#o.metrics.mirrors.set({ target_cluster_name: this.#cluster }, this.#ownedMirrors);
      return;
    }
    const ref = e.object.remote ?? (e.type === 'updated' ? e.previous.remote : undefined);
    // Most additions and updates are the echo of our own writes: re-check them after real
    // changes. A deleted mirror is restored at once.
    if (ref) this.#enqueue({ kind: 'ServiceChanged', ...ref }, e.type === 'deleted' ? 'event' : 'background');
  }

  /** This Link's mirror Services. */
  #mirrors(): LocalRecord[] {
    return this.#localServices.list().filter((r) => r.owner === 'mirror');
  }

  #enqueue(e: MirrorEvent, priority: Priority = 'event'): void {
    if (!this.#stopped) {
      this.#queue.add(eventKey(e), priority);
      this.#o.metrics.queueDepth.set({ target_cluster_name: this.#cluster }, this.#queue.depth);
    }
  }

  // === dispatch ===

  async #handle(e: MirrorEvent): Promise<void> {
    switch (e.kind) {
      case 'ServiceChanged':
        return this.#reconcileService(e.namespace, e.name);
      case 'NamespaceCreated':
        for (const svc of this.#remoteServices?.list(e.namespace) ?? []) {
          this.#enqueue({ kind: 'ServiceChanged', namespace: e.namespace, name: svc.metadata?.name ?? '' });
        }
        for (const svc of this.#remoteFederated?.list(e.namespace) ?? []) {
          this.#enqueue({ kind: 'FederatedChanged', namespace: e.namespace, name: svc.metadata?.name ?? '' });
        }
        return;
      case 'FederatedChanged':
        return this.#reconcileFederated(e.namespace, e.name);
      case 'GatewayChanged':
        return this.#repairGateway();
      case 'OrphanSweep':
        return this.#sweepOrphans();
      default:
        return assertNever(e);
    }
  }

  async #reconcileService(namespace: string, name: string): Promise<void> {
    const remote = this.#remoteServices?.get(name, namespace);
    const mode = remote ? exportModeOf(remote, this.#o.selectors, this.#hasGateway) : undefined;
    const local = mirrorName({ namespace, name }, this.#o.settings);
    // Recorded again by #reportPermanent if this attempt finds the name still taken.
    this.#collisions.delete(`${namespace}/${local}`);
    const cachedSvc = this.#localServices.get(local, namespace);
    const cachedEp = this.#localEndpoints.get(local, namespace);

    if (!remote || !mode) {
      // "Not in the cache" means "not exported" only once the remote side has been listed.
      if (!this.remoteListed) return;
      // Endpoint mirrors exist only under a headless root; skip the scan otherwise (hot path).
      if (cachedSvc?.headless || (!cachedSvc && this.#o.enableHeadlessServices)) await this.#deleteEndpointMirrors(namespace, local, new Set());
      const epResult = cachedEp ? await this.#writer.deleteEndpoints(namespace, local, cachedEp) : 'absent';
      const svcResult = cachedSvc ? await this.#writer.deleteService(namespace, local, cachedSvc) : 'absent';
      if (svcResult === 'deleted' || epResult === 'deleted') {
        this.#o.log.info('mirror removed', {
          link: this.#o.link.metadata.name,
          cluster: this.#cluster,
          object: `${namespace}/${local}`,
          reason: remote ? 'Unexported' : 'RemoteDeleted',
        });
      }
      this.#o.status.clearMirror({ namespace, name });
      return;
    }

    await this.#ensureNamespace(namespace);
    if (mode === 'gateway' && this.#o.enableHeadlessServices && isHeadless(remote)) {
      const hosts = remoteHosts(this.#slicesOf(namespace, name));
      // Without pod hostnames there is nothing to address per pod: mirror it as ClusterIP (upstream does the same).
      if (hosts.length > 0) {
        await this.#reconcileHeadless(remote, hosts, cachedSvc, cachedEp);
        this.#o.status.setMirror({ namespace, name }, { namespace, name: local }, 'Mirrored', '');
        return;
      }
    }
    if (cachedSvc?.headless) await this.#deleteEndpointMirrors(namespace, local, new Set());
    if (cachedSvc?.owner === 'foreign' && cachedEp) {
      // Mirror Endpoints beside someone else's Service (a lost race in createMirror): never leave them.
      await this.#writer.deleteEndpoints(namespace, local, cachedEp);
    }
    const desiredSvc = desiredMirrorService(remote, mode, this.#o.settings);
    let svcResult: WriteResult;
    let epResult: WriteResult = 'absent';
    if (mode === 'gateway' && !cachedSvc && !cachedEp) {
      const desiredEp = desiredGatewayEndpoints(remote, this.#remoteReady(namespace, name), this.#gatewayState(), this.#o.settings);
      ({ service: svcResult, endpoints: epResult } = await this.#writer.createMirror(desiredSvc, desiredEp));
    } else {
      svcResult = await this.#writer.ensureService(desiredSvc, cachedSvc);
      if (mode === 'gateway') {
        epResult = await this.#writer.ensureEndpoints(
          desiredGatewayEndpoints(remote, this.#remoteReady(namespace, name), this.#gatewayState(), this.#o.settings),
          cachedEp,
        );
      } else if (cachedEp) {
        epResult = await this.#writer.deleteEndpoints(namespace, local, cachedEp);
      }
    }
    if (svcResult !== 'unchanged' || (epResult !== 'unchanged' && epResult !== 'absent')) {
      this.#o.log.info('mirror written', {
        link: this.#o.link.metadata.name,
        cluster: this.#cluster,
        object: `${namespace}/${local}`,
        reason: `${mode}: service ${svcResult}, endpoints ${epResult}`,
      });
    }
    this.#o.status.setMirror({ namespace, name }, { namespace, name: local }, 'Mirrored', '');
  }

  async #reconcileHeadless(
    remote: V1Service,
    hosts: RemoteHost[],
    cachedSvc: LocalRecord | undefined,
    cachedEp: LocalRecord | undefined,
  ): Promise<void> {
    const ns = remote.metadata?.namespace ?? '';
    const s = this.#o.settings;
    const root = desiredHeadlessRoot(remote, s);
    const rootName = root.metadata?.name ?? '';
    await this.#writer.ensureService(root, cachedSvc);
    const gateway = this.#gatewayState();
    const written: Array<{ hostname: string; clusterIP: string; ready: boolean }> = [];
    for (const host of hosts) {
      const { service, endpoints } = desiredEndpointMirror(remote, host, gateway, s);
      const name = service.metadata?.name ?? '';
      await this.#writer.ensureService(service, this.#localServices.get(name, ns));
      await this.#writer.ensureEndpoints(endpoints, this.#localEndpoints.get(name, ns));
      // The ClusterIP is assigned by the API server; the cache may not have the new object yet.
      const clusterIP =
        this.#localServices.get(name, ns)?.clusterIP ?? (await this.#localCore.readNamespacedService({ name, namespace: ns })).spec?.clusterIP;
      if (!clusterIP) throw new RetryableError(`endpoint mirror ${ns}/${name} has no ClusterIP yet`);
      written.push({ hostname: host.hostname, clusterIP, ready: host.ready && gateway.alive });
    }
    await this.#writer.ensureEndpoints(desiredHeadlessRootEndpoints(remote, written, s), cachedEp);
    await this.#deleteEndpointMirrors(ns, rootName, new Set(written.map((w) => endpointMirrorName(w.hostname, s.clusterName))));
  }

  /** Removes endpoint mirrors of a headless root whose remote hostnames are gone. */
  async #deleteEndpointMirrors(namespace: string, rootName: string, keep: ReadonlySet<string>): Promise<void> {
    for (const name of [...(this.#endpointMirrors.get(`${namespace}/${rootName}`) ?? [])]) {
      const svc = this.#localServices.get(name, namespace);
      if (!svc || svc.owner !== 'mirror' || svc.headlessRoot !== rootName || keep.has(name)) continue;
      await this.#writer.deleteEndpoints(namespace, name, this.#localEndpoints.get(name, namespace));
      await this.#writer.deleteService(namespace, name, svc);
    }
  }

  /** Keeps #endpointMirrors in step with the local Service cache. */
  #indexEndpointMirror(e: ReflectorEvent<LocalRecord>): void {
    if (e.type === 'listed' || e.type === 'error') return;
    const entry = (r: LocalRecord) => (r.owner === 'mirror' && r.headlessRoot ? `${r.metadata.namespace}/${r.headlessRoot}` : undefined);
    const before = e.type === 'updated' ? entry(e.previous) : e.type === 'deleted' ? entry(e.object) : undefined;
    const after = e.type === 'deleted' ? undefined : entry(e.object);
    if (before === after) return;
    const name = e.object.metadata.name;
    if (before) {
      const set = this.#endpointMirrors.get(before);
      set?.delete(name);
      if (set?.size === 0) this.#endpointMirrors.delete(before);
    }
    if (after) {
      let set = this.#endpointMirrors.get(after);
      if (!set) this.#endpointMirrors.set(after, (set = new Set()));
      set.add(name);
    }
  }

  #slicesOf(namespace: string, name: string): V1EndpointSlice[] {
    const out: V1EndpointSlice[] = [];
    for (const sliceName of this.#slicesByService.get(`${namespace}/${name}`) ?? []) {
      const slice = this.#remoteSlices?.get(sliceName, namespace);
      if (slice) out.push(slice);
    }
    return out;
  }

  async #reconcileFederated(namespace: string, name: string): Promise<void> {
    const remote = this.#remoteFederated?.get(name, namespace);
    const fedName = federatedServiceName(name);
    const entry = memberEntry(name, this.#cluster);
    let current = this.#localFederated.get(fedName, namespace);
    if (!current) {
      try {
        current = await this.#localCore.readNamespacedService({ name: fedName, namespace });
      } catch (err) {
        if (!isNotFound(err)) throw classify(err, `read Service ${namespace}/${fedName}`);
      }
    }
    if (current && !isFederatedService(current)) {
      if (!remote) return;
      throw new NameCollisionError(
        `Service ${namespace}/${fedName} already exists and is not a federated Service; rename or delete it to let ${namespace}/${name} join the federation`,
      );
    }
    if (!remote) {
      if (!(this.#remoteFederated?.hasListed ?? true) || !current) return;
      const m = membershipOf(current);
      if (!m.remote.includes(entry)) return;
      const left = { ...m, remote: m.remote.filter((x) => x !== entry) };
      if (left.remote.length === 0 && !left.local) {
        await this.#localCore
          .deleteNamespacedService({ name: fedName, namespace, body: { preconditions: { uid: current.metadata?.uid } } })
          .catch((err: unknown) => {
            if (!isNotFound(err)) throw classify(err, `delete Service ${namespace}/${fedName}`);
          });
      } else {
        await this.#replace(withMembership(current, left));
      }
      this.#o.status.clearMirror({ namespace, name }, 'federatedServices');
      this.#o.log.info('left federated service', {
        link: this.#o.link.metadata.name,
        cluster: this.#cluster,
        object: `${namespace}/${fedName}`,
        reason: 'Unexported',
      });
      return;
    }
    if (isHeadless(remote)) throw new InvalidServiceError(`${namespace}/${name} is headless; headless Services cannot join a federated Service`);
    await this.#ensureNamespace(namespace);
    if (!current) {
      const created = federatedFrom(remote, this.#o.settings, { remote: [entry] });
      try {
        await this.#localCore.createNamespacedService({ namespace, body: created, fieldManager: this.#o.fieldManager });
      } catch (err) {
        throw classify(err, `create Service ${namespace}/${fedName}`);
      }
    } else {
      const m = membershipOf(current);
      const members = { ...m, remote: m.remote.includes(entry) ? m.remote : [...m.remote, entry] };
      // The local member is always the oldest; otherwise the oldest Link among the members wins.
      const ages = m.local ? [] : await this.#o.linkAges();
      const memberClusters = new Set(members.remote.map((x) => x.split('@')[1]));
      const oldest = ages.find((c) => memberClusters.has(c));
      const desired = !m.local && oldest === this.#cluster ? federatedFrom(remote, this.#o.settings, members) : withMembership(current, members);
      const next: V1Service = {
        ...current,
        metadata: { ...current.metadata, labels: desired.metadata?.labels, annotations: desired.metadata?.annotations },
        spec: { ...current.spec, ports: desired.spec?.ports },
      };
      if (!serviceMatches(current, next)) await this.#replace(next);
    }
    this.#o.status.setMirror({ namespace, name }, { namespace, name: fedName }, 'Mirrored', '', 'federatedServices');
  }

  async #replace(svc: V1Service): Promise<void> {
    const namespace = svc.metadata?.namespace ?? '';
    const name = svc.metadata?.name ?? '';
    try {
      await this.#localCore.replaceNamespacedService({ name, namespace, body: svc, fieldManager: this.#o.fieldManager });
    } catch (err) {
      throw classify(err, `update Service ${namespace}/${name}`);
    }
  }

  async #ensureNamespace(namespace: string): Promise<void> {
    if (this.#namespaces.get(namespace)) return;
    if (!this.#o.enableNamespaceCreation) {
      throw new MissingNamespaceError(
        `namespace ${namespace} does not exist in the local cluster: create it (the mirror appears at once) or run the controller with --enable-namespace-creation`,
      );
    }
    try {
      await this.#localCore.createNamespace({
        body: { metadata: { name: namespace, labels: { [Labels.mirroredService]: 'true', [Labels.clusterName]: this.#cluster } } },
        fieldManager: this.#o.fieldManager,
      });
    } catch (err) {
      if (!isConflict(err)) throw new RetryableError(`create namespace ${namespace}: ${apiErrorMessage(err)}`, { cause: err });
    }
  }

  #remoteReady(namespace: string, name: string): boolean {
    return this.#slicesOf(namespace, name).some((slice) => slice.endpoints?.some((ep) => ep.conditions?.ready !== false));
  }

  #gatewayState(): GatewayState {
    return { addresses: this.#gatewayAddresses, alive: this.#o.gatewayHealth() === 'alive' };
  }

  async #repairGateway(): Promise<void> {
    const specAddresses = this.#o.gatewayAddresses;
    const resolved = await resolveGateway(this.#remoteCore, this.#o.settings.gatewayIdentity, specAddresses);
    if (resolved.addresses.length > 0 && resolved.addresses.join(',') !== this.#gatewayAddresses.join(',')) {
      this.#o.log.info('gateway address changed', {
        link: this.#o.link.metadata.name,
        cluster: this.#cluster,
        from: this.#gatewayAddresses.join(','),
        to: resolved.addresses.join(','),
        reason: resolved.source,
      });
      this.#gatewayAddresses = resolved.addresses;
    }
    // The repair pass doubles as a credentials check: an open watch outlives a revoked token.
    const status = resolved.remoteError?.status;
    if (status === 401 || status === 403) {
      this.#o.status.setLinkCondition(
        'CredentialsValid',
        'False',
        'Rejected',
        `the remote API server rejected the credentials: ${resolved.remoteError?.message}. Re-run \`multicluster link\` against the target cluster and apply its output`,
      );
    } else if (!resolved.remoteError) {
      this.#o.status.setLinkCondition('CredentialsValid', 'True', 'Accepted', 'the remote API server accepted the credentials');
    }
    if (resolved.unresolved.length > 0) {
      this.#o.log.warn('gateway hostnames did not resolve', {
        link: this.#o.link.metadata.name,
        cluster: this.#cluster,
        reason: resolved.unresolved.join(','),
      });
    }
    this.#o.onGatewayAddresses(this.#gatewayAddresses);
    if (this.#o.probePort !== undefined) {
      const probe = desiredProbeEndpoints(this.#o.link.metadata.name, this.#o.namespace, this.#gatewayAddresses, this.#o.probePort, this.#o.settings);
      await this.#writer.ensureEndpoints(probe, undefined);
    }
    for (const svc of this.#remoteServices?.list() ?? []) {
      if (exportModeOf(svc, this.#o.selectors, true) === 'gateway') {
        this.#enqueue({ kind: 'ServiceChanged', namespace: svc.metadata?.namespace ?? '', name: svc.metadata?.name ?? '' }, 'background');
      }
    }
    this.#o.metrics.endpointRepairs.inc({ target_cluster_name: this.#cluster });
  }

  async #sweepOrphans(): Promise<void> {
    if (this.#remoteFederated?.hasListed ?? true) {
      // Members this cluster no longer exports, e.g. removed while the controller was down.
      const suffix = `@${this.#cluster}`;
      for (const fed of this.#localFederated.list()) {
        for (const entry of membershipOf(fed).remote.filter((m) => m.endsWith(suffix))) {
          const name = entry.slice(0, -suffix.length);
          if (!this.#remoteFederated?.get(name, fed.metadata?.namespace ?? ''))
            this.#enqueue({ kind: 'FederatedChanged', namespace: fed.metadata?.namespace ?? '', name });
        }
      }
    }
    if (!this.remoteListed) return;
    for (const svc of this.#mirrors()) {
      const ref = svc.remote;
      if (!ref) continue;
      const remote = this.#remoteServices?.get(ref.name, ref.namespace);
      if (!remote || !exportModeOf(remote, this.#o.selectors, this.#hasGateway)) {
        this.#enqueue({ kind: 'ServiceChanged', ...ref });
      }
    }
  }

  #onOutcome(key: EventKey, outcome: Outcome, ms: number): void {
    const labels = { target_cluster_name: this.#cluster };
    this.#o.metrics.reconcileDuration.observe({ ...labels, outcome: outcome.kind }, ms / 1000);
    this.#o.metrics.queueDepth.set(labels, this.#queue.depth);
    this.#o.metrics.mirrors.set(labels, this.#ownedMirrors);
    const e = decodeKey(key);
    const fields = { link: this.#o.link.metadata.name, cluster: this.#cluster, object: key };
    switch (outcome.kind) {
      case 'done':
        return;
      case 'retry':
        this.#o.metrics.errors.inc({ ...labels, reason: 'Retryable' });
        this.#o.log.warn('reconcile failed; will retry', {
          ...fields,
          reason: outcome.error.message,
          attempt: outcome.attempt,
          delay_ms: Math.round(outcome.delayMs),
        });
        if (outcome.attempt >= REPORT_AFTER_ATTEMPTS && e.kind === 'ServiceChanged') {
          this.#o.status.setMirror(
            e,
            { namespace: e.namespace, name: mirrorName(e, this.#o.settings) },
            'Error',
            `still retrying (attempt ${outcome.attempt}): ${outcome.error.message}`,
          );
        }
        return;
      case 'failed':
        this.#reportPermanent(e, outcome.error, fields);
        return;
      case 'crashed':
        this.#o.metrics.errors.inc({ ...labels, reason: 'Bug' });
        this.#o.log.error('reconcile crashed; will retry', { ...fields, reason: errorMessage(outcome.error) });
        return;
      default:
        assertNever(outcome);
    }
  }

  #reportPermanent(e: MirrorEvent, error: PermanentError, fields: Record<string, string>): void {
    this.#o.metrics.errors.inc({ target_cluster_name: this.#cluster, reason: error.reason });
    // Repair passes re-check skipped Services; say it loudly only when something changed.
    const prev = e.kind === 'ServiceChanged' ? this.#o.status.mirrorCondition(e) : undefined;
    const repeated = prev?.reason === error.reason && prev.message === error.message;
    (repeated ? this.#o.log.debug : this.#o.log.warn)('mirror skipped', { ...fields, reason: error.reason, error: error.message });
    if (e.kind === 'FederatedChanged') {
      this.#o.status.setMirror(e, { namespace: e.namespace, name: federatedServiceName(e.name) }, error.reason, error.message, 'federatedServices');
    } else if (e.kind === 'ServiceChanged') {
      const local = mirrorName(e, this.#o.settings);
      if (error instanceof NameCollisionError) this.#collisions.set(`${e.namespace}/${local}`, { namespace: e.namespace, name: e.name });
      this.#o.status.setMirror(e, { namespace: e.namespace, name: local }, error.reason, error.message);
    } else {
      return;
    }
    const link = this.#o.link.metadata;
    void this.#o.events.record(
      { apiVersion: this.#o.link.apiVersion, kind: 'Link', name: link.name, namespace: link.namespace ?? this.#o.namespace, uid: link.uid },
      'Warning',
      'ServiceMirroringSkipped',
      `${e.namespace}/${e.name}: ${error.message}`,
    );
  }
}
