// One cluster's Services, EndpointSlices and Pods of one namespace, watched while some
// stream needs a Service there. Changes are coalesced per Service and reported to the
// Service's listeners after the current burst of watch events (a relist, a slice rewrite).
import { CoreV1Api, DiscoveryV1Api, type KubeConfig, type V1EndpointSlice, type V1Pod, type V1Service } from '@kubernetes/client-node';
import { Reflector, type ReflectorEvent } from '../kube/reflector.ts';
import { errorMessage, type Logger } from '../log/logger.ts';
import { podShape, serviceShape, sliceShape } from './cache-shapes.ts';
import { sliceService } from './translate.ts';

/** What one Service's resolution reads from the cache. */
export interface ServiceView {
  readonly service: V1Service | undefined;
  readonly slices: readonly V1EndpointSlice[];
  readonly pod: (name: string) => V1Pod | undefined;
}

type Listener = () => void;

/** The three watches of one namespace, built from one set of credentials. */
class ReflectorSet {
  readonly services: Reflector<V1Service>;
  readonly slices: Reflector<V1EndpointSlice>;
  readonly pods: Reflector<V1Pod>;
  readonly #failing = new Set<string>();

  constructor(
    kc: KubeConfig,
    ns: string,
    on: {
      service: (e: ReflectorEvent<V1Service>) => void;
      slice: (e: ReflectorEvent<V1EndpointSlice>) => void;
      pod: (e: ReflectorEvent<V1Pod>) => void;
      error: (message: string) => void;
      listed: () => void;
    },
  ) {
    const core = kc.makeApiClient(CoreV1Api);
    const discovery = kc.makeApiClient(DiscoveryV1Api);
    const health =
      <T>(kind: string, handler: (e: ReflectorEvent<T>) => void) =>
      (e: ReflectorEvent<T>) => {
        if (e.type === 'error') {
          this.#failing.add(kind);
          on.error(e.message);
        } else if (e.type === 'listed') {
          this.#failing.delete(kind);
          on.listed();
        }
        handler(e);
      };
    this.services = new Reflector<V1Service>({
      kubeConfig: kc,
      path: `/api/v1/namespaces/${ns}/services`,
      list: (q) => core.listNamespacedService({ namespace: ns, ...q }),
      project: serviceShape,
      onEvent: health('services', on.service),
    });
    this.slices = new Reflector<V1EndpointSlice>({
      kubeConfig: kc,
      path: `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`,
      list: (q) => discovery.listNamespacedEndpointSlice({ namespace: ns, ...q }),
      project: sliceShape,
      onEvent: health('slices', on.slice),
    });
    this.pods = new Reflector<V1Pod>({
      kubeConfig: kc,
      path: `/api/v1/namespaces/${ns}/pods`,
      list: (q) => core.listNamespacedPod({ namespace: ns, ...q }),
      project: podShape,
      onEvent: health('pods', on.pod),
    });
  }

  /** True while a watch failed and has not listed again since: what is cached may be out of date. */
  get stale(): boolean {
    return this.#failing.size > 0;
  }

  get hasListed(): boolean {
    return this.services.hasListed && this.slices.hasListed && this.pods.hasListed;
  }

  start(): void {
    for (const r of [this.services, this.slices, this.pods]) r.start();
  }

  async listed(): Promise<void> {
    await Promise.all([this.services.listed(), this.slices.listed(), this.pods.listed()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.services.stop(), this.slices.stop(), this.pods.stop()]);
  }
}

export class NamespaceCache {
  readonly #ns: string;
  readonly #onError: (message: string) => void;
  readonly #log: Logger;
  #current: ReflectorSet;
  #next?: ReflectorSet;
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #slicesByService = new Map<string, Map<string, V1EndpointSlice>>();
  readonly #servicesByPod = new Map<string, Set<string>>();
  readonly #pending = new Set<string>();
  #flushScheduled = false;
  #stopped = false;

  constructor(kc: KubeConfig, ns: string, onError: (message: string) => void, log: Logger) {
    this.#ns = ns;
    this.#onError = onError;
    this.#log = log;
    this.#current = this.#makeSet(kc);
    this.#current.start();
  }

