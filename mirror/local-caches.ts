// The local side of a Link's caches: every local Service (as records, so a free name is
// known without a request), this Link's mirror Endpoints, namespaces and federated Services.
// With the writer it makes the LocalApi the reconcilers use.
import { CoreV1Api, type KubeConfig, type V1Endpoints, type V1Namespace, type V1Service } from '@kubernetes/client-node';
import { Reflector } from '../kube/reflector.ts';
import { Labels } from '../model/linkerd-names.ts';
import { federatedServiceShape } from './cache-shapes.ts';
import { EndpointMirrorIndex } from './cache-indexes.ts';
import type { EventRouter } from './event-router.ts';
import type { LocalApi, LocalReads, LocalWrites } from './local-api.ts';
import { endpointsRecord, serviceRecord, type LocalRecord } from './local-record.ts';

export class LocalCaches implements LocalReads {
  readonly #services: Reflector<V1Service, LocalRecord>;
  readonly #endpoints: Reflector<V1Endpoints, LocalRecord>;
  readonly #namespaces: Reflector<V1Namespace>;
  readonly #federated: Reflector<V1Service>;
  readonly #endpointMirrors = new EndpointMirrorIndex();

  constructor(kubeConfig: KubeConfig, cluster: string, router: EventRouter) {
    const core = kubeConfig.makeApiClient(CoreV1Api);
    // All Services, not only ours: knowing every taken name lets a new mirror's Service and
    // Endpoints be created together (see LocalWriter.createMirror). Others' are kept as bare name records.
    this.#services = new Reflector<V1Service, LocalRecord>({
      kubeConfig,
      path: '/api/v1/services',
      list: (q) => core.listServiceForAllNamespaces(q),
      project: serviceRecord(cluster),
      onEvent: (e) => {
        this.#endpointMirrors.apply(e);
        router.onLocalService(e);
      },
    });
    this.#endpoints = new Reflector<V1Endpoints, LocalRecord>({
      kubeConfig,
      path: '/api/v1/endpoints',
      labelSelector: `${Labels.mirroredService}=true,${Labels.clusterName}=${cluster}`,
      list: (q) => core.listEndpointsForAllNamespaces(q),
      project: endpointsRecord(cluster),
      onEvent: (e) => router.onLocalMirror(e),
    });
    this.#namespaces = new Reflector<V1Namespace>({
      kubeConfig,
      path: '/api/v1/namespaces',
      list: (q) => core.listNamespace(q),
      onEvent: (e) => router.onNamespace(e),
    });
    this.#federated = new Reflector<V1Service>({
      kubeConfig,
      path: '/api/v1/services',
      labelSelector: `${Labels.mirroredService}=true,!${Labels.clusterName}`,
      list: (q) => core.listServiceForAllNamespaces(q),
      project: federatedServiceShape,
      onEvent: (e) => router.onLocalFederated(e),
    });
  }

  /** Starts every cache; resolves once each has listed. */
  async start(): Promise<void> {
    const all = this.#all();
    for (const r of all) r.start();
    await Promise.all(all.map((r) => r.listed()));
  }

  get synced(): boolean {
    return this.#all().every((r) => r.hasListed);
  }

  async stop(): Promise<void> {
    await Promise.all(this.#all().map((r) => r.stop()));
  }

  service(namespace: string, name: string): LocalRecord | undefined {
    return this.#services.get(name, namespace);
  }

  endpoints(namespace: string, name: string): LocalRecord | undefined {
    return this.#endpoints.get(name, namespace);
  }

  hasNamespace(namespace: string): boolean {
    return this.#namespaces.get(namespace) !== undefined;
  }

  endpointMirrors(namespace: string, root: string): readonly string[] {
    return this.#endpointMirrors.names(namespace, root);
  }

  federated(namespace: string, name: string): V1Service | undefined {
    return this.#federated.get(name, namespace);
  }

  mirrors(): LocalRecord[] {
    return this.#services.list().filter((r) => r.owner === 'mirror');
  }

  /** Every mirror Endpoints of this Link. */
  mirrorEndpoints(): LocalRecord[] {
    return this.#endpoints.list();
  }

  federatedServices(): V1Service[] {
    return this.#federated.list();
  }

  #all(): Array<Reflector<V1Service, LocalRecord> | Reflector<V1Endpoints, LocalRecord> | Reflector<V1Namespace> | Reflector<V1Service>> {
    return [this.#services, this.#endpoints, this.#namespaces, this.#federated];
  }
}

/** The reconcilers' view of the local cluster: reads from the caches, writes through the writer. */
export function localApi(reads: LocalReads, writes: LocalWrites): LocalApi {
  return {
    service: (ns, name) => reads.service(ns, name),
    endpoints: (ns, name) => reads.endpoints(ns, name),
    hasNamespace: (ns) => reads.hasNamespace(ns),
    endpointMirrors: (ns, root) => reads.endpointMirrors(ns, root),
    federated: (ns, name) => reads.federated(ns, name),
    mirrors: () => reads.mirrors(),
    federatedServices: () => reads.federatedServices(),
    ensureService: (d, c) => writes.ensureService(d, c),
    ensureEndpoints: (d, c) => writes.ensureEndpoints(d, c),
    createMirror: (s, e) => writes.createMirror(s, e),
    deleteService: (ns, name, c) => writes.deleteService(ns, name, c),
    deleteEndpoints: (ns, name, c) => writes.deleteEndpoints(ns, name, c),
    ensureProbeEndpoints: (d) => writes.ensureProbeEndpoints(d),
    createNamespace: (ns) => writes.createNamespace(ns),
    readService: (ns, name) => writes.readService(ns, name),
    createFederated: (svc) => writes.createFederated(svc),
    replaceFederated: (svc) => writes.replaceFederated(svc),
    deleteFederated: (ns, name, uid) => writes.deleteFederated(ns, name, uid),
  };
}
