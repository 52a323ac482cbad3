// A list/watch cache that survives its API server going away. client-node's ListWatch stops
// on the first error; this restarts it with backoff, keeps the last known objects meanwhile
// (an unreachable cluster is not an empty one), relists on 410 Gone, and says when a full
// list has succeeded so that callers can tell "deleted" from "not seen yet".
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { apiErrorMessage } from './client.ts';

export type ReflectorEvent<T> =
  | { type: 'added'; object: T }
  | { type: 'updated'; object: T }
  | { type: 'deleted'; object: T }
  /** A full list succeeded; the cache now reflects the server. */
  | { type: 'listed' }
  /** The list or watch failed; the cache keeps its last known state until the next list. */
  | { type: 'error'; message: string };

export interface ReflectorOptions<T extends KubernetesObject> {
  kubeConfig: KubeConfig;
  /** Watch path, e.g. `/api/v1/services` or `/api/v1/namespaces/ns/endpoints`. */
  path: string;
  list: (labelSelector: string | undefined, fieldSelector: string | undefined) => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  /** e.g. `metadata.name=x`: lets RBAC rules restricted by resourceNames allow the watch. */
  fieldSelector?: string;
  onEvent: (event: ReflectorEvent<T>) => void;
  /** First retry delay after an error; doubles up to maxBackoffMs. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class Reflector<T extends KubernetesObject> {
  readonly #opts: ReflectorOptions<T>;
  readonly #lw: ListWatch<T>;
  #stopped = false;
  #backoff: number;
  #retry?: NodeJS.Timeout;
  #listedOnce = false;
  #listedWaiters: Array<() => void> = [];
  #lastListAt?: Date;

  constructor(opts: ReflectorOptions<T>) {
    this.#opts = opts;
    this.#backoff = opts.minBackoffMs ?? 250;
    const list = async () => {
      const result = await opts.list(opts.labelSelector, opts.fieldSelector);
      // ListWatch applies the items right after this promise settles; report once it has.
      setImmediate(() => this.#onListed());
      return result;
    };
    this.#lw = new ListWatch<T>(opts.path, new Watch(opts.kubeConfig), list, false, opts.labelSelector, opts.fieldSelector);
    this.#lw.on('add', (o) => opts.onEvent({ type: 'added', object: o }));
    this.#lw.on('update', (o) => opts.onEvent({ type: 'updated', object: o }));
    this.#lw.on('delete', (o) => opts.onEvent({ type: 'deleted', object: o }));
    this.#lw.on('error', (err?: unknown) => this.#onError(err));
  }

  start(): void {
    this.#stopped = false;
    void this.#lw.start().catch((err: unknown) => this.#onError(err));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retry) clearTimeout(this.#retry);
    await this.#lw.stop();
  }

  get hasListed(): boolean {
    return this.#listedOnce;
  }

  get lastListAt(): Date | undefined {
    return this.#lastListAt;
  }

  /** Resolves after the first successful full list. */
  listed(): Promise<void> {
    if (this.#listedOnce) return Promise.resolve();
    return new Promise((resolve) => this.#listedWaiters.push(resolve));
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#lw.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.#lw.list(namespace);
  }

  #onListed(): void {
    this.#backoff = this.#opts.minBackoffMs ?? 250;
    this.#lastListAt = new Date();
    this.#listedOnce = true;
    for (const w of this.#listedWaiters.splice(0)) w();
    this.#opts.onEvent({ type: 'listed' });
  }

  #onError(err: unknown): void {
    if (this.#stopped) return;
    this.#opts.onEvent({ type: 'error', message: apiErrorMessage(err) });
    if (this.#retry) return;
    const delay = this.#backoff * (0.8 + Math.random() * 0.4);
    this.#backoff = Math.min(this.#backoff * 2, this.#opts.maxBackoffMs ?? 10_000);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (!this.#stopped) void this.#lw.start().catch((e: unknown) => this.#onError(e));
    }, delay);
  }
}
