// Which Services in which clusters make up a requested Service, decided from the local
// Service alone, in upstream's order: a federated Service (membership annotations), a
// remote-discovery mirror (label), else the local Service itself (gateway mirrors included:
// their endpoints are the gateway's, marked on the mirrored slices).
import type { V1Service } from '@kubernetes/client-node';
import { parseMemberEntry, parseMembers } from '../model/federated-membership.ts';
import { Annotations, Labels } from '../model/linkerd-names.ts';

export interface Source {
  /** Stable identity of the source: its group of endpoints is diffed under it. */
  readonly key: string;
  /** Undefined for the local cluster. */
  readonly cluster?: string;
  readonly namespace: string;
  readonly service: string;
  readonly setLabels: Readonly<Record<string, string>>;
}

export type ResolutionMode = 'local' | 'gateway' | 'remote-discovery' | 'federated';

export function resolutionMode(svc: V1Service): ResolutionMode {
  const a = svc.metadata?.annotations ?? {};
  const l = svc.metadata?.labels ?? {};
  if (Annotations.localDiscovery in a || Annotations.remoteDiscovery in a) return 'federated';
  if (l[Labels.remoteDiscovery]) return 'remote-discovery';
  if (l[Labels.clusterName] && a[Annotations.remoteSvcFqName]) return 'gateway';
  return 'local';
}

const remoteLabels = (svc: string, ns: string, cluster: string, remote: string) => ({
  service: svc,
  namespace: ns,
  target_cluster: cluster,
  target_service: remote,
  target_service_namespace: ns,
});

export function sourcesOf(svc: V1Service): Source[] {
  const name = svc.metadata?.name ?? '';
  const ns = svc.metadata?.namespace ?? '';
  const a = svc.metadata?.annotations ?? {};
  const l = svc.metadata?.labels ?? {};
  switch (resolutionMode(svc)) {
    case 'federated': {
      const out: Source[] = [];
      const local = a[Annotations.localDiscovery];
      if (local)
        out.push({ key: `local/${local}`, namespace: ns, service: local, setLabels: { service: name, namespace: ns, target_service: local } });
      for (const entry of parseMembers(a[Annotations.remoteDiscovery])) {
        const m = parseMemberEntry(entry);
        if (m)
          out.push({
            key: `${m.cluster}/${m.name}`,
            cluster: m.cluster,
            namespace: ns,
            service: m.name,
            setLabels: remoteLabels(name, ns, m.cluster, m.name),
          });
      }
      return out;
    }
    case 'remote-discovery': {
      const cluster = l[Labels.remoteDiscovery] ?? '';
      const remote = l[Labels.remoteService] || name;
      return [{ key: `${cluster}/${remote}`, cluster, namespace: ns, service: remote, setLabels: remoteLabels(name, ns, cluster, remote) }];
    }
    case 'gateway': {
      // `<svc>.<ns>.svc.<domain>`: the remote Service behind the gateway.
      const [remote = name, remoteNs = ns] = (a[Annotations.remoteSvcFqName] ?? '').split('.');
      const setLabels = {
        service: name,
        namespace: ns,
        target_cluster: l[Labels.clusterName] ?? '',
        target_service: remote,
        target_service_namespace: remoteNs,
      };
      return [{ key: `local/${name}`, namespace: ns, service: name, setLabels }];
    }
    case 'local':
      return [{ key: `local/${name}`, namespace: ns, service: name, setLabels: { service: name, namespace: ns } }];
  }
}
