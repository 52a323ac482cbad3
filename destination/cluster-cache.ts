// Everything watched in one cluster (the local one, or a remote one through its credentials
// Secret): namespace caches started on first use and stopped a while after their last user
// left, so proxies that reconnect do not restart the watches.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../log/logger.ts';
import { NamespaceCache, type ServiceView } from './namespace-cache.ts';
import type { ClusterFacts } from './translate.ts';

/** How long an unused namespace stays watched. */
export const NAMESPACE_IDLE_MS = 30_000;

export interface ClusterCacheOptions {
  readonly facts: ClusterFacts;
  readonly kubeConfig: KubeConfig;
  readonly log: Logger;
  readonly onWatchError: (message: string) => void;
  readonly idleMs?: number;
}

/** One Service watched in one cluster. */
export interface ServiceWatch {
  view(): ServiceView;
  /** Whether this namespace's watches have completed a list. */
  readonly hasListed: boolean;
  /** Resolves once they have (never, while the API server is unreachable). */
  listed(): Promise<void>;
  close(): void;
}

export class ClusterCache {
  readonly facts: ClusterFacts;
  #kubeConfig: KubeConfig;
  readonly #o: ClusterCacheOptions;
  readonly #namespaces = new Map<string, { cache: NamespaceCache; idle?: NodeJS.Timeout }>();
  #stopped = false;

  constructor(o: ClusterCacheOptions) {
    this.#o = o;
    this.facts = o.facts;
    this.#kubeConfig = o.kubeConfig;
  }

  watchService(namespace: string, service: string, onChange: () => void): ServiceWatch {
    if (this.#stopped) throw new Error(`cluster cache ${this.facts.remoteName ?? 'local'} is stopped`);
    let entry = this.#namespaces.get(namespace);
    if (!entry) {
      entry = { cache: new NamespaceCache(this.#kubeConfig, namespace, (m) => this.#o.onWatchError(m), this.#o.log) };
      this.#namespaces.set(namespace, entry);
    }
    if (entry.idle) {
      clearTimeout(entry.idle);
      entry.idle = undefined;
    }
    const e = entry;
    const unlisten = e.cache.listen(service, onChange);
    let closed = false;
    return {
      view: () => e.cache.view(service),
      get hasListed() {
        return e.cache.hasListed;
      },
      listed: () => e.cache.listed(),
      close: () => {
        if (closed) return;
        closed = true;
        unlisten();
        if (e.cache.listenerCount === 0 && !this.#stopped) {
          e.idle = setTimeout(() => this.#retire(namespace, e), this.#o.idleMs ?? NAMESPACE_IDLE_MS);
          e.idle.unref();
        }
      },
    };
  }

  /** Rotated credentials: every namespace switches to them once they have listed. */
  replaceKubeConfig(kc: KubeConfig): void {
    this.#kubeConfig = kc;
    const cluster = this.facts.remoteName ?? 'local';
    for (const [namespace, { cache }] of this.#namespaces) {
      cache.replaceKubeConfig(kc, () => this.#o.log.info('namespace now watched with the new credentials', { cluster, namespace }));
    }
  }

  get stale(): boolean {
    for (const { cache } of this.#namespaces.values()) if (cache.stale) return true;
    return false;
  }

  /** Endpoints served from caches whose watch is failing. */
  staleEndpoints(): number {
    let n = 0;
    for (const { cache } of this.#namespaces.values()) if (cache.stale) n += cache.endpointCount();
    return n;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const entries = [...this.#namespaces.values()];
    this.#namespaces.clear();
    for (const e of entries) if (e.idle) clearTimeout(e.idle);
    await Promise.all(entries.map((e) => e.cache.stop()));
  }

  #retire(namespace: string, e: { cache: NamespaceCache }): void {
    if (this.#namespaces.get(namespace) !== e || e.cache.listenerCount > 0) return;
    this.#namespaces.delete(namespace);
    this.#o.log.debug('namespace no longer watched', { cluster: this.facts.remoteName ?? 'local', namespace });
    void e.cache.stop();
  }
}
