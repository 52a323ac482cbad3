// The periodic passes: the gateway repair (re-resolve the gateway, rewrite the probe
// Endpoints, re-check every gateway-mode mirror) and the orphan sweep (mirrors whose remote
// Service went away while nobody watched), plus a new namespace's waiting mirrors.
import { isAuthFailure } from '../kube/client.ts';
import { membershipOf } from '../model/federated-membership.ts';
import { exportModeOf } from '../model/remote-selector.ts';
import { desiredProbeEndpoints } from './mirror-objects.ts';
import { memberNames } from './federated-reconciler.ts';
import type { ReconcileContext } from './reconcile-context.ts';

export async function repairGateway(ctx: ReconcileContext): Promise<void> {
  const resolved = await ctx.resolveGateway();
  const before = ctx.gateway().addresses;
  if (resolved.addresses.length > 0 && resolved.addresses.join(',') !== before.join(',')) {
    ctx.log.info('gateway address changed', { from: before.join(','), to: resolved.addresses.join(','), reason: resolved.source });
    ctx.setGatewayAddresses(resolved.addresses);
  } else {
    ctx.setGatewayAddresses([...before]);
  }
  // The repair pass doubles as a credentials check: an open watch outlives a revoked token.
  const status = resolved.remoteError?.status;
  if (isAuthFailure(status)) {
    ctx.status.setLinkCondition(
      'CredentialsValid',
      'False',
      'Rejected',
      `the remote API server rejected the credentials: ${resolved.remoteError?.message}. ` +
        'Re-run `multicluster link` against the target cluster and apply its output',
    );
  } else if (!resolved.remoteError) {
    ctx.status.setLinkCondition('CredentialsValid', 'True', 'Accepted', 'the remote API server accepted the credentials');
  }
  if (resolved.unresolved.length > 0) ctx.log.warn('gateway hostnames did not resolve', { reason: resolved.unresolved.join(',') });
  if (ctx.probePort !== undefined) {
    const addresses = ctx.gateway().addresses;
    await ctx.local.ensureProbeEndpoints(desiredProbeEndpoints(ctx.linkName, ctx.namespace, addresses, ctx.probePort, ctx.settings));
  }
  for (const svc of ctx.remote.services()) {
    if (exportModeOf(svc, ctx.selectors, true) === 'gateway') {
      ctx.enqueue({ kind: 'ServiceChanged', namespace: svc.metadata?.namespace ?? '', name: svc.metadata?.name ?? '' }, 'background');
    }
  }
  ctx.metrics.endpointRepairs.inc({ target_cluster_name: ctx.settings.clusterName });
}

export function sweepOrphans(ctx: ReconcileContext): void {
  if (ctx.remote.federatedListed) {
    // Members this cluster no longer exports, e.g. removed while the controller was down.
    for (const fed of ctx.local.federatedServices()) {
      const namespace = fed.metadata?.namespace ?? '';
      for (const name of memberNames(membershipOf(fed), ctx.settings.clusterName)) {
        if (!ctx.remote.federated(namespace, name)) ctx.enqueue({ kind: 'FederatedChanged', namespace, name });
      }
    }
  }
  if (!ctx.remote.listed) return;
  for (const svc of ctx.local.mirrors()) {
    const ref = svc.remote;
    if (!ref) continue;
    const remote = ctx.remote.service(ref.namespace, ref.name);
    if (!remote || !exportModeOf(remote, ctx.selectors, ctx.hasGateway)) ctx.enqueue({ kind: 'ServiceChanged', ...ref });
  }
}

export function namespaceCreated(ctx: ReconcileContext, namespace: string): void {
  for (const svc of ctx.remote.services(namespace)) ctx.enqueue({ kind: 'ServiceChanged', namespace, name: svc.metadata?.name ?? '' });
  for (const svc of ctx.remote.federatedServices(namespace)) ctx.enqueue({ kind: 'FederatedChanged', namespace, name: svc.metadata?.name ?? '' });
}
