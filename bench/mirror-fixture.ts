// The objects the mirror benchmark writes: N exported remote Services, each with one
// hand-written EndpointSlice holding one ready endpoint (a real backend pod's IP), and the
// reference path's local Services + Endpoints of exactly the mirror's shape.
import type { CoreV1Api, DiscoveryV1Api } from '@kubernetes/client-node';
import { type V1EndpointSlice, type V1Endpoints, type V1Service } from '@kubernetes/client-node';
import { isConflict, isNotFound, mergePatch } from '../kube/client.ts';
import { desiredGatewayEndpoints, desiredMirrorService, type MirrorSettings } from '../mirror/mirror-objects.ts';
import { Labels } from '../model/linkerd-names.ts';
import { runPool, timePool } from './pool.ts';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Neither the EndpointSlice controller nor the mirroring controller touches other managers' slices. */
const MANAGED_BY = { 'endpointslice.kubernetes.io/managed-by': 'bench.multicluster.linkerd.io' };
/** Reference objects carry this cluster label so no controller ever treats them as mirrors. */
const REFERENCE_CLUSTER = 'bench-reference';

export function serviceName(i: number): string {
  return `svc-${String(i).padStart(5, '0')}`;
}

export function remoteService(namespace: string, i: number): V1Service {
  return {
    metadata: { name: serviceName(i), namespace, labels: { [Labels.exported]: 'true', app: 'bench' } },
    // No selector: the slice below is the Service's only endpoint source.
    spec: { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
  };
}

export function remoteSlice(namespace: string, i: number, podIp: string, ready: boolean): V1EndpointSlice {
  const svc = serviceName(i);
  return {
    metadata: {
      name: `${svc}-bench`,
      namespace,
      // The controller watches slices with the Services' export selector, so the slice carries it too.
      labels: { [SERVICE_NAME_LABEL]: svc, [Labels.exported]: 'true', ...MANAGED_BY },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [podIp], conditions: { ready } }],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

export class RemoteServices {
  readonly #core: CoreV1Api;
  readonly #discovery: DiscoveryV1Api;
  /** The created remote Services, as the API server returned them (the reference path copies them). */
  readonly created: V1Service[] = [];

  constructor(
    clients: { core: CoreV1Api; discovery: DiscoveryV1Api },
    readonly namespace: string,
    readonly podIp: string,
  ) {
    this.#core = clients.core;
    this.#discovery = clients.discovery;
  }

  /** Creates Services and slices 0..n-1; returns the wall time. */
  create(n: number, concurrency: number): Promise<number> {
    const ns = this.namespace;
    return timePool(indices(n), concurrency, async (i) => {
      this.created[i] = await this.#core.createNamespacedService({ namespace: ns, body: remoteService(ns, i) });
      await this.#discovery.createNamespacedEndpointSlice({ namespace: ns, body: remoteSlice(ns, i, this.podIp, true) });
    });
  }

  setExported(i: number, exported: boolean): Promise<unknown> {
    return this.#core.patchNamespacedService(
      { name: serviceName(i), namespace: this.namespace, body: { metadata: { labels: { [Labels.exported]: exported ? 'true' : null } } } },
      mergePatch,
    );
  }

  setReady(i: number, ready: boolean): Promise<unknown> {
    const slice = remoteSlice(this.namespace, i, this.podIp, ready);
    return this.#discovery.patchNamespacedEndpointSlice(
      { name: slice.metadata?.name ?? '', namespace: this.namespace, body: { endpoints: slice.endpoints } },
      mergePatch,
    );
  }
}

/** The reference path: the same client writing the mirror-shaped objects itself. */
export class ReferenceWrites {
  readonly #core: CoreV1Api;
  readonly #discovery: DiscoveryV1Api;

  constructor(
    clients: { core: CoreV1Api; discovery: DiscoveryV1Api },
    readonly namespace: string,
    readonly settings: MirrorSettings,
    readonly gatewayIp: string,
  ) {
    this.#core = clients.core;
    this.#discovery = clients.discovery;
  }

  objects(remote: V1Service): { svc: V1Service; ep: V1Endpoints } {
    const svc = desiredMirrorService(remote, 'gateway', this.settings);
    const ep = desiredGatewayEndpoints(remote, true, { addresses: [this.gatewayIp], alive: true }, this.settings);
    for (const o of [svc, ep]) {
      o.metadata = { ...o.metadata, namespace: this.namespace, labels: { ...o.metadata?.labels, [Labels.clusterName]: REFERENCE_CLUSTER } };
    }
    return { svc, ep };
  }

  /**
   * Creates each remote Service's pair, the Service and its Endpoints at once (as a reconcile
   * of a new mirror does), `concurrency` pairs in flight; returns the wall time.
   */
  create(remotes: readonly V1Service[], concurrency: number): Promise<number> {
    const prepared = remotes.map((r) => this.objects(r));
    return timePool(prepared, concurrency, async ({ svc, ep }) => {
      await Promise.all([
        this.#core.createNamespacedService({ namespace: this.namespace, body: svc }),
        this.#core.createNamespacedEndpoints({ namespace: this.namespace, body: ep }),
      ]);
    });
  }

  /**
   * Deletes them again and waits until kube-controller-manager's EndpointSlice mirroring
   * controller has deleted its copies too (it writes at its client's 20 QPS, so at 10,000
   * that takes minutes), so that the next measured path starts on a quiet cluster. Returns
   * how many slices were still left when `timeoutMs` ran out (0 when clean).
   */
  async delete(remotes: readonly V1Service[], concurrency: number, timeoutMs: number): Promise<number> {
    const ns = this.namespace;
    await runPool(
      remotes.map((r) => this.objects(r).svc.metadata?.name ?? ''),
      concurrency,
      async (name) => {
        await ignoreNotFound(this.#core.deleteNamespacedEndpoints({ name, namespace: ns }));
        await ignoreNotFound(this.#core.deleteNamespacedService({ name, namespace: ns }));
      },
    );
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = await this.#discovery.listNamespacedEndpointSlice({ namespace: ns, limit: 1 });
      const remaining = left.items.length === 0 ? 0 : 1 + (left.metadata?.remainingItemCount ?? 0);
      if (remaining === 0 || Date.now() > deadline) return remaining;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

export async function ensureNamespace(core: CoreV1Api, name: string): Promise<void> {
  try {
    await core.createNamespace({ body: { metadata: { name } } });
  } catch (err) {
    if (!isConflict(err)) throw err;
  }
}

async function ignoreNotFound(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

function indices(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
