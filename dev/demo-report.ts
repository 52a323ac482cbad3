// What the demo shows: the mirrors, the gateways table, and top-line figures per service
// (success rate, requests per second, p50 and p99 latency) read from the traffic generator's
// /metrics, which times every request it sends through its outbound proxy.
import { CoreV1Api } from '@kubernetes/client-node';
import { fetchMetrics, histogramBuckets, histogramQuantile, type Sample } from '../link/gateways-metrics.ts';
import { TRAFFIC_METRICS_PORT } from '../demo/app-manifests.ts';
import type { DevCluster } from './cluster-pair.ts';

export interface ServiceFigures {
  target: string;
  requests: number;
  successRate: number | null;
  rps: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface TrafficSnapshot {
  at: number;
  samples: Sample[];
}

/** The traffic generator's address: its pod IP, which the host reaches through the pod network. */
export async function trafficUrl(c: DevCluster): Promise<URL> {
  const core = c.kubeConfig.makeApiClient(CoreV1Api);
  const pods = await core.listNamespacedPod({ namespace: 'demo', labelSelector: 'app=traffic' });
  const ip = pods.items.find((p) => p.status?.podIP && p.metadata?.deletionTimestamp === undefined)?.status?.podIP;
  if (!ip) throw new Error('the traffic generator has no Pod IP yet');
  return new URL(`http://${ip}:${TRAFFIC_METRICS_PORT}/metrics`);
}

export async function snapshot(url: URL): Promise<TrafficSnapshot> {
  return { at: performance.now(), samples: await fetchMetrics(url, 5000) };
}

const count = (s: readonly Sample[], target: string, outcome: string) =>
  s.find((x) => x.name === 'demo_requests_total' && x.labels['target'] === target && x.labels['outcome'] === outcome)?.value ?? 0;

/** Figures per target between two snapshots (latency quantiles over the window's observations). */
export function figures(before: TrafficSnapshot, after: TrafficSnapshot): ServiceFigures[] {
  const targets = [...new Set(after.samples.filter((s) => s.name === 'demo_requests_total').map((s) => s.labels['target'] ?? ''))].sort();
  const seconds = Math.max((after.at - before.at) / 1000, 1e-3);
  return targets.map((target) => {
    const ok = count(after.samples, target, 'success') - count(before.samples, target, 'success');
    const failed = count(after.samples, target, 'failure') - count(before.samples, target, 'failure');
    const b0 = histogramBuckets(before.samples, 'demo_request_latency_ms', { target });
    const window = histogramBuckets(after.samples, 'demo_request_latency_ms', { target }).map((b) => ({
      le: b.le,
      count: b.count - (b0.find((x) => x.le === b.le)?.count ?? 0),
    }));
    const q = (p: number) => {
      const v = histogramQuantile(p, window);
      return v === undefined ? null : Math.round(v * 10) / 10;
    };
    const requests = ok + failed;
    return {
      target,
      requests,
      successRate: requests === 0 ? null : Math.round((ok / requests) * 1000) / 1000,
      rps: Math.round((requests / seconds) * 10) / 10,
      p50Ms: q(0.5),
      p99Ms: q(0.99),
    };
  });
}

export function formatFigures(rows: readonly ServiceFigures[]): string {
  const head = ['SERVICE', 'SUCCESS', 'RPS', 'P50', 'P99'];
  const pct = (r: number | null) => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);
  const ms = (v: number | null) => (v === null ? '-' : `${v}ms`);
  const body = rows.map((r) => [r.target, pct(r.successRate), r.rps.toFixed(1), ms(r.p50Ms), ms(r.p99Ms)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]?.length ?? 0)));
  return [head, ...body].map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')).join('\n') + '\n';
}
