// One switch sends each domain event to its handler; an event kind without one fails to compile.
import { assertNever, type MirrorEvent } from './events.ts';
import { reconcileFederated } from './federated-reconciler.ts';
import type { ReconcileContext } from './reconcile-context.ts';
import { namespaceCreated, repairGateway, sweepOrphans } from './repair-passes.ts';
import { reconcileService } from './service-reconciler.ts';

export async function handleEvent(ctx: ReconcileContext, e: MirrorEvent): Promise<void> {
  switch (e.kind) {
    case 'ServiceChanged':
      return reconcileService(ctx, e.namespace, e.name);
    case 'FederatedChanged':
      return reconcileFederated(ctx, e.namespace, e.name);
    case 'NamespaceCreated':
      return namespaceCreated(ctx, e.namespace);
    case 'GatewayChanged':
      return repairGateway(ctx);
    case 'OrphanSweep':
      return sweepOrphans(ctx);
    default:
      return assertNever(e);
  }
}
