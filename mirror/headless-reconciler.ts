// Headless remote Services with pod hostnames (--enable-headless-services): a headless root
// mirror whose Endpoints list each hostname at the ClusterIP of its own endpoint mirror
// `<hostname>-<cluster>`, which points at the gateway. Desired shapes: headless-mirror.ts.
import type { V1Service } from '@kubernetes/client-node';
import { endpointMirrorName } from '../model/mirror-naming.ts';
import { RetryableError } from './errors.ts';
import { desiredEndpointMirror, desiredHeadlessRoot, desiredHeadlessRootEndpoints, type RemoteHost } from './headless-mirror.ts';
import type { LocalRecord } from './local-record.ts';
import type { ReconcileContext } from './reconcile-context.ts';

export async function reconcileHeadless(
  ctx: ReconcileContext,
  remote: V1Service,
  hosts: RemoteHost[],
  cachedSvc: LocalRecord | undefined,
  cachedEp: LocalRecord | undefined,
): Promise<void> {
  const ns = remote.metadata?.namespace ?? '';
  const s = ctx.settings;
  const root = desiredHeadlessRoot(remote, s);
  const rootName = root.metadata?.name ?? '';
  await ctx.local.ensureService(root, cachedSvc);
  const gateway = ctx.gateway();
  const written: Array<{ hostname: string; clusterIP: string; ready: boolean }> = [];
  for (const host of hosts) {
    const { service, endpoints } = desiredEndpointMirror(remote, host, gateway, s);
    const name = service.metadata?.name ?? '';
    await ctx.local.ensureService(service, ctx.local.service(ns, name));
    await ctx.local.ensureEndpoints(endpoints, ctx.local.endpoints(ns, name));
    // The ClusterIP is assigned by the API server; the cache may not have the new object yet.
    const clusterIP = ctx.local.service(ns, name)?.clusterIP ?? (await ctx.local.readService(ns, name))?.spec?.clusterIP;
    if (!clusterIP) throw new RetryableError(`endpoint mirror ${ns}/${name} has no ClusterIP yet`);
    written.push({ hostname: host.hostname, clusterIP, ready: host.ready && gateway.alive });
  }
  await ctx.local.ensureEndpoints(desiredHeadlessRootEndpoints(remote, written, s), cachedEp);
  await deleteEndpointMirrors(ctx, ns, rootName, new Set(written.map((w) => endpointMirrorName(w.hostname, s.clusterName))));
}

/** Removes endpoint mirrors of a headless root whose remote hostnames are gone. */
export async function deleteEndpointMirrors(ctx: ReconcileContext, namespace: string, rootName: string, keep: ReadonlySet<string>): Promise<void> {
  for (const name of ctx.local.endpointMirrors(namespace, rootName)) {
    const svc = ctx.local.service(namespace, name);
    if (!svc || svc.owner !== 'mirror' || svc.headlessRoot !== rootName || keep.has(name)) continue;
    await ctx.local.deleteEndpoints(namespace, name, ctx.local.endpoints(namespace, name));
    await ctx.local.deleteService(namespace, name, svc);
  }
}
