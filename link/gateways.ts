// `multicluster gateways`: one row per linked cluster with its gateway's liveness, how many
// Services it mirrors and the probe latency. Rows come from the controller's /metrics when
// --metrics-url names it; otherwise from the cluster: NUM_SVC by counting mirror Services,
// ALIVE from the Link's GatewayAlive condition, and no latency.
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { LinkInputError } from './errors.ts';
import { Labels } from '../model/linkerd-names.ts';
import { fetchMetrics, gatewayMetricsFor, MetricsFetchError, type LatencyQuantiles } from './gateways-metrics.ts';
import type { KubeAccess } from './kube-access.ts';
import { describeRequestError, requestOptions } from './kube-access.ts';
import { InvalidLinkError, linkGatewayAddresses, parseLink } from '../model/link-parse.ts';
import { LINK_GROUP, LINK_PLURAL, LINK_STORAGE_VERSION, type Link } from '../model/link-types.ts';

export interface GatewayRow {
  cluster: string;
  link: string;
  /** False for pod-to-pod Links, which have no gateway. */
  gateway: boolean;
  /** Undefined when unknown (no gateway, no condition yet, no series). */
  alive: boolean | undefined;
  numServices: number | undefined;
  latencyMs: LatencyQuantiles | undefined;
  source: 'metrics' | 'cluster';
}

export interface GatewaysOptions {
  access: KubeAccess;
  namespace: string;
  clusterName?: string | undefined;
  metricsUrls: ReadonlyMap<string, URL>;
}

export async function readGateways(o: GatewaysOptions): Promise<GatewayRow[]> {
  const ro = requestOptions(o.access);
  let items: unknown[];
  try {
    const list = (await o.access.kc
      .makeApiClient(CustomObjectsApi)
      .listNamespacedCustomObject({ group: LINK_GROUP, version: LINK_STORAGE_VERSION, namespace: o.namespace, plural: LINK_PLURAL }, ro)) as {
      items?: unknown[];
    };
    items = list.items ?? [];
  } catch (err) {
    throw describeRequestError(err, `list Links in namespace ${o.namespace}`, o.access);
  }
  const links: Array<{ link: Link; alive: boolean | undefined }> = [];
  for (const raw of items) {
    try {
      links.push({ link: parseLink(raw), alive: gatewayAliveCondition(raw) });
    } catch (err) {
      if (err instanceof InvalidLinkError) throw new LinkInputError(`${err.message}: fix it, or run \`multicluster check\` for details`);
      throw err;
    }
  }
  const unknown = [...o.metricsUrls.keys()].filter((n) => !links.some((l) => l.link.metadata.name === n));
  if (unknown.length > 0) {
    throw new LinkInputError(
      `--metrics-url names ${unknown.map((n) => `Link "${n}"`).join(', ')}, which is not in ` +
        `namespace ${o.namespace}: use the Link's name (kubectl -n ${o.namespace} get links)`,
    );
  }
  const selected = links.filter((l) => o.clusterName === undefined || l.link.spec.targetClusterName === o.clusterName);
  if (o.clusterName !== undefined && selected.length === 0) {
    throw new LinkInputError(
      `no Link in namespace ${o.namespace} targets cluster "${o.clusterName}": check --cluster-name (kubectl -n ${o.namespace} get links)`,
    );
  }

  let mirrorCounts: Map<string, number> | undefined;
  const countMirrors = async (): Promise<Map<string, number>> => {
    if (mirrorCounts) return mirrorCounts;
    try {
      const svcs = await o.access.kc
        .makeApiClient(CoreV1Api)
        .listServiceForAllNamespaces({ labelSelector: `${Labels.mirroredService}=true,${Labels.clusterName}` }, ro);
      mirrorCounts = new Map();
      for (const s of svcs.items) {
        const c = s.metadata?.labels?.[Labels.clusterName] ?? '';
        mirrorCounts.set(c, (mirrorCounts.get(c) ?? 0) + 1);
      }
      return mirrorCounts;
    } catch (err) {
      throw describeRequestError(err, 'list mirror Services', o.access);
    }
  };

  const rows: GatewayRow[] = [];
  for (const { link, alive } of selected) {
    const cluster = link.spec.targetClusterName ?? link.metadata.name;
    const gateway = linkGatewayAddresses(link).length > 0;
    const url = o.metricsUrls.get(link.metadata.name);
    if (url) {
      let m;
      try {
        m = gatewayMetricsFor(await fetchMetrics(url, o.access.timeoutMs), cluster);
      } catch (err) {
        if (err instanceof MetricsFetchError) {
          throw new Error(
            `Link ${link.metadata.name}: ${err.message}; check that its controller runs ` +
              `and --metrics-url points at its admin address (--metrics-addr, default :9999)`,
          );
        }
        throw err;
      }
      rows.push({
        cluster,
        link: link.metadata.name,
        gateway,
        alive: gateway ? m.alive : undefined,
        numServices: m.mirroredServices,
        latencyMs: gateway ? m.latency : undefined,
        source: 'metrics',
      });
    } else {
      const counts = await countMirrors();
      rows.push({
        cluster,
        link: link.metadata.name,
        gateway,
        alive: gateway ? alive : undefined,
        numServices: counts.get(cluster) ?? 0,
        latencyMs: undefined,
        source: 'cluster',
      });
    }
  }
  return rows.sort((a, b) => a.cluster.localeCompare(b.cluster));
}

function gatewayAliveCondition(raw: unknown): boolean | undefined {
  const conditions = (raw as { status?: { conditions?: unknown } }).status?.conditions;
  if (!Array.isArray(conditions)) return undefined;
  const c: unknown = conditions.find((x: unknown) => typeof x === 'object' && x !== null && (x as { type?: unknown }).type === 'GatewayAlive');
  const status = (c as { status?: unknown } | undefined)?.status;
  return status === 'True' ? true : status === 'False' ? false : undefined;
}

// === rendering ===

export type GatewaysFormat = 'table' | 'json';

const ms = (v: number) => (v >= 100 ? `${Math.round(v)}ms` : `${Number(v.toFixed(1))}ms`);

export function formatLatency(l: LatencyQuantiles | undefined): string {
  return l ? `p50=${ms(l.p50)} p95=${ms(l.p95)} p99=${ms(l.p99)}` : '-';
}

const aliveText = (r: GatewayRow) => (!r.gateway ? '-' : r.alive === undefined ? 'Unknown' : r.alive ? 'True' : 'False');

/** Left-aligned columns separated by two spaces, like kubectl and upstream's table. */
export function formatGatewaysTable(rows: readonly GatewayRow[]): string {
  const table = [
    ['CLUSTER', 'ALIVE', 'NUM_SVC', 'LATENCY'],
    ...rows.map((r) => [r.cluster, aliveText(r), r.numServices === undefined ? '-' : String(r.numServices), formatLatency(r.latencyMs)]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

export function formatGatewaysJson(rows: readonly GatewayRow[]): string {
  return (
    JSON.stringify(
      rows.map((r) => ({
        clusterName: r.cluster,
        link: r.link,
        gateway: r.gateway,
        alive: r.alive ?? null,
        numberOfServices: r.numServices ?? null,
        latencyMs: r.latencyMs ?? null,
        source: r.source,
      })),
      null,
      2,
    ) + '\n'
  );
}
