// Headless remote Services (StatefulSets): with --enable-headless-services each remote pod
// hostname gets its own ClusterIP "endpoint mirror" `<hostname>-<cluster>` with gateway
// Endpoints, and the root mirror is headless, listing hostname → endpoint-mirror IP, so a
// client can address `<pod>.<svc>-<cluster>` as in the remote cluster.
import type { V1EndpointAddress, V1EndpointSlice, V1Endpoints, V1Service } from '@kubernetes/client-node';
import { Annotations, Labels } from '../model/linkerd-names.ts';
import { mirrorName, remoteRefOf } from '../model/remote-service.ts';
import { desiredGatewayEndpoints, desiredMirrorService, type GatewayState, type MirrorSettings } from './mirror-objects.ts';
import { endpointMirrorName } from '../model/mirror-naming.ts';

export interface RemoteHost {
  hostname: string;
  ready: boolean;
}

/** Hostnames of the remote Service's endpoints (StatefulSet pods carry one). */
export function remoteHosts(slices: readonly V1EndpointSlice[]): RemoteHost[] {
  const byName = new Map<string, boolean>();
  for (const s of slices) {
    for (const ep of s.endpoints ?? []) {
      if (!ep.hostname) continue;
      const ready = ep.conditions?.ready !== false;
      byName.set(ep.hostname, (byName.get(ep.hostname) ?? false) || ready);
    }
  }
  return [...byName.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([hostname, ready]) => ({ hostname, ready }));
}

export function isHeadless(svc: V1Service): boolean {
  return svc.spec?.clusterIP === 'None';
}

/** The root mirror: headless, same metadata as an ordinary mirror. */
export function desiredHeadlessRoot(remote: V1Service, s: MirrorSettings): V1Service {
  const svc = desiredMirrorService(remote, 'gateway', s);
  return { ...svc, spec: { ...svc.spec, clusterIP: 'None' } };
}

/** One ClusterIP Service per remote pod hostname, pointing at the gateway. */
export function desiredEndpointMirror(
  remote: V1Service,
  host: RemoteHost,
  gateway: GatewayState,
  s: MirrorSettings,
): { service: V1Service; endpoints: V1Endpoints } {
  const ref = remoteRefOf(remote);
  const root = mirrorName(ref, s);
  const name = endpointMirrorName(host.hostname, s.clusterName);
  const fq = `${host.hostname}.${ref.name}.${ref.namespace}.svc.${s.clusterDomain}`;
  const base = desiredMirrorService(remote, 'gateway', s);
  const labels = { ...(base.metadata?.labels ?? {}), [Labels.headlessMirrorSvcName]: root };
  const annotations = { ...(base.metadata?.annotations ?? {}), [Annotations.remoteSvcFqName]: fq };
  const service: V1Service = {
    ...base,
    metadata: { name, namespace: ref.namespace, labels, annotations },
    spec: { type: 'ClusterIP', ports: base.spec?.ports },
  };
  const ep = desiredGatewayEndpoints(remote, host.ready, gateway, s);
  const endpoints: V1Endpoints = {
    ...ep,
    metadata: {
      name,
      namespace: ref.namespace,
      labels: { ...(ep.metadata?.labels ?? {}), [Labels.headlessMirrorSvcName]: root },
      annotations: { ...(ep.metadata?.annotations ?? {}), [Annotations.remoteSvcFqName]: fq },
    },
  };
  return { service, endpoints };
}

/** The root's Endpoints: each hostname resolves to its endpoint mirror's ClusterIP. */
export function desiredHeadlessRootEndpoints(
  remote: V1Service,
  hosts: ReadonlyArray<{ hostname: string; clusterIP: string; ready: boolean }>,
  s: MirrorSettings,
): V1Endpoints {
  const ref = remoteRefOf(remote);
  const ready: V1EndpointAddress[] = [];
  const notReady: V1EndpointAddress[] = [];
  for (const h of hosts) (h.ready ? ready : notReady).push({ ip: h.clusterIP, hostname: h.hostname });
  const ports = (remote.spec?.ports ?? []).map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? 'TCP' }));
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: mirrorName(ref, s),
      namespace: ref.namespace,
      labels: { [Labels.mirroredService]: 'true', [Labels.clusterName]: s.clusterName },
      annotations: { [Annotations.remoteSvcFqName]: `${ref.name}.${ref.namespace}.svc.${s.clusterDomain}` },
    },
    subsets: hosts.length
      ? [{ ...(ready.length ? { addresses: ready } : {}), ...(notReady.length ? { notReadyAddresses: notReady } : {}), ports }]
      : [],
  };
}
