// How a remote Service is named and addressed from the local cluster: the parts (mirror,
// destination, gateway) must agree on these, or a mirror and its endpoints drift apart.
import type { V1Service } from '@kubernetes/client-node';
import { ObjectNames } from './linkerd-names.ts';
import { mirrorServiceName } from './mirror-naming.ts';

/** Gateway mode: traffic crosses the remote gateway. Remote discovery: pod to pod. */
export type MirrorMode = 'gateway' | 'remote-discovery';

export interface RemoteRef {
  namespace: string;
  name: string;
}

export function remoteRefOf(svc: V1Service): RemoteRef {
  return { namespace: svc.metadata?.namespace ?? '', name: svc.metadata?.name ?? '' };
}

/** `<svc>-<cluster>`, shortened deterministically past 63 characters. */
export function mirrorName(remote: RemoteRef, s: { clusterName: string }): string {
  return mirrorServiceName(remote.name, s.clusterName);
}

/** `<svc>.<ns>.svc.<remote cluster domain>`: the name the remote gateway resolves. */
export function fqName(remote: RemoteRef, s: { clusterDomain: string }): string {
  return ObjectNames.remoteSvcFqName(remote.name, remote.namespace, s.clusterDomain);
}
