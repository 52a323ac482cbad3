// Informer callbacks → domain events: the only place this translation happens. Every
// reflector event of a Link's caches comes here and leaves as queue keys (events.ts), plus
// the Link conditions that describe the remote API server's answers.
import type { V1EndpointSlice, V1Namespace, V1Service } from '@kubernetes/client-node';
import { isAuthFailure } from '../kube/client.ts';
import type { ReflectorEvent } from '../kube/reflector.ts';
import type { Logger } from '../log/logger.ts';
import type { RemoteRef } from '../model/remote-service.ts';
import { sliceService } from './cache-indexes.ts';
import { assertNever, type MirrorEvent } from './events.ts';
import type { LocalRecord } from './local-record.ts';
import type { MirrorMetrics } from './metrics.ts';
import type { StatusSink } from './reconcile-context.ts';
import type { Priority } from './work-queue.ts';

export interface EventRouterOptions {
  cluster: string;
  enqueue: (e: MirrorEvent, priority?: Priority) => void;
  /** Whether the remote Service is exported (cached): only then do its slices matter. */
  isExported: (namespace: string, name: string) => boolean;
  status: StatusSink;
  metrics: MirrorMetrics;
  log: Logger;
}

export class EventRouter {
  readonly #o: EventRouterOptions;
  /** `ns/name` of local Services in a mirror's way → the remote Service waiting for the name. */
  readonly collisions = new Map<string, RemoteRef>();
  /** Local Services that are this Link's mirrors (the `mirrors` gauge). */
  #ownedMirrors = 0;

  constructor(o: EventRouterOptions) {
    this.#o = o;
  }

  get ownedMirrors(): number {
    return this.#ownedMirrors;
  }

  onRemoteService(e: ReflectorEvent<V1Service>): void {
    const labels = { target_cluster_name: this.#o.cluster };
    switch (e.type) {
      case 'added':
      case 'updated':
      case 'deleted':
        this.#o.enqueue({ kind: 'ServiceChanged', namespace: e.object.metadata?.namespace ?? '', name: e.object.metadata?.name ?? '' });
        return;
      case 'listed':
        this.#o.metrics.remoteReachable.set(labels, 1);
        this.#o.status.setLinkCondition('RemoteReachable', 'True', 'Connected', 'the remote API server answers list and watch requests');
        this.#o.status.setLinkCondition('CredentialsValid', 'True', 'Accepted', 'the remote API server accepted the credentials');
        this.#o.enqueue({ kind: 'OrphanSweep' });
        return;
      case 'error': {
        this.#o.metrics.remoteReachable.set(labels, 0);
        const denied = isAuthFailure(e.status);
        if (denied) {
          this.#o.status.setLinkCondition(
            'CredentialsValid',
            'False',
            'Rejected',
            `the remote API server rejected the credentials: ${e.message}. Re-run \`multicluster link\` against the target cluster and apply its output`,
          );
        }
        this.#o.status.setLinkCondition(
          'RemoteReachable',
          'False',
          denied ? 'Unauthorized' : 'Unreachable',
          `${e.message}; mirrors are kept until the remote cluster answers again`,
        );
        this.#o.log.warn('remote watch failed; keeping mirrors and retrying', { reason: e.message, status: e.status });
        return;
      }
      default:
        assertNever(e);
    }
  }

  onRemoteFederated(e: ReflectorEvent<V1Service>): void {
    if (e.type === 'listed') this.#o.enqueue({ kind: 'OrphanSweep' });
    if (e.type === 'added' || e.type === 'updated' || e.type === 'deleted') {
      this.#o.enqueue({ kind: 'FederatedChanged', namespace: e.object.metadata?.namespace ?? '', name: e.object.metadata?.name ?? '' });
    }
  }

  /** A slice of a Service that is not exported changes nothing; an exported one's Service event reads its slices anyway. */
  onRemoteSlice(e: ReflectorEvent<V1EndpointSlice>): void {
    if (e.type === 'listed' || e.type === 'error') return;
    const svc = sliceService(e.object) ?? (e.type === 'updated' ? sliceService(e.previous) : undefined);
    if (svc && this.#o.isExported(svc.namespace, svc.name)) this.#o.enqueue({ kind: 'ServiceChanged', ...svc });
  }

  onLocalService(e: ReflectorEvent<LocalRecord>): void {
    if (e.type === 'deleted' && e.object.owner === 'foreign') {
      // The Service that blocked a mirror is gone: mirror now, not at the next repair pass.
      const key = `${e.object.metadata.namespace}/${e.object.metadata.name}`;
      const waiting = this.collisions.get(key);
      if (waiting) {
        this.collisions.delete(key);
        this.#o.enqueue({ kind: 'ServiceChanged', ...waiting });
      }
    }
    if (e.type === 'added' && e.object.owner === 'mirror') this.#ownedMirrors++;
    else if (e.type === 'deleted' && e.object.owner === 'mirror') this.#ownedMirrors--;
    else if (e.type === 'updated' && e.previous.owner !== e.object.owner) {
      if (e.object.owner === 'mirror') this.#ownedMirrors++;
      else if (e.previous.owner === 'mirror') this.#ownedMirrors--;
    }
    this.onLocalMirror(e);
  }

  /** Someone else changed or deleted one of our mirrors: converge it back. */
  onLocalMirror(e: ReflectorEvent<LocalRecord>): void {
    if (e.type === 'listed' || e.type === 'error') {
      this.#o.metrics.mirrors.set({ target_cluster_name: this.#o.cluster }, this.#ownedMirrors);
      return;
    }
    const ref = e.object.remote ?? (e.type === 'updated' ? e.previous.remote : undefined);
    // Most additions and updates are the echo of our own writes: re-check them after real
    // changes. A deleted mirror is restored at once.
    if (ref) this.#o.enqueue({ kind: 'ServiceChanged', ...ref }, e.type === 'deleted' ? 'event' : 'background');
  }

  onLocalFederated(e: ReflectorEvent<V1Service>): void {
    if (e.type === 'listed') this.#o.enqueue({ kind: 'OrphanSweep' });
  }

  onNamespace(e: ReflectorEvent<V1Namespace>): void {
    if (e.type === 'added') this.#o.enqueue({ kind: 'NamespaceCreated', namespace: e.object.metadata?.name ?? '' });
  }
}
