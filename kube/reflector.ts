// A list/watch cache that survives its API server going away. client-node's ListWatch loses
// errors raised while re-establishing a watch (the reflector then silently stops), so this
// runs its own loop over client-node's Watch: list, watch from that resourceVersion, on
// 410 Gone relist, on any other failure back off and try again. The last known objects are
// kept meanwhile (an unreachable cluster is not an empty one); deletions are only inferred
// from a successful full list.
import { Watch, type CustomObjectsApi, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { Backoff } from '../retry/backoff.ts';
import { apiErrorMessage, apiStatus } from './client.ts';

export type ReflectorEvent<T> =
  | { type: 'added'; object: T }
  | { type: 'updated'; object: T; previous: T }
  | { type: 'deleted'; object: T }
  /** A full list succeeded; the cache now reflects the server. */
  | { type: 'listed' }
  /**
   * The list or watch failed; the cache keeps its last known state until the next list.
   * `status` is the API server's HTTP status when it answered (401 and 403: the credentials).
   */
  | { type: 'error'; message: string; status?: number };

/** What a list call receives; the names match client-node's list parameters. */
export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  limit: number;
  _continue?: string;
}

/** Objects per list page: a relist of thousands never holds one huge response in memory. */
const LIST_PAGE_SIZE = 500;

interface ReflectorBaseOptions<T extends KubernetesObject, C extends KubernetesObject> {
  kubeConfig: KubeConfig;
  /** Watch path, e.g. `/api/v1/services` or `/api/v1/namespaces/ns/endpoints`. */
  path: string;
  list: (query: ListQuery) => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  /** e.g. `metadata.name=x`: lets RBAC rules restricted by resourceNames allow the watch. */
  fieldSelector?: string;
  onEvent: (event: ReflectorEvent<C>) => void;
  /** First retry delay after an error; doubles up to maxBackoffMs. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Server-side watch timeout; a fresh watch after it also catches silently dead connections. */
  watchTimeoutSeconds?: number;
}

/**
 * What the cache keeps of each object (default: all of it but managedFields). It must keep
 * name, namespace and resourceVersion: the cache is keyed by the first two and skips
 * unchanged objects by the last. Required whenever the cached type is not the listed one.
 */
type Projection<T, C> = [T] extends [C] ? ([C] extends [T] ? { project?: (obj: T) => C } : { project: (obj: T) => C }) : { project: (obj: T) => C };

export type ReflectorOptions<T extends KubernetesObject, C extends KubernetesObject = T> = ReflectorBaseOptions<T, C> & Projection<T, C>;

class GoneError extends Error {
  override readonly name = 'GoneError';
}

/** A watch ERROR event: the API server's Status, with its code where apiStatus finds it. */
class WatchStatusError extends Error {
  override readonly name = 'WatchStatusError';
  constructor(
    message: string,
    readonly statusCode: number | undefined,
  ) {
    super(message);
  }
}

export class Reflector<T extends KubernetesObject, C extends KubernetesObject = T> {
  readonly #opts: ReflectorOptions<T, C>;
  readonly #watch: Watch;
  readonly #timeoutSeconds: number;
  readonly #objects = new Map<string, Map<string, C>>();
  #resourceVersion = '';
  #stopped = true;
  #abort?: AbortController;
  #sleep?: { timer: NodeJS.Timeout; resolve: () => void };
  #loop?: Promise<void>;
  #listedOnce = false;
  #listedWaiters: Array<() => void> = [];

