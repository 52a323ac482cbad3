// What cluster1's API server was asked to do during a phase, from its own
// apiserver_request_total counter: `verb resource code` → requests. It tells whether a slow
// phase made more requests than the objects it wrote, or just slower ones.
import type { ClusterPair, DevCluster } from '../dev/cluster-pair.ts';
import { kubectl } from '../e2e/fixtures/kubectl.ts';
import { parsePrometheusText } from './prom-text.ts';

export type RequestCounts = Record<string, number>;

export async function apiserverRequests(pair: ClusterPair, cluster: DevCluster): Promise<RequestCounts> {
  const text = await kubectl(pair, cluster, ['get', '--raw', '/metrics']);
  const counts: RequestCounts = {};
  for (const s of parsePrometheusText(text)) {
    if (s.name !== 'apiserver_request_total') continue;
    const key = `${s.labels['verb'] ?? '?'} ${s.labels['resource'] ?? '?'}${s.labels['subresource'] ? `/${s.labels['subresource']}` : ''} ${s.labels['code'] ?? '?'}`;
    counts[key] = (counts[key] ?? 0) + s.value;
  }
  return counts;
}

/** Requests made between two readings, largest first, without the ones under `min`. */
export function requestDelta(before: RequestCounts, after: RequestCounts, min = 10): RequestCounts {
  const delta = Object.entries(after)
    .map(([k, v]) => [k, v - (before[k] ?? 0)] as const)
    .filter(([, d]) => d >= min)
    .sort((a, b) => b[1] - a[1]);
  return Object.fromEntries(delta);
}
