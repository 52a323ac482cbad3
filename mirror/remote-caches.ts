// The remote side of a Link's caches: exported Services, their EndpointSlices and federated
// members, each watched with a server-side label selector where one can narrow it.
import { CoreV1Api, DiscoveryV1Api, type KubeConfig, type V1EndpointSlice, type V1Service } from '@kubernetes/client-node';
import { Reflector } from '../kube/reflector.ts';
import { selectorToQuery } from '../model/label-selector.ts';
import { serverSideSelector, type ExportSelectors } from '../model/remote-selector.ts';
import { SliceIndex } from './cache-indexes.ts';
import { remoteServiceShape, remoteSliceShape } from './cache-shapes.ts';
import type { EventRouter } from './event-router.ts';
import type { RemoteView } from './local-api.ts';

/**
 * Slices the EndpointSlice mirroring controller makes from hand-written Endpoints (a Service
 * without a selector, e.g. an external database). They carry the Endpoints' labels, not the
 * Service's, so the export selector never sees them.
 */
const MIRRORED_SLICES = 'endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io';

export class RemoteCaches implements RemoteView {
  readonly #services?: Reflector<V1Service>;
  readonly #slices: Array<{ reflector: Reflector<V1EndpointSlice>; index: SliceIndex }> = [];
  readonly #federated?: Reflector<V1Service>;

  constructor(kubeConfig: KubeConfig, selectors: ExportSelectors, router: EventRouter) {
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const remoteSelector = serverSideSelector(selectors);
    if (remoteSelector !== null) {
      const labelSelector = remoteSelector ?? undefined;
      const discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
      this.#services = new Reflector<V1Service>({
        kubeConfig,
        path: '/api/v1/services',
        labelSelector,
        list: (q) => core.listServiceForAllNamespaces(q),
        project: remoteServiceShape,
        onEvent: (e) => router.onRemoteService(e),
      });
      // The EndpointSlice controller copies the Service's labels onto its slices, so the same
      // selector narrows the endpoints watch; the mirroring controller's slices need their own.
      for (const selector of [labelSelector, MIRRORED_SLICES]) {
        const index = new SliceIndex();
        const reflector = new Reflector<V1EndpointSlice>({
          kubeConfig,
          path: '/apis/discovery.k8s.io/v1/endpointslices',
          labelSelector: selector,
          list: (q) => discovery.listEndpointSliceForAllNamespaces(q),
          project: remoteSliceShape,
          onEvent: (e) => {
            index.apply(e);
            router.onRemoteSlice(e);
          },
        });
        this.#slices.push({ reflector, index });
      }
    }
    const federatedQuery = selectorToQuery(selectors.federated);
    if (federatedQuery !== null) {
      this.#federated = new Reflector<V1Service>({
        kubeConfig,
        path: '/api/v1/services',
        labelSelector: federatedQuery,
        list: (q) => core.listServiceForAllNamespaces(q),
        project: remoteServiceShape,
        onEvent: (e) => router.onRemoteFederated(e),
      });
    }
  }

  /** Whether anything is exported in gateway or remote-discovery mode (a Link may select federated members only). */
  get watchesExports(): boolean {
    return this.#services !== undefined;
  }

  /** Slices first, so a Service's first reconcile finds its endpoints. */
  start(): void {
    for (const s of this.#slices) s.reflector.start();
    this.#services?.start();
    this.#federated?.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.#services?.stop(), this.#federated?.stop(), ...this.#slices.map((s) => s.reflector.stop())]);
  }

  get listed(): boolean {
    return this.#services?.hasListed ?? true;
  }

  get federatedListed(): boolean {
    return this.#federated?.hasListed ?? true;
  }

  service(namespace: string, name: string): V1Service | undefined {
    return this.#services?.get(name, namespace);
  }

  services(namespace?: string): V1Service[] {
    return this.#services?.list(namespace) ?? [];
  }

  slices(namespace: string, name: string): V1EndpointSlice[] {
    const [exported, mirrored] = this.#slices;
    if (!exported || !mirrored) return [];
    const own = exported.index.slices(namespace, name);
    const more = mirrored.index.slices(namespace, name);
    if (more.length === 0) return own;
    // A slice can be in both caches when the hand-written Endpoints carry the export label.
    const names = new Set(own.map((s) => s.metadata?.name));
    return [...own, ...more.filter((s) => !names.has(s.metadata?.name))];
  }

  federated(namespace: string, name: string): V1Service | undefined {
    return this.#federated?.get(name, namespace);
  }

  federatedServices(namespace?: string): V1Service[] {
    return this.#federated?.list(namespace) ?? [];
  }
}
