// Federated Services: `<svc>-federated` gathers same-named Services from several clusters.
// Membership lives in annotations (`svc@cluster` entries in multicluster.linkerd.io/remote-discovery,
// the local member's name in local-discovery), which the mirror writes and the destination
// service reads to merge every member's endpoints.
import type { V1Service } from '@kubernetes/client-node';
import { Annotations, Labels } from './linkerd-names.ts';

export interface Membership {
  remote: readonly string[];
  local?: string;
}

export const memberEntry = (name: string, cluster: string): string => `${name}@${cluster}`;

/** Splits a `svc@cluster` entry; undefined when it has no cluster part. */
export function parseMemberEntry(entry: string): { name: string; cluster: string } | undefined {
  const at = entry.lastIndexOf('@');
  if (at <= 0 || at === entry.length - 1) return undefined;
  return { name: entry.slice(0, at), cluster: entry.slice(at + 1) };
}

export function parseMembers(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
}

export function formatMembers(members: readonly string[]): string {
  return [...new Set(members)].sort().join(',');
}

/** A federated Service is the mirror's to edit: mirror-labelled, no cluster-name label, membership annotations. */
export function isFederatedService(svc: V1Service | undefined): boolean {
  const l = svc?.metadata?.labels ?? {};
  const a = svc?.metadata?.annotations ?? {};
  return (
    l[Labels.mirroredService] === 'true' &&
    l[Labels.clusterName] === undefined &&
    (Annotations.remoteDiscovery in a || Annotations.localDiscovery in a)
  );
}

/** The current membership of an existing federated Service. */
export function membershipOf(svc: V1Service): { remote: string[]; local?: string } {
  const a = svc.metadata?.annotations ?? {};
  const local = a[Annotations.localDiscovery];
  return { remote: parseMembers(a[Annotations.remoteDiscovery]), ...(local ? { local } : {}) };
}