  get listenerCount(): number {
    let n = 0;
    for (const s of this.#listeners.values()) n += s.size;
    return n;
  }

  get stale(): boolean {
    return this.#current.stale;
  }

  get hasListed(): boolean {
    return this.#current.hasListed;
  }

  listed(): Promise<void> {
    return this.#current.listed();
  }

  /** Ready endpoints cached for this namespace (reported as stale while the watch fails). */
  endpointCount(): number {
    let n = 0;
    for (const m of this.#slicesByService.values()) for (const s of m.values()) n += s.endpoints?.length ?? 0;
    return n;
  }

  listen(service: string, fn: Listener): () => void {
    let set = this.#listeners.get(service);
    if (!set) this.#listeners.set(service, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0) this.#listeners.delete(service);
    };
  }

  view(service: string): ServiceView {
    const set = this.#current;
    return {
      service: set.services.get(service, this.#ns),
      slices: [...(this.#slicesByService.get(service)?.values() ?? [])],
      pod: (name) => set.pods.get(name, this.#ns),
    };
  }

  /**
   * New credentials: watch with them, and switch over once they have listed everything, so
   * the streams see no gap. If they never list (bad credentials), the old watches keep going.
   */
  replaceKubeConfig(kc: KubeConfig, onSwitched: () => void): void {
    void this.#next?.stop();
    const next = this.#makeSet(kc);
    this.#next = next;
    next.start();
    void next.listed().then(() => {
      if (this.#next !== next || this.#stopped) return;
      const old = this.#current;
      this.#current = next;
      this.#next = undefined;
      void old.stop();
      this.#reindex();
      onSwitched();
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([this.#current.stop(), this.#next?.stop()]);
  }

  #makeSet(kc: KubeConfig): ReflectorSet {
    const set: ReflectorSet = new ReflectorSet(kc, this.#ns, {
      service: (e) => {
        if (set === this.#current && (e.type === 'added' || e.type === 'updated' || e.type === 'deleted')) this.#touch(e.object.metadata?.name ?? '');
      },
      slice: (e) => {
        if (set === this.#current) this.#onSlice(e);
      },
      pod: (e) => {
        if (set !== this.#current || (e.type !== 'added' && e.type !== 'updated' && e.type !== 'deleted')) return;
        for (const svc of this.#servicesByPod.get(e.object.metadata?.name ?? '') ?? []) this.#touch(svc);
      },
      error: (m) => this.#onError(m),
      // A list also settles what its absence of events means (an empty namespace, a stale entry gone).
      listed: () => {
        if (set === this.#current) for (const svc of this.#listeners.keys()) this.#touch(svc);
      },
    });
    return set;
  }

  #onSlice(e: ReflectorEvent<V1EndpointSlice>): void {
    if (e.type === 'listed' || e.type === 'error') return;
    if (e.type === 'updated') this.#unindex(e.previous);
    if (e.type === 'deleted') this.#unindex(e.object);
    else this.#index(e.object);
  }

  #index(slice: V1EndpointSlice): void {
    const svc = sliceService(slice);
    if (svc === undefined) return;
    let m = this.#slicesByService.get(svc);
    if (!m) this.#slicesByService.set(svc, (m = new Map<string, V1EndpointSlice>()));
    m.set(slice.metadata?.name ?? '', slice);
    for (const pod of podsOf(slice)) {
      let s = this.#servicesByPod.get(pod);
      if (!s) this.#servicesByPod.set(pod, (s = new Set()));
      s.add(svc);
    }
    this.#touch(svc);
  }

  #unindex(slice: V1EndpointSlice): void {
    const svc = sliceService(slice);
    if (svc === undefined) return;
    const m = this.#slicesByService.get(svc);
    m?.delete(slice.metadata?.name ?? '');
    if (m?.size === 0) this.#slicesByService.delete(svc);
    for (const pod of podsOf(slice)) {
      const s = this.#servicesByPod.get(pod);
      // Another slice of the same Service may still list the pod; a spare entry only costs a recompute.
      if (s && !m?.size) s.delete(svc);
      if (s?.size === 0) this.#servicesByPod.delete(pod);
    }
    this.#touch(svc);
  }

  #reindex(): void {
    this.#slicesByService.clear();
    this.#servicesByPod.clear();
    for (const s of this.#current.slices.list(this.#ns)) this.#index(s);
    for (const svc of this.#listeners.keys()) this.#touch(svc);
  }

  #touch(service: string): void {
    if (!this.#listeners.has(service)) return;
    this.#pending.add(service);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      const services = [...this.#pending];
      this.#pending.clear();
      for (const svc of services) {
        for (const fn of [...(this.#listeners.get(svc) ?? [])]) {
          try {
            fn();
          } catch (err) {
            // One listener's bug must not stop the others, nor escape into the event loop.
            this.#log.error('endpoint listener failed', { namespace: this.#ns, object: svc, reason: errorMessage(err) });
          }
        }
      }
    });
  }
}

function podsOf(slice: V1EndpointSlice): string[] {
  const out: string[] = [];
  for (const e of slice.endpoints ?? []) if (e.targetRef?.kind === 'Pod' && e.targetRef.name) out.push(e.targetRef.name);
  return out;
}
