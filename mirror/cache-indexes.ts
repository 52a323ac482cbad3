// Indexes kept beside the reflector caches, so the per-event path looks up one Service's
// pieces instead of scanning every cached object.
import type { V1EndpointSlice } from '@kubernetes/client-node';
import type { ReflectorEvent } from '../kube/reflector.ts';
import type { LocalRecord } from './local-record.ts';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** The Service an EndpointSlice belongs to, as `ns/svc`, from the label every slice controller sets. */
export function sliceService(slice: V1EndpointSlice): { namespace: string; name: string } | undefined {
  const name = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  return name ? { namespace: slice.metadata?.namespace ?? '', name } : undefined;
}

/** remote `ns/svc` → its EndpointSlices by name. */
export class SliceIndex {
  readonly #byService = new Map<string, Map<string, V1EndpointSlice>>();

  apply(e: ReflectorEvent<V1EndpointSlice>): void {
    if (e.type === 'listed' || e.type === 'error') return;
    if (e.type === 'updated') this.#remove(e.previous);
    if (e.type === 'deleted') this.#remove(e.object);
    else this.#add(e.object);
  }

  slices(namespace: string, name: string): V1EndpointSlice[] {
    const m = this.#byService.get(`${namespace}/${name}`);
    return m ? [...m.values()] : [];
  }

  #add(slice: V1EndpointSlice): void {
    const svc = sliceService(slice);
    if (!svc) return;
    const key = `${svc.namespace}/${svc.name}`;
    let m = this.#byService.get(key);
    if (!m) this.#byService.set(key, (m = new Map<string, V1EndpointSlice>()));
    m.set(slice.metadata?.name ?? '', slice);
  }

  #remove(slice: V1EndpointSlice): void {
    const svc = sliceService(slice);
    if (!svc) return;
    const key = `${svc.namespace}/${svc.name}`;
    const m = this.#byService.get(key);
    m?.delete(slice.metadata?.name ?? '');
    if (m?.size === 0) this.#byService.delete(key);
  }
}

/** `ns/root` → names of this Link's endpoint mirrors under that headless root mirror. */
export class EndpointMirrorIndex {
  readonly #byRoot = new Map<string, Set<string>>();

  apply(e: ReflectorEvent<LocalRecord>): void {
    if (e.type === 'listed' || e.type === 'error') return;
    const entry = (r: LocalRecord) => (r.owner === 'mirror' && r.headlessRoot ? `${r.metadata.namespace}/${r.headlessRoot}` : undefined);
    const before = e.type === 'updated' ? entry(e.previous) : e.type === 'deleted' ? entry(e.object) : undefined;
    const after = e.type === 'deleted' ? undefined : entry(e.object);
    if (before === after) return;
    const name = e.object.metadata.name;
    if (before) {
      const set = this.#byRoot.get(before);
      set?.delete(name);
      if (set?.size === 0) this.#byRoot.delete(before);
    }
    if (after) {
      let set = this.#byRoot.get(after);
      if (!set) this.#byRoot.set(after, (set = new Set()));
      set.add(name);
    }
  }

  names(namespace: string, root: string): string[] {
    return [...(this.#byRoot.get(`${namespace}/${root}`) ?? [])];
  }
}
