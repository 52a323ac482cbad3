// One requested Service port, shared by every Get stream that asks for it: it watches the
// Services that make it up (sources.ts), recomputes the endpoint set when any of them
// changes, diffs it once against what the streams were told, encodes the diff once and
// hands the same bytes to every stream.
import type { Logger } from '../log/logger.ts';
import { errorMessage } from '../log/logger.ts';
import { diffUpdates, EMPTY_STATE, snapshotUpdates, type SentState } from './address-set.ts';
import type { ClusterCache, ServiceWatch } from './cluster-cache.ts';
import type { ClusterStore } from './cluster-store.ts';
import { NotSyncedError, UnknownClusterError, UnknownPortError, UnknownServiceError, within } from './errors.ts';
import { resolutionMode, sourcesOf, type Source } from './sources.ts';
import type { ServiceTarget } from './target.ts';
import { servicePort, translateEndpoints, type SliceCache } from './translate.ts';
import type { DesiredSet, EndpointGroup, Update } from './types.ts';

/** Where the messages of a Get stream go. */
export interface UpdateSink {
  send(messages: readonly EncodedUpdate[]): void;
}

export interface EncodedUpdate {
  readonly update: Update;
  readonly bytes: Buffer;
}

export interface ResolutionDeps {
  readonly local: ClusterCache;
  readonly store: ClusterStore;
  readonly encode: (u: Update) => Buffer;
  readonly log: Logger;
  /** How long a new resolution waits for its remote watches' first list before it answers anyway. */
  readonly firstListWaitMs: number;
  /** How long a request waits for the local namespace's first list before it is refused as UNAVAILABLE. */
  readonly localListWaitMs: number;
}

export class Resolution {
  readonly #deps: ResolutionDeps;
  readonly #target: ServiceTarget;
  readonly #self: ServiceWatch;
  readonly #sources = new Map<string, { source: Source; watch?: ServiceWatch; cache?: ClusterCache }>();
  readonly #sinks = new Set<UpdateSink>();
  readonly #unsubscribeStore: () => void;
  #state: SentState = EMPTY_STATE;
  #current: DesiredSet = { exists: false, groups: [] };
  #snapshot?: EncodedUpdate[];
  readonly #sliceCache: SliceCache = new WeakMap();
  #scheduled = false;
  #closed = false;

  private constructor(deps: ResolutionDeps, target: ServiceTarget, self: ServiceWatch) {
    this.#deps = deps;
    this.#target = target;
    this.#self = self;
    this.#unsubscribeStore = deps.store.subscribe((cluster) => this.#onCluster(cluster));
  }

  /** Resolves the target or throws why it cannot be (unknown Service, port or cluster). */
  static async open(deps: ResolutionDeps, target: ServiceTarget): Promise<Resolution> {
    let r: Resolution | undefined;
    const self = deps.local.watchService(target.namespace, target.name, () => r?.schedule());
    try {
      const what = `${target.namespace}/${target.name}`;
      await within(
        self.listed(),
        deps.localListWaitMs,
        () => new NotSyncedError(`the local API server has not listed namespace ${target.namespace} yet`),
      );
      const svc = self.view().service;
      if (!svc) throw new UnknownServiceError(`Service ${what} not found`);
      if (!servicePort(svc, target.port)) throw new UnknownPortError(`Service ${what} has no port ${target.port}`);
      if (resolutionMode(svc) === 'remote-discovery') {
        const cluster = sourcesOf(svc)[0]?.cluster ?? '';
        if (!deps.store.get(cluster))
          throw new UnknownClusterError(`Service ${what} is mirrored from cluster "${cluster}", whose credentials are unknown`);
      }
      r = new Resolution(deps, target, self);
      r.#syncSources();
      await r.#firstLists();
      r.#recompute();
      return r;
    } catch (err) {
      if (r) r.close();
      else self.close();
      throw err;
    }
  }

