// Federated Services: `<svc>-federated` gathers same-named Services from several clusters.
// Membership lives in annotations (`svc@cluster` entries in multicluster.linkerd.io/remote-discovery,
// the local member's name in local-discovery), which Linkerd's destination controller reads
// to merge every member's endpoints. Metadata comes from the oldest member.
import type { V1Service } from '@kubernetes/client-node';
import { withoutExcluded } from '../model/exclusions.ts';
import { Annotations, Labels } from '../model/linkerd-names.ts';
import { formatMembers, type Membership } from '../model/federated-membership.ts';
import type { MirrorSettings } from './mirror-objects.ts';
import { mirrorPorts } from './mirror-objects.ts';
import { federatedServiceName } from '../model/mirror-naming.ts';

/** Metadata and ports taken from `source` (the oldest member), membership annotations kept as given. */
export function federatedFrom(source: V1Service, s: MirrorSettings, membership: Membership): V1Service {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(withoutExcluded(source.metadata?.labels, s.excludedLabels) ?? {})) {
    if (!k.startsWith('mirror.linkerd.io/') && !k.startsWith('multicluster.linkerd.io/')) labels[k] = v;
  }
  labels[Labels.mirroredService] = 'true';
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(withoutExcluded(source.metadata?.annotations, s.excludedAnnotations) ?? {})) {
    if (!k.startsWith('mirror.linkerd.io/') && !k.startsWith('multicluster.linkerd.io/') && k !== 'kubectl.kubernetes.io/last-applied-configuration')
      annotations[k] = v;
  }
  const opaque = source.metadata?.annotations?.[Annotations.opaquePorts];
  if (opaque !== undefined) annotations[Annotations.opaquePorts] = opaque;
  if (membership.remote.length) annotations[Annotations.remoteDiscovery] = formatMembers(membership.remote);
  if (membership.local) annotations[Annotations.localDiscovery] = membership.local;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: federatedServiceName(source.metadata?.name ?? ''), namespace: source.metadata?.namespace, labels, annotations },
    spec: { type: 'ClusterIP', ports: mirrorPorts(source) },
  };
}

/** `existing` with only its membership annotations changed. */
export function withMembership(existing: V1Service, membership: Membership): V1Service {
  const annotations = { ...(existing.metadata?.annotations ?? {}) };
  if (membership.remote.length) annotations[Annotations.remoteDiscovery] = formatMembers(membership.remote);
  else delete annotations[Annotations.remoteDiscovery];
  if (membership.local) annotations[Annotations.localDiscovery] = membership.local;
  else delete annotations[Annotations.localDiscovery];
  return { ...existing, metadata: { ...existing.metadata, annotations } };
}
