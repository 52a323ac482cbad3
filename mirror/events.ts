// The controller's work items. Informer callbacks (added/updated/deleted on remote Services
// and EndpointSlices, local mirrors and Namespaces) are turned into these in exactly one
// place (cluster-watcher.ts); the queue stores them as string keys so a burst of changes
// to one object collapses into one reconcile.

export type MirrorEvent =
  /**
   * A remote Service, its endpoints, or its local mirror changed (or was deleted). The
   * handler recomputes the mirror from the current state of all three, so one event kind
   * serves every source and a lost intermediate event cannot leave a stale mirror.
   */
  | { kind: 'ServiceChanged'; namespace: string; name: string }
  /**
   * A remote Service's federated membership may have changed (it joined, left, or was
   * deleted): add or remove `svc@cluster` in `<svc>-federated`.
   */
  | { kind: 'FederatedChanged'; namespace: string; name: string }
  /** A local namespace appeared: mirrors that were skipped for MissingNamespace can now be made. */
  | { kind: 'NamespaceCreated'; namespace: string }
  /**
   * Gateway liveness, or its resolved addresses, changed, or the repair period elapsed:
   * re-resolve the gateway and rewrite every gateway-mode Endpoints and the probe Endpoints.
   */
  | { kind: 'GatewayChanged' }
  /**
   * A full list of the remote side succeeded: mirrors whose remote Service is gone (deleted
   * while this controller was down or disconnected) can now be removed safely. Never runs
   * on a failed or partial list, so an unreachable cluster never looks like an empty one.
   */
  | { kind: 'OrphanSweep' };

export type EventKey = `svc:${string}/${string}` | `fed:${string}/${string}` | `ns:${string}` | 'gateway' | 'orphans';

export function eventKey(e: MirrorEvent): EventKey {
  switch (e.kind) {
    case 'ServiceChanged':
      return `svc:${e.namespace}/${e.name}`;
    case 'FederatedChanged':
      return `fed:${e.namespace}/${e.name}`;
    case 'NamespaceCreated':
      return `ns:${e.namespace}`;
    case 'GatewayChanged':
      return 'gateway';
    case 'OrphanSweep':
      return 'orphans';
    default:
      return assertNever(e);
  }
}

/** The event a key stands for, or undefined for a key no event makes (logged once and dropped). */
export function decodeKey(key: string): MirrorEvent | undefined {
  if (key === 'gateway') return { kind: 'GatewayChanged' };
  if (key === 'orphans') return { kind: 'OrphanSweep' };
  if (key.startsWith('ns:')) return key.length > 3 && !key.includes('/') ? { kind: 'NamespaceCreated', namespace: key.slice(3) } : undefined;
  const kind = key.startsWith('svc:') ? 'ServiceChanged' : key.startsWith('fed:') ? 'FederatedChanged' : undefined;
  if (!kind) return undefined;
  const parts = key.slice(4).split('/');
  const [namespace, name] = parts;
  if (parts.length !== 2 || !namespace || !name) return undefined;
  return { kind, namespace, name };
}

export function assertNever(x: never): never {
  throw new Error(`unhandled event: ${JSON.stringify(x)}`);
}
