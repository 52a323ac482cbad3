// What a Link's mirror of one remote Service should look like: pure functions from the
// remote objects and the Link's settings to the local Service and Endpoints. The shapes
// are upstream's (linkerd-multicluster.md §3), so Linkerd's destination controller, Viz
// and `linkerd multicluster check` read them unchanged.
import type { CoreV1EndpointPort, V1Endpoints, V1EndpointSubset, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { withoutExcluded } from '../model/exclusions.ts';
import { Annotations, Labels, ObjectNames } from '../model/linkerd-names.ts';
import { isShortened } from '../model/mirror-naming.ts';
import { fqName, mirrorName, remoteRefOf, type MirrorMode } from '../model/remote-service.ts';

export interface MirrorSettings {
  clusterName: string;
  clusterDomain: string;
  gatewayIdentity: string;
  gatewayPort: number;
  excludedLabels: readonly string[];
  excludedAnnotations: readonly string[];
}

/** Annotations that describe the remote cluster's own topology or kubectl state, never ours. */
const NEVER_COPIED_ANNOTATIONS = new Set([
  'service.kubernetes.io/topology-aware-hints',
  'service.kubernetes.io/topology-mode',
  'kubectl.kubernetes.io/last-applied-configuration',
]);

function mirrorLabels(remote: V1Service, mode: MirrorMode, s: MirrorSettings): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(withoutExcluded(remote.metadata?.labels, s.excludedLabels) ?? {})) {
    if (!k.startsWith('mirror.linkerd.io/') && !k.startsWith('multicluster.linkerd.io/')) labels[k] = v;
  }
  labels[Labels.mirroredService] = 'true';
  labels[Labels.clusterName] = s.clusterName;
  if (mode === 'remote-discovery') {
    labels[Labels.remoteDiscovery] = s.clusterName;
    labels[Labels.remoteService] = remote.metadata?.name ?? '';
  }
  return labels;
}

function mirrorAnnotations(remote: V1Service, s: MirrorSettings): Record<string, string> {
  const source = remote.metadata?.annotations ?? {};
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(withoutExcluded(source, s.excludedAnnotations) ?? {})) {
    if (!NEVER_COPIED_ANNOTATIONS.has(k) && !k.startsWith('mirror.linkerd.io/')) annotations[k] = v;
  }
  // Opaque ports decide how the proxy treats the traffic; exclusion must not break that.
  const opaque = source[Annotations.opaquePorts];
  if (opaque !== undefined) annotations[Annotations.opaquePorts] = opaque;
  const ref = remoteRefOf(remote);
  annotations[Annotations.remoteSvcFqName] = fqName(ref, s);
  annotations[Annotations.remoteResourceVersion] = remote.metadata?.resourceVersion ?? '';
  if (isShortened(ref.name, s.clusterName)) annotations[Annotations.fullMirrorName] = `${ref.name}-${s.clusterName}`;
  return annotations;
}

export function mirrorPorts(remote: V1Service): V1ServicePort[] {
  return (remote.spec?.ports ?? []).map((p) => {
    const port: V1ServicePort = { port: p.port, protocol: p.protocol ?? 'TCP' };
    if (p.name !== undefined) port.name = p.name;
    if (p.targetPort !== undefined) port.targetPort = p.targetPort;
    // Upstream drops appProtocol; keeping it lets the proxy skip protocol detection.
    if (p.appProtocol !== undefined) port.appProtocol = p.appProtocol;
    return port;
  });
}

export function desiredMirrorService(remote: V1Service, mode: MirrorMode, s: MirrorSettings): V1Service {
  const ref = remoteRefOf(remote);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: mirrorName(ref, s),
      namespace: ref.namespace,
      labels: mirrorLabels(remote, mode, s),
      annotations: mirrorAnnotations(remote, s),
    },
    spec: { type: 'ClusterIP', ports: mirrorPorts(remote) },
  };
}

export interface GatewayState {
  /** Resolved gateway IPs, sorted. */
  addresses: readonly string[];
  alive: boolean;
}

export function desiredGatewayEndpoints(remote: V1Service, remoteHasReadyEndpoints: boolean, gateway: GatewayState, s: MirrorSettings): V1Endpoints {
  const ref = remoteRefOf(remote);
  const subsets: V1EndpointSubset[] = [];
  if (remoteHasReadyEndpoints && gateway.addresses.length > 0) {
    const addresses = [...gateway.addresses].sort().map((ip) => ({ ip }));
    const ports: CoreV1EndpointPort[] = (remote.spec?.ports ?? []).map((p) => {
      const port: CoreV1EndpointPort = { port: s.gatewayPort, protocol: p.protocol ?? 'TCP' };
      if (p.name !== undefined) port.name = p.name;
      return port;
    });
    subsets.push(gateway.alive ? { addresses, ports } : { notReadyAddresses: addresses, ports });
  }
  const annotations: Record<string, string> = { [Annotations.remoteSvcFqName]: fqName(ref, s) };
  if (s.gatewayIdentity) annotations[Annotations.remoteGatewayIdentity] = s.gatewayIdentity;
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: mirrorName(ref, s),
      namespace: ref.namespace,
      // The Service's labels too, as upstream writes them, so label selectors on Endpoints match alike.
      labels: mirrorLabels(remote, 'gateway', s),
      annotations,
    },
    subsets,
  };
}

/** The probe Endpoints for `probe-<link>`: always ready, so Linkerd's probe can reach the gateway. */
export function desiredProbeEndpoints(
  linkName: string,
  namespace: string,
  gatewayAddresses: readonly string[],
  probePort: number,
  s: Pick<MirrorSettings, 'clusterName' | 'gatewayIdentity'>,
): V1Endpoints {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: ObjectNames.probeService(linkName),
      namespace,
      labels: { [Labels.mirroredGateway]: 'true', [Labels.clusterName]: s.clusterName },
      annotations: s.gatewayIdentity ? { [Annotations.remoteGatewayIdentity]: s.gatewayIdentity } : {},
    },
    subsets: gatewayAddresses.length
      ? [{ addresses: [...gatewayAddresses].sort().map((ip) => ({ ip })), ports: [{ name: 'mc-probe', port: probePort, protocol: 'TCP' }] }]
      : [],
  };
}
