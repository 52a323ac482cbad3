// The destination benchmark's objects: one selector-less Service in cluster2 whose
// endpoints are written directly as EndpointSlices (N endpoints in slices of 100, no Pods:
// the endpoints are addresses only), and its remote-discovery mirror in cluster1, written as
// the service mirror would write it.
import type { CoreV1Api, DiscoveryV1Api, V1EndpointSlice } from '@kubernetes/client-node';
import { runPool } from './pool.ts';

export const BENCH_NS = 'dest-bench';
export const SERVICE = 'big';
export const MIRROR = 'big-cluster2';
export const TARGET_PORT = 8080;
const MANAGED_BY = 'bench.multicluster.linkerd.io';

/** The i-th endpoint's address inside cluster2's pod network. */
export function endpointIp(podOctet: number, i: number): string {
  return `10.${podOctet}.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
}

export function sliceName(j: number): string {
  return `${SERVICE}-bench-${String(j).padStart(3, '0')}`;
}

function slice(podOctet: number, j: number, size: number, total: number): V1EndpointSlice {
  const endpoints = [];
  for (let i = j * size; i < Math.min(total, (j + 1) * size); i++) {
    endpoints.push({ addresses: [endpointIp(podOctet, i)], conditions: { ready: true }, zone: 'cluster2-zone' });
  }
  return {
    metadata: { name: sliceName(j), labels: { 'kubernetes.io/service-name': SERVICE, 'endpointslice.kubernetes.io/managed-by': MANAGED_BY } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: TARGET_PORT, protocol: 'TCP' }],
    endpoints,
  };
}

export async function createBenchObjects(o: {
  core1: CoreV1Api;
  core2: CoreV1Api;
  discovery2: DiscoveryV1Api;
  podOctet: number;
  endpoints: number;
  sliceSize: number;
}): Promise<number> {
  for (const core of [o.core1, o.core2]) await core.createNamespace({ body: { metadata: { name: BENCH_NS } } });
  const ports = [{ name: 'http', port: 80, targetPort: TARGET_PORT }];
  await o.core2.createNamespacedService({ namespace: BENCH_NS, body: { metadata: { name: SERVICE }, spec: { ports } } });
  const slices = Math.ceil(o.endpoints / o.sliceSize);
  await runPool(
    Array.from({ length: slices }, (_, j) => j),
    8,
    async (j) => {
      await o.discovery2.createNamespacedEndpointSlice({ namespace: BENCH_NS, body: slice(o.podOctet, j, o.sliceSize, o.endpoints) });
    },
  );
  await o.core1.createNamespacedService({
    namespace: BENCH_NS,
    body: {
      metadata: {
        name: MIRROR,
        labels: {
          'mirror.linkerd.io/mirrored-service': 'true',
          'mirror.linkerd.io/cluster-name': 'cluster2',
          'multicluster.linkerd.io/remote-discovery': 'cluster2',
          'multicluster.linkerd.io/remote-service': SERVICE,
        },
      },
      spec: { ports },
    },
  });
  return slices;
}