  constructor(opts: ReflectorOptions<T, C>) {
    this.#opts = opts;
    this.#watch = new Watch(opts.kubeConfig);
    this.#timeoutSeconds = opts.watchTimeoutSeconds ?? 240 + Math.floor(Math.random() * 60);
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort?.abort();
    if (this.#sleep) {
      clearTimeout(this.#sleep.timer);
      this.#sleep.resolve();
    }
    await this.#loop;
  }

  get hasListed(): boolean {
    return this.#listedOnce;
  }

  /** Resolves after the first successful full list. */
  listed(): Promise<void> {
    if (this.#listedOnce) return Promise.resolve();
    return new Promise((resolve) => this.#listedWaiters.push(resolve));
  }

  get(name: string, namespace?: string): C | undefined {
    return this.#objects.get(namespace ?? '')?.get(name);
  }

  list(namespace?: string): C[] {
    if (namespace !== undefined) return [...(this.#objects.get(namespace)?.values() ?? [])];
    const out: C[] = [];
    for (const m of this.#objects.values()) out.push(...m.values());
    return out;
  }

  async #run(): Promise<void> {
    const backoff = new Backoff({ baseMs: this.#opts.minBackoffMs ?? 250, capMs: this.#opts.maxBackoffMs ?? 10_000, jitter: 0.4 });
    while (!this.#stopped) {
      try {
        if (!this.#resourceVersion) await this.#relist();
        await this.#watchOnce();
        backoff.reset();
      } catch (err) {
        if (this.#stopped) break;
        if (err instanceof GoneError || apiStatus(err) === 410) {
          this.#resourceVersion = '';
          continue;
        }
        // Relist once the server answers again: a successful list is the only proof it is
        // back (a watch request can be accepted before it fails), and after a long outage
        // the old resourceVersion may be compacted anyway.
        this.#resourceVersion = '';
        this.#opts.onEvent({ type: 'error', message: apiErrorMessage(err), status: apiStatus(err) });
        await this.#pause(backoff.next());
      }
    }
  }

  async #relist(): Promise<void> {
    const seen = new Set<string>();
    let resourceVersion = '';
    let next: string | undefined;
    do {
      const page = await this.#opts.list({
        labelSelector: this.#opts.labelSelector,
        fieldSelector: this.#opts.fieldSelector,
        limit: LIST_PAGE_SIZE,
        _continue: next,
      });
      for (const obj of page.items) {
        seen.add(keyOf(obj));
        this.#upsert(obj);
      }
      resourceVersion = page.metadata?.resourceVersion ?? '';
      next = page.metadata?._continue || undefined;
    } while (next);
    // Only a complete list proves an absence.
    for (const obj of this.list()) {
      if (!seen.has(keyOf(obj))) this.#remove(obj);
    }
    this.#resourceVersion = resourceVersion;
    this.#listedOnce = true;
    for (const w of this.#listedWaiters.splice(0)) w();
    this.#opts.onEvent({ type: 'listed' });
  }

  #watchOnce(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      // The server ends a watch after timeoutSeconds; if it went silent (a partition leaves
      // the TCP connection open), give up a little later and reconnect.
      const deadline = setTimeout(
        () => finish(new Error(`watch of ${this.#opts.path} got no end from the server within ${this.#timeoutSeconds + 30}s`)),
        (this.#timeoutSeconds + 30) * 1000,
      );
      const finish = (err?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        this.#abort?.abort();
        if (err) reject(err instanceof Error ? err : new Error(apiErrorMessage(err)));
        else resolve();
      };
      const query: Record<string, string | number | boolean> = {
        resourceVersion: this.#resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: this.#timeoutSeconds,
      };
      if (this.#opts.labelSelector) query['labelSelector'] = this.#opts.labelSelector;
      if (this.#opts.fieldSelector) query['fieldSelector'] = this.#opts.fieldSelector;
      this.#watch
        .watch(
          this.#opts.path,
          query,
          (phase: string, obj: unknown) => {
            if (settled) return;
            if (phase === 'ERROR') {
              const status = obj as { code?: number; message?: string } | undefined;
              const code = status?.code;
              finish(
                code === 410 ? new GoneError('watch expired') : new WatchStatusError(`watch error: ${status?.message ?? JSON.stringify(obj)}`, code),
              );
              return;
            }
            const o = obj as T;
            const rv = o.metadata?.resourceVersion;
            if (phase === 'ADDED' || phase === 'MODIFIED') this.#upsert(o);
            else if (phase === 'DELETED') this.#remove(o);
            if (rv) this.#resourceVersion = rv;
          },
          (err: unknown) => finish(err ?? undefined),
        )
        .then(
          (controller) => {
            this.#abort = controller;
            if (this.#stopped) finish();
          },
          (err: unknown) => finish(err),
        );
    });
  }

  #upsert(received: T): void {
    // Nothing here reads managedFields, and at thousands of objects they are most of the cache.
    if (received.metadata?.managedFields) delete received.metadata.managedFields;
    // Without a projection the cache holds the object itself: Projection allows that only when C is T.
    const project: ((obj: T) => C) | undefined = this.#opts.project;
    const obj = project ? project(received) : (received as unknown as C);
    const ns = obj.metadata?.namespace ?? '';
    const name = obj.metadata?.name ?? '';
    let m = this.#objects.get(ns);
    if (!m) this.#objects.set(ns, (m = new Map<string, C>()));
    const prev = m.get(name);
    m.set(name, obj);
    if (!prev) this.#opts.onEvent({ type: 'added', object: obj });
    else if (prev.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.#opts.onEvent({ type: 'updated', object: obj, previous: prev });
  }

  /** Drops the cached copy of `obj` and reports that copy (what the cache knew) as deleted. */
  #remove(obj: KubernetesObject): void {
    const ns = obj.metadata?.namespace ?? '';
    const name = obj.metadata?.name ?? '';
    const m = this.#objects.get(ns);
    const cached = m?.get(name);
    if (m && cached) {
      m.delete(name);
      if (m.size === 0) this.#objects.delete(ns);
      this.#opts.onEvent({ type: 'deleted', object: cached });
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#sleep = { timer: setTimeout(resolve, ms), resolve };
    });
  }
}

function keyOf(o: KubernetesObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

/**
 * One page of custom objects as a typed list. The custom-objects API returns raw JSON, whose
 * continue token is `continue`, not the `_continue` client-node's typed lists carry.
 */
export async function customObjectPage<T extends KubernetesObject>(
  api: CustomObjectsApi,
  ref: { group: string; version: string; namespace: string; plural: string },
  query: ListQuery,
): Promise<KubernetesListObject<T>> {
  const res = (await api.listNamespacedCustomObject({ ...ref, ...query })) as {
    items?: T[];
    metadata?: { resourceVersion?: string; continue?: string };
  };
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: res.items ?? [],
    metadata: { resourceVersion: res.metadata?.resourceVersion, _continue: res.metadata?.continue },
  };
}
