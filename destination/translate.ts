// EndpointSlices (+ their Pods) of one Service port → the endpoints a proxy is given. Pure:
// the caches hand in what they hold, so a unit test can feed the same objects.
import { isIP } from 'node:net';
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { Annotations, Labels, workloadIdentity } from '../model/linkerd-names.ts';
import { parseOpaquePorts } from './opaque-ports.ts';
import { addrKey, type Endpoint, type ProtocolHint } from './types.ts';

export const DEFAULT_WEIGHT = 10_000;
/** The proxy's inbound port when its container does not say otherwise. */
export const DEFAULT_INBOUND_PORT = 4143;
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const POD_TEMPLATE_HASH = 'pod-template-hash';

export interface ClusterFacts {
  /** Absent for the local cluster. */
  readonly remoteName?: string;
  readonly trustDomain: string;
}

export interface TranslateInput {
  readonly service: V1Service;
  /** The Service port the proxy asked for. */
  readonly port: number;
  readonly slices: readonly V1EndpointSlice[];
  readonly pod: (name: string) => V1Pod | undefined;
  readonly cluster: ClusterFacts;
}

/** The Service's port with that number, or undefined. */
export function servicePort(service: V1Service, port: number): { name: string } | undefined {
  const p = service.spec?.ports?.find((x) => x.port === port);
  return p ? { name: p.name ?? '' } : undefined;
}

/**
 * Per-slice results a caller may keep between calls (one per resolution): a slice whose
 * object, Service and Pods are unchanged is not translated again, and its Endpoint objects
 * stay the same, so digests of them can be cached too.
 */
export type SliceCache = WeakMap<V1EndpointSlice, { key: string; endpoints: Endpoint[] }>;

/** The ready endpoints behind `port`; undefined when the Service has no such port. */
export function translateEndpoints(i: TranslateInput, cache?: SliceCache): Endpoint[] | undefined {
  const sp = servicePort(i.service, i.port);
  if (!sp) return undefined;
  const svcOpaque = parseOpaquePorts(i.service.metadata?.annotations?.[Annotations.opaquePorts])(i.port);
  const out = new Map<string, Endpoint>();
  const svcKey = `${i.service.metadata?.resourceVersion ?? ''}|${i.port}|${i.cluster.trustDomain}`;
  for (const slice of i.slices) {
    let key = svcKey;
    for (const ep of slice.endpoints ?? []) {
      if (ep.targetRef?.kind === 'Pod') key += `|${i.pod(ep.targetRef.name ?? '')?.metadata?.resourceVersion ?? '-'}`;
    }
    let cached = cache?.get(slice);
    if (!cached || cached.key !== key) {
      cached = { key, endpoints: translateSlice(i, slice, sp.name, svcOpaque) };
      cache?.set(slice, cached);
    }
    for (const e of cached.endpoints) {
      const k = addrKey(e);
      if (!out.has(k)) out.set(k, e);
    }
  }
  return [...out.values()];
}

function translateSlice(i: TranslateInput, slice: V1EndpointSlice, portName: string, svcOpaque: boolean): Endpoint[] {
  const targetPort = slice.ports?.find((p) => (p.name ?? '') === portName)?.port;
  // FQDN slices name hosts, which the proxy's addresses cannot carry.
  if (targetPort === undefined || slice.addressType === 'FQDN') return [];
  const out: Endpoint[] = [];
  const gatewayIdentity = slice.metadata?.annotations?.[Annotations.remoteGatewayIdentity];
  const fqName = slice.metadata?.annotations?.[Annotations.remoteSvcFqName] ?? i.service.metadata?.annotations?.[Annotations.remoteSvcFqName];
  for (const ep of slice.endpoints ?? []) {
    if (ep.conditions?.ready === false || ep.conditions?.terminating === true) continue;
    const podRef = ep.targetRef?.kind === 'Pod' ? ep.targetRef.name : undefined;
    const pod = podRef ? i.pod(podRef) : undefined;
    // The Pod and slice watches are separate: a slice may name a pod not seen yet, or one
    // already deleted. Publishing it without its identity would downgrade it; wait instead.
    if (podRef && !pod) continue;
    for (const ip of ep.addresses) {
      if (!isIP(ip)) continue;
      const base = { ip, port: targetPort, weight: DEFAULT_WEIGHT };
      if (pod) out.push(podEndpoint(base, pod, { ...i, targetPort, svcOpaque, zone: ep.zone }));
      else if (gatewayIdentity !== undefined) out.push(gatewayEndpoint(base, gatewayIdentity, fqName ? `${fqName}:${i.port}` : undefined));
      else out.push({ ...base, labels: { zone_locality: locality(i.cluster) }, http2: false });
    }
  }
  return out;
}