  get sinkCount(): number {
    return this.#sinks.size;
  }

  /** Adds a stream: it is sent the current set at once, then every change. */
  attach(sink: UpdateSink): void {
    this.#snapshot ??= snapshotUpdates(this.#current).map((update) => ({ update, bytes: this.#deps.encode(update) }));
    this.#sinks.add(sink);
    sink.send(this.#snapshot);
  }

  detach(sink: UpdateSink): void {
    this.#sinks.delete(sink);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribeStore();
    this.#self.close();
    for (const s of this.#sources.values()) s.watch?.close();
    this.#sources.clear();
  }

  schedule(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      if (this.#closed) return;
      try {
        this.#syncSources();
        this.#recompute();
      } catch (err) {
        this.#deps.log.error('recomputing endpoints failed', { object: `${this.#target.namespace}/${this.#target.name}`, reason: errorMessage(err) });
      }
    });
  }

  #onCluster(cluster: string): void {
    let affected = false;
    for (const [key, s] of this.#sources) {
      if (s.source.cluster !== cluster) continue;
      affected = true;
      // The cache may be gone (credentials removed) or replaced (domains changed): watch again.
      s.watch?.close();
      this.#sources.set(key, { source: s.source });
    }
    if (affected) this.schedule();
  }

  /** Follows the local Service: a mirror converted between modes, members joining or leaving. */
  #syncSources(): void {
    const svc = this.#self.view().service;
    const wanted = new Map((svc ? sourcesOf(svc) : []).map((s) => [s.key, s]));
    for (const [key, s] of this.#sources) {
      if (!wanted.has(key) || JSON.stringify(wanted.get(key)) !== JSON.stringify(s.source)) {
        s.watch?.close();
        this.#sources.delete(key);
      }
    }
    for (const [key, source] of wanted) {
      const existing = this.#sources.get(key);
      if (existing?.watch) continue;
      const cache = source.cluster === undefined ? this.#deps.local : this.#deps.store.get(source.cluster);
      const watch = cache?.watchService(source.namespace, source.service, () => this.schedule());
      this.#sources.set(key, { source, watch, cache });
    }
  }

  async #firstLists(): Promise<void> {
    const pending = [...this.#sources.values()].flatMap((s) => (s.watch && !s.watch.hasListed ? [s.watch.listed()] : []));
    if (pending.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    // An unreachable remote must not hold the stream: answer with what is known, then follow.
    await Promise.race([Promise.all(pending), new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#deps.firstListWaitMs)))]);
    clearTimeout(timer);
  }

  #desired(): DesiredSet {
    const svc = this.#self.view().service;
    if (!svc) return { exists: false, groups: [] };
    const groups: EndpointGroup[] = [];
    for (const { source, watch, cache } of this.#sources.values()) {
      // A watch started afresh (a cluster re-added with new domains) knows nothing until it has
      // listed: keep what the streams were told rather than removing it all and adding it back.
      const previous = this.#current.groups.find((g) => g.key === source.key);
      if (watch && !watch.hasListed && previous) {
        groups.push(previous);
        continue;
      }
      const view = watch?.view();
      const endpoints =
        view?.service && cache
          ? (translateEndpoints(
              { service: view.service, port: this.#target.port, slices: view.slices, pod: view.pod, cluster: cache.facts },
              this.#sliceCache,
            ) ?? [])
          : [];
      groups.push({ key: source.key, setLabels: source.setLabels, endpoints });
    }
    return { exists: true, groups };
  }

  #recompute(): void {
    const next = this.#desired();
    const { updates, state } = diffUpdates(this.#state, next);
    this.#state = state;
    this.#current = next;
    if (updates.length === 0) return;
    this.#snapshot = undefined;
    const encoded = updates.map((update) => ({ update, bytes: this.#deps.encode(update) }));
    for (const sink of [...this.#sinks]) sink.send(encoded);
  }
}
