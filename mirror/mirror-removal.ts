// What the Link's finalizer removes when the Link is deleted: every mirror of its cluster, its
// entries in federated Services, and its probe Endpoints. Listed fresh from the API (the
// watchers are stopped by then), deleted through the writer's ownership checks.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { isFederatedService, membershipOf } from '../model/federated-membership.ts';
import { Labels } from '../model/linkerd-names.ts';
import { withMembership } from './federated-mirror.ts';
import { endpointsRecord, serviceRecord } from './local-record.ts';
import type { LocalWriter } from './local-writer.ts';

/** Deletes every Service and Endpoints carrying the mirror labels of the writer's cluster (and nothing else). */
export async function deleteMirrorsOf(kc: KubeConfig, writer: LocalWriter): Promise<number> {
  const cluster = writer.clusterName;
  const core = kc.makeApiClient(CoreV1Api);
  const svcRecord = serviceRecord(cluster);
  const epRecord = endpointsRecord(cluster);
  const selector = `${Labels.mirroredService}=true,${Labels.clusterName}=${cluster}`;
  let n = 0;
  for (const ep of (await core.listEndpointsForAllNamespaces({ labelSelector: selector })).items) {
    if ((await writer.deleteEndpoints(ep.metadata?.namespace ?? '', ep.metadata?.name ?? '', epRecord(ep))) === 'deleted') n++;
  }
  for (const svc of (await core.listServiceForAllNamespaces({ labelSelector: selector })).items) {
    if ((await writer.deleteService(svc.metadata?.namespace ?? '', svc.metadata?.name ?? '', svcRecord(svc))) === 'deleted') n++;
  }
  // Federated Services: drop this cluster's `svc@cluster` entries; delete those left empty.
  const suffix = `@${cluster}`;
  for (const fed of (await core.listServiceForAllNamespaces({ labelSelector: `${Labels.mirroredService}=true,!${Labels.clusterName}` })).items) {
    if (!isFederatedService(fed)) continue;
    const m = membershipOf(fed);
    if (!m.remote.some((x) => x.endsWith(suffix))) continue;
    const left = { ...m, remote: m.remote.filter((x) => !x.endsWith(suffix)) };
    if (left.remote.length === 0 && !left.local)
      await writer.deleteFederated(fed.metadata?.namespace ?? '', fed.metadata?.name ?? '', fed.metadata?.uid);
    else await writer.replaceFederated(withMembership(fed, left));
    n++;
  }
  // The probe Endpoints carry the gateway label instead of the mirror one.
  const probes = await core.listEndpointsForAllNamespaces({ labelSelector: `${Labels.mirroredGateway}=true,${Labels.clusterName}=${cluster}` });
  for (const ep of probes.items) {
    await writer.deleteProbeEndpoints(ep.metadata?.namespace ?? '', ep.metadata?.name ?? '', ep.metadata?.uid);
    n++;
  }
  return n;
}