function locality(c: ClusterFacts): string {
  // Zone names are not comparable across clusters (upstream compares them anyway).
  return c.remoteName === undefined ? 'unknown' : 'remote';
}

function gatewayEndpoint(base: { ip: string; port: number; weight: number }, identity: string, authority: string | undefined): Endpoint {
  if (!identity) return { ...base, labels: { zone_locality: 'unknown' }, http2: false, ...(authority ? { authorityOverride: authority } : {}) };
  return {
    ...base,
    labels: { zone_locality: 'unknown' },
    identity: { name: identity },
    hint: { kind: 'h2' },
    http2: true,
    ...(authority ? { authorityOverride: authority } : {}),
  };
}

interface PodContext extends TranslateInput {
  targetPort: number;
  svcOpaque: boolean;
  zone: string | undefined;
}

function podEndpoint(base: { ip: string; port: number; weight: number }, pod: V1Pod, c: PodContext): Endpoint {
  const meta = pod.metadata ?? {};
  const ns = meta.namespace ?? '';
  const sa = pod.spec?.serviceAccountName || 'default';
  const controlNs = meta.labels?.[Labels.controlPlaneNs];
  const labels: Record<string, string> = { pod: meta.name ?? '', serviceaccount: sa, zone_locality: locality(c.cluster) };
  const owner = podOwner(pod);
  if (owner) labels[owner.kind] = owner.name;
  const hash = meta.labels?.[POD_TEMPLATE_HASH];
  if (hash) labels['pod_template_hash'] = hash;
  if (c.zone) labels['zone'] = c.zone;
  if (!controlNs) return { ...base, labels, http2: false };
  labels['control_plane_ns'] = controlNs;
  const opaque = c.svcOpaque || parseOpaquePorts(meta.annotations?.[Annotations.opaquePorts])(c.targetPort);
  const hint: ProtocolHint = opaque ? { kind: 'opaque', inboundPort: proxyInboundPort(pod) } : { kind: 'h2' };
  // The pod's own control-plane namespace, not ours: clusters may install Linkerd in different ones.
  const id = workloadIdentity(sa, ns, controlNs, c.cluster.trustDomain);
  return { ...base, labels, identity: { name: id, serverName: id }, hint, http2: true };
}

/** The owning workload as a metric label: a ReplicaSet with a pod-template-hash is its Deployment's. */
export function podOwner(pod: V1Pod): { kind: string; name: string } | undefined {
  const ref = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  if (!ref) return undefined;
  const hash = pod.metadata?.labels?.[POD_TEMPLATE_HASH];
  if (ref.kind === 'ReplicaSet' && hash && ref.name.endsWith(`-${hash}`)) {
    return { kind: 'deployment', name: ref.name.slice(0, -hash.length - 1) };
  }
  return { kind: ref.kind.toLowerCase(), name: ref.name };
}

/** The inbound port the pod's proxy listens on (its LINKERD2_PROXY_INBOUND_LISTEN_ADDR), 4143 by default. */
export function proxyInboundPort(pod: V1Pod): number {
  const proxy = pod.spec?.containers?.find((c) => c.name === 'linkerd-proxy');
  const addr = proxy?.env?.find((e) => e.name === 'LINKERD2_PROXY_INBOUND_LISTEN_ADDR')?.value;
  const port = Number(/:(\d+)$/.exec(addr ?? '')?.[1]);
  return Number.isInteger(port) && port > 0 && port < 65535 ? port : DEFAULT_INBOUND_PORT;
}

/** The Service a slice belongs to (the label both the slice controllers set). */
export function sliceService(slice: V1EndpointSlice): string | undefined {
  return slice.metadata?.labels?.[SERVICE_NAME_LABEL];
}
