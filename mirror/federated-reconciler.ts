// Federated Services: this Link's cluster joins or leaves `<svc>-federated` as its remote
// Service matches the federated selector or stops matching. The local Service is shared by
// every Link (and a local member), so membership changes are read-modify-write of annotations.
// The local mirror (`mirror --local-mirror`) runs the same reconciler with the local cluster as
// its "remote" and the cluster name LOCAL_CLUSTER: its member goes into local-discovery.
import type { V1Service } from '@kubernetes/client-node';
import { isFederatedService, memberEntry, membershipOf, type Membership } from '../model/federated-membership.ts';
import { federatedServiceName } from '../model/mirror-naming.ts';
import { InvalidServiceError, NameCollisionError } from './errors.ts';
import { federatedFrom, withMembership } from './federated-mirror.ts';
import { isHeadless } from './headless-mirror.ts';
import { serviceMatches } from './local-record.ts';
import type { ReconcileContext } from './reconcile-context.ts';
import { ensureNamespace } from './service-reconciler.ts';

/** The cluster name of the local mirror, as upstream's synthetic Link has it. */
export const LOCAL_CLUSTER = '';

/** Membership with this member in it, or out of it. */
function withMember(m: Membership, name: string, cluster: string, present: boolean): Membership {
  if (cluster === LOCAL_CLUSTER) return { remote: m.remote, ...(present ? { local: name } : m.local === name ? {} : { local: m.local }) };
  const entry = memberEntry(name, cluster);
  const remote = m.remote.filter((x) => x !== entry);
  return { ...m, remote: present ? [...remote, entry] : remote };
}

/** Names of the members `cluster` contributes to a federated Service. */
export function memberNames(m: Membership, cluster: string): string[] {
  if (cluster === LOCAL_CLUSTER) return m.local ? [m.local] : [];
  const suffix = `@${cluster}`;
  return m.remote.filter((x) => x.endsWith(suffix)).map((x) => x.slice(0, -suffix.length));
}

function hasMember(m: Membership, name: string, cluster: string): boolean {
  return memberNames(m, cluster).includes(name);
}

export async function reconcileFederated(ctx: ReconcileContext, namespace: string, name: string): Promise<void> {
  const remote = ctx.remote.federated(namespace, name);
  const fedName = federatedServiceName(name);
  const cluster = ctx.settings.clusterName;
  const current = ctx.local.federated(namespace, fedName) ?? (await ctx.local.readService(namespace, fedName));
  if (current && !isFederatedService(current)) {
    if (!remote) return;
    throw new NameCollisionError(
      `Service ${namespace}/${fedName} already exists and is not a federated Service; rename or delete it to let ${namespace}/${name} join the federation`,
    );
  }
  if (!remote) {
    if (!ctx.remote.federatedListed || !current) return;
    const m = membershipOf(current);
    if (!hasMember(m, name, cluster)) return;
    const left = withMember(m, name, cluster, false);
    if (left.remote.length === 0 && !left.local) await ctx.local.deleteFederated(namespace, fedName, current.metadata?.uid);
    else await ctx.local.replaceFederated(withMembership(current, left));
    ctx.status.clearMirror({ namespace, name }, 'federatedServices');
    ctx.log.info('left federated service', { object: `${namespace}/${fedName}`, reason: 'Unexported' });
    return;
  }
  if (isHeadless(remote)) throw new InvalidServiceError(`${namespace}/${name} is headless; headless Services cannot join a federated Service`);
  await ensureNamespace(ctx, namespace);
  if (!current) {
    await ctx.local.createFederated(federatedFrom(remote, ctx.settings, withMember({ remote: [] }, name, cluster, true)));
  } else {
    const m = membershipOf(current);
    const members = hasMember(m, name, cluster) ? m : withMember(m, name, cluster, true);
    // The local member is always the oldest; otherwise the oldest Link among the members wins.
    const local = cluster === LOCAL_CLUSTER;
    const ages = local || m.local ? [] : await ctx.linkAges();
    const memberClusters = new Set(members.remote.map((x) => x.split('@')[1]));
    const oldest = ages.find((c) => memberClusters.has(c));
    const fromThis = local || (!m.local && oldest === cluster);
    const desired = fromThis ? federatedFrom(remote, ctx.settings, members) : withMembership(current, members);
    const next: V1Service = {
      ...current,
      metadata: { ...current.metadata, labels: desired.metadata?.labels, annotations: desired.metadata?.annotations },
      spec: { ...current.spec, ports: desired.spec?.ports },
    };
    if (!serviceMatches(current, next)) await ctx.local.replaceFederated(next);
  }
  ctx.status.setMirror({ namespace, name }, { namespace, name: fedName }, 'Mirrored', '', 'federatedServices');
}
