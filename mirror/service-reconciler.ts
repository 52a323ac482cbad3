// The ordinary mirror of one remote Service: gateway mode (a ClusterIP Service plus Endpoints
// at the gateway), remote-discovery mode (the Service only), or nothing once it is no longer
// exported. Headless Services with pod hostnames go to headless-reconciler.ts.
import { mirrorName } from '../model/remote-service.ts';
import { exportModeOf } from '../model/remote-selector.ts';
import { MissingNamespaceError } from './errors.ts';
import { deleteEndpointMirrors, reconcileHeadless } from './headless-reconciler.ts';
import { isHeadless, remoteHosts } from './headless-mirror.ts';
import type { WriteResult } from './local-api.ts';
import { desiredGatewayEndpoints, desiredMirrorService } from './mirror-objects.ts';
import type { ReconcileContext } from './reconcile-context.ts';

export async function reconcileService(ctx: ReconcileContext, namespace: string, name: string): Promise<void> {
  const remote = ctx.remote.service(namespace, name);
  const mode = remote ? exportModeOf(remote, ctx.selectors, ctx.hasGateway) : undefined;
  const local = mirrorName({ namespace, name }, ctx.settings);
  // Recorded again (outcome-reporter.ts) if this attempt finds the name still taken.
  ctx.collisions.delete(`${namespace}/${local}`);
  const cachedSvc = ctx.local.service(namespace, local);
  const cachedEp = ctx.local.endpoints(namespace, local);

  if (!remote || !mode) {
    // "Not in the cache" means "not exported" only once the remote side has been listed.
    if (!ctx.remote.listed) return;
    // Endpoint mirrors exist only under a headless root; skip the scan otherwise (hot path).
    if (cachedSvc?.headless || (!cachedSvc && ctx.enableHeadlessServices)) await deleteEndpointMirrors(ctx, namespace, local, new Set());
    const epResult = cachedEp ? await ctx.local.deleteEndpoints(namespace, local, cachedEp) : 'absent';
    const svcResult = cachedSvc ? await ctx.local.deleteService(namespace, local, cachedSvc) : 'absent';
    if (svcResult === 'deleted' || epResult === 'deleted') {
      ctx.log.info('mirror removed', { object: `${namespace}/${local}`, reason: remote ? 'Unexported' : 'RemoteDeleted' });
    }
    ctx.status.clearMirror({ namespace, name });
    return;
  }

  await ensureNamespace(ctx, namespace);
  if (mode === 'gateway' && ctx.enableHeadlessServices && isHeadless(remote)) {
    const hosts = remoteHosts(ctx.remote.slices(namespace, name));
    // Without pod hostnames there is nothing to address per pod: mirror it as ClusterIP (upstream does the same).
    if (hosts.length > 0) {
      await reconcileHeadless(ctx, remote, hosts, cachedSvc, cachedEp);
      ctx.status.setMirror({ namespace, name }, { namespace, name: local }, 'Mirrored', '');
      return;
    }
  }
  if (cachedSvc?.headless) await deleteEndpointMirrors(ctx, namespace, local, new Set());
  if (cachedSvc?.owner === 'foreign' && cachedEp) {
    // Mirror Endpoints beside someone else's Service (a lost race in createMirror): never leave them.
    await ctx.local.deleteEndpoints(namespace, local, cachedEp);
  }
  const desiredSvc = desiredMirrorService(remote, mode, ctx.settings);
  let svcResult: WriteResult;
  let epResult: WriteResult = 'absent';
  if (mode === 'gateway') {
    const desiredEp = desiredGatewayEndpoints(remote, remoteReady(ctx, namespace, name), ctx.gateway(), ctx.settings);
    if (!cachedSvc && !cachedEp) {
      ({ service: svcResult, endpoints: epResult } = await ctx.local.createMirror(desiredSvc, desiredEp));
    } else {
      svcResult = await ctx.local.ensureService(desiredSvc, cachedSvc);
      epResult = await ctx.local.ensureEndpoints(desiredEp, cachedEp);
    }
  } else {
    svcResult = await ctx.local.ensureService(desiredSvc, cachedSvc);
    if (cachedEp) epResult = await ctx.local.deleteEndpoints(namespace, local, cachedEp);
  }
  if (svcResult !== 'unchanged' || (epResult !== 'unchanged' && epResult !== 'absent')) {
    ctx.log.info('mirror written', { object: `${namespace}/${local}`, reason: `${mode}: service ${svcResult}, endpoints ${epResult}` });
  }
  ctx.status.setMirror({ namespace, name }, { namespace, name: local }, 'Mirrored', '');
}

export async function ensureNamespace(ctx: ReconcileContext, namespace: string): Promise<void> {
  if (ctx.local.hasNamespace(namespace)) return;
  if (!ctx.enableNamespaceCreation) {
    throw new MissingNamespaceError(
      `namespace ${namespace} does not exist in the local cluster: ` +
        'create it (the mirror appears at once) or run the controller with --enable-namespace-creation',
    );
  }
  await ctx.local.createNamespace(namespace);
}

/** Whether any endpoint of the remote Service is ready, in any of its slices. */
function remoteReady(ctx: ReconcileContext, namespace: string, name: string): boolean {
  return ctx.remote.slices(namespace, name).some((slice) => slice.endpoints?.some((ep) => ep.conditions?.ready !== false));
}
