// Test support for the reconciler unit tests (*.test.ts only): in-memory stand-ins for the
// small interfaces of local-api.ts and the Link status (reconcile-harness.ts wires them up).
// The fake local API keeps LocalWriter's rules (ownership, digests, createMirror's cleanup,
// probe adoption) and reports its changes as the local reflectors would.
import type { V1EndpointSlice, V1Endpoints, V1Service } from '@kubernetes/client-node';
import type { ReflectorEvent } from '../kube/reflector.ts';
import type { ConditionStatus, LinkCondition } from '../model/link-types.ts';
import { Labels } from '../model/linkerd-names.ts';
import type { RemoteRef } from '../model/remote-service.ts';
import { NameCollisionError } from './errors.ts';
import type { LocalApi, RemoteView, WriteResult } from './local-api.ts';
import { endpointsDigest, endpointsRecord, serviceDigest, serviceRecord, type LocalRecord } from './local-record.ts';
import type { LinkConditionType, MirrorReason, StatusList } from './link-status.ts';
import { isLinkerdProbe } from './local-writer.ts';
import type { StatusSink } from './reconcile-context.ts';

const key = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
const clone = <T>(o: T): T => structuredClone(o);

/** The local cluster: objects by `ns/name`, writes logged as `verb Kind ns/name`. */
export class FakeLocal implements LocalApi {
  readonly objects = { services: new Map<string, V1Service>(), endpoints: new Map<string, V1Endpoints>() };
  readonly namespaces = new Set<string>();
  readonly writes: string[] = [];
  #uid = 0;
  #ip = 0;
  /** Called with each change, as the local reflectors would report it. */
  onService?: (e: ReflectorEvent<LocalRecord>) => void;
  onEndpoints?: (e: ReflectorEvent<LocalRecord>) => void;

  constructor(readonly cluster: string) {}

  // --- reads (the caches) ---

  service(namespace: string, name: string): LocalRecord | undefined {
    const svc = this.objects.services.get(`${namespace}/${name}`);
    return svc && serviceRecord(this.cluster)(svc);
  }

  /** Only this Link's mirror Endpoints, as the label-selected reflector holds them. */
  endpoints(namespace: string, name: string): LocalRecord | undefined {
    const ep = this.objects.endpoints.get(`${namespace}/${name}`);
    const r = ep && endpointsRecord(this.cluster)(ep);
    return r?.owner === 'mirror' ? r : undefined;
  }

  hasNamespace(namespace: string): boolean {
    return this.namespaces.has(namespace);
  }

  endpointMirrors(namespace: string, root: string): readonly string[] {
    return this.mirrors()
      .filter((r) => r.metadata.namespace === namespace && r.headlessRoot === root)
      .map((r) => r.metadata.name);
  }

  federated(namespace: string, name: string): V1Service | undefined {
    const svc = this.objects.services.get(`${namespace}/${name}`);
    const l = svc?.metadata?.labels ?? {};
    return l[Labels.mirroredService] === 'true' && l[Labels.clusterName] === undefined ? svc : undefined;
  }

  mirrors(): LocalRecord[] {
    return [...this.objects.services.values()].map(serviceRecord(this.cluster)).filter((r) => r.owner === 'mirror');
  }

  federatedServices(): V1Service[] {
    return [...this.objects.services.values()].filter((s) => this.federated(s.metadata?.namespace ?? '', s.metadata?.name ?? ''));
  }

  // --- writes ---

  ensureService(desired: V1Service, cached: LocalRecord | undefined): Promise<WriteResult> {
    const current = cached ?? this.service(desired.metadata?.namespace ?? '', desired.metadata?.name ?? '');
    if (!current) return Promise.resolve(this.#putService(desired, 'create'));
    if (current.owner !== 'mirror') return Promise.reject(new NameCollisionError(`Service ${key(desired)} already exists and is not a mirror`));
    if (current.digest === serviceDigest(desired)) return Promise.resolve('unchanged');
    if (current.headless !== (desired.spec?.clusterIP === 'None')) {
      this.#remove('services', key(desired), 'delete');
      this.#putService(desired, 'create');
      return Promise.resolve('updated');
    }
    return Promise.resolve(this.#putService(desired, 'patch'));
  }

  ensureEndpoints(desired: V1Endpoints, cached: LocalRecord | undefined): Promise<WriteResult> {
    const existing = this.objects.endpoints.get(key(desired));
    const current = cached ?? (existing && endpointsRecord(this.cluster)(existing));
    if (!current) return Promise.resolve(this.#putEndpoints(desired, 'create'));
    if (current.owner === 'foreign') return Promise.reject(new NameCollisionError(`Endpoints ${key(desired)} already exist and are not a mirror`));
    if (current.digest === endpointsDigest(desired)) return Promise.resolve('unchanged');
    return Promise.resolve(this.#putEndpoints(desired, 'patch'));
  }

  async createMirror(service: V1Service, endpoints: V1Endpoints): Promise<{ service: WriteResult; endpoints: WriteResult }> {
    const taken = this.service(service.metadata?.namespace ?? '', service.metadata?.name ?? '');
    const epExisted = this.objects.endpoints.has(key(endpoints));
    const epResult = epExisted ? undefined : this.#putEndpoints(endpoints, 'create');
    if (taken && taken.owner !== 'mirror') {
      // LocalWriter deletes the Endpoints it just created beside someone else's Service.
      if (epResult) this.#remove('endpoints', key(endpoints), 'delete');
      throw new NameCollisionError(`Service ${key(service)} already exists and is not a mirror`);
    }
    const svcResult = await this.ensureService(service, taken);
    return { service: svcResult, endpoints: epResult ?? (await this.ensureEndpoints(endpoints, undefined)) };
  }

  deleteService(namespace: string, name: string, cached: LocalRecord | undefined): Promise<WriteResult> {
    const current = cached ?? this.service(namespace, name);
    if (current?.owner !== 'mirror' || !this.objects.services.has(`${namespace}/${name}`)) return Promise.resolve('absent');
    this.#remove('services', `${namespace}/${name}`, 'delete');
    return Promise.resolve('deleted');
  }

  deleteEndpoints(namespace: string, name: string, cached: LocalRecord | undefined): Promise<WriteResult> {
    const ep = this.objects.endpoints.get(`${namespace}/${name}`);
    const current = cached ?? (ep && endpointsRecord(this.cluster)(ep));
    if (current?.owner !== 'mirror' || !ep) return Promise.resolve('absent');
    this.#remove('endpoints', `${namespace}/${name}`, 'delete');
    return Promise.resolve('deleted');
  }

  ensureProbeEndpoints(desired: V1Endpoints): Promise<WriteResult> {
    const existing = this.objects.endpoints.get(key(desired));
    if (!existing) return Promise.resolve(this.#putEndpoints(desired, 'create'));
    const owner = endpointsRecord(this.cluster)(existing).owner;
    if (owner !== 'probe' && !isLinkerdProbe(existing, this.cluster)) {
      return Promise.reject(new NameCollisionError(`Endpoints ${key(desired)} already exist and are not the probe Endpoints`));
    }
    if (owner === 'probe' && endpointsDigest(existing) === endpointsDigest(desired)) return Promise.resolve('unchanged');
    return Promise.resolve(this.#putEndpoints(desired, 'patch'));
  }

  createNamespace(namespace: string): Promise<void> {
    this.namespaces.add(namespace);
    this.writes.push(`create Namespace ${namespace}`);
    return Promise.resolve();
  }

  readService(namespace: string, name: string): Promise<V1Service | undefined> {
    return Promise.resolve(this.objects.services.get(`${namespace}/${name}`));
  }

  createFederated(svc: V1Service): Promise<void> {
    this.#putService(svc, 'create');
    return Promise.resolve();
  }

  replaceFederated(svc: V1Service): Promise<void> {
    this.#putService(svc, 'replace');
    return Promise.resolve();
  }

  deleteFederated(namespace: string, name: string, uid: string | undefined): Promise<void> {
    if (this.objects.services.get(`${namespace}/${name}`)?.metadata?.uid === uid) this.#remove('services', `${namespace}/${name}`, 'delete');
    return Promise.resolve();
  }

  /** Someone else's object (a user's Service, Linkerd's probe Endpoints): put there by the test. */
  put(obj: V1Service | V1Endpoints): void {
    if (obj.kind === 'Endpoints') this.#putEndpoints(obj, 'create', false);
    else this.#putService(obj, 'create', false);
  }

  /** Deleted by someone else. */
  remove(kind: 'Service' | 'Endpoints', namespace: string, name: string): void {
    this.#remove(kind === 'Service' ? 'services' : 'endpoints', `${namespace}/${name}`, undefined);
  }

  #putService(desired: V1Service, verb: 'create' | 'patch' | 'replace', log = true): WriteResult {
    const k = key(desired);
    const prev = this.objects.services.get(k);
    const svc = clone(desired);
    svc.metadata = { ...svc.metadata, uid: prev?.metadata?.uid ?? `uid-${++this.#uid}`, resourceVersion: String(++this.#uid) };
    if (svc.spec?.clusterIP !== 'None') svc.spec = { ...svc.spec, clusterIP: prev?.spec?.clusterIP ?? `10.96.0.${++this.#ip}` };
    this.objects.services.set(k, svc);
    if (log) this.writes.push(`${verb} Service ${k}`);
    const rec = serviceRecord(this.cluster);
    this.onService?.(prev ? { type: 'updated', object: rec(svc), previous: rec(prev) } : { type: 'added', object: rec(svc) });
    return verb === 'create' ? 'created' : 'updated';
  }

  #putEndpoints(desired: V1Endpoints, verb: 'create' | 'patch', log = true): WriteResult {
    const k = key(desired);
    const prev = this.objects.endpoints.get(k);
    const ep = clone(desired);
    ep.metadata = { ...ep.metadata, uid: prev?.metadata?.uid ?? `uid-${++this.#uid}`, resourceVersion: String(++this.#uid) };
    this.objects.endpoints.set(k, ep);
    if (log) this.writes.push(`${verb} Endpoints ${k}`);
    const rec = endpointsRecord(this.cluster);
    this.onEndpoints?.(prev ? { type: 'updated', object: rec(ep), previous: rec(prev) } : { type: 'added', object: rec(ep) });
    return verb === 'create' ? 'created' : 'updated';
  }

  #remove(kind: 'services' | 'endpoints', k: string, verb: 'delete' | undefined): void {
    const prev = this.objects[kind].get(k);
    if (!prev) return;
    this.objects[kind].delete(k);
    if (verb) this.writes.push(`${verb} ${kind === 'services' ? 'Service' : 'Endpoints'} ${k}`);
    if (kind === 'services') this.onService?.({ type: 'deleted', object: serviceRecord(this.cluster)(prev) });
    else this.onEndpoints?.({ type: 'deleted', object: endpointsRecord(this.cluster)(prev) });
  }
}

/** The remote cluster's exported Services, their slices and federated members. */
export class FakeRemote implements RemoteView {
  listed = true;
  federatedListed = true;
  readonly servicesByKey = new Map<string, V1Service>();
  readonly slicesByKey = new Map<string, V1EndpointSlice>();
  readonly federatedByKey = new Map<string, V1Service>();

  service(namespace: string, name: string): V1Service | undefined {
    return this.servicesByKey.get(`${namespace}/${name}`);
  }

  services(namespace?: string): V1Service[] {
    return [...this.servicesByKey.values()].filter((s) => namespace === undefined || s.metadata?.namespace === namespace);
  }

  slices(namespace: string, name: string): V1EndpointSlice[] {
    return [...this.slicesByKey.values()].filter(
      (s) => s.metadata?.namespace === namespace && s.metadata.labels?.['kubernetes.io/service-name'] === name,
    );
  }

  federated(namespace: string, name: string): V1Service | undefined {
    return this.federatedByKey.get(`${namespace}/${name}`);
  }

  federatedServices(namespace?: string): V1Service[] {
    return [...this.federatedByKey.values()].filter((s) => namespace === undefined || s.metadata?.namespace === namespace);
  }
}

interface FakeEntry {
  reason: MirrorReason;
  message: string;
  local?: string;
}

/** The Link status as entries by `list ns/name`, and Link-wide conditions. */
export class FakeStatus implements StatusSink {
  readonly entries = new Map<string, FakeEntry>();
  readonly conditions = new Map<LinkConditionType, { status: ConditionStatus; reason: string; message: string }>();

  setMirror(remote: RemoteRef, local: RemoteRef | undefined, reason: MirrorReason, message: string, list: StatusList = 'mirrorServices'): void {
    this.entries.set(`${list} ${remote.namespace}/${remote.name}`, { reason, message, local: local?.name });
  }

  clearMirror(remote: RemoteRef, list: StatusList = 'mirrorServices'): void {
    this.entries.delete(`${list} ${remote.namespace}/${remote.name}`);
  }

  mirrorCondition(remote: RemoteRef): LinkCondition | undefined {
    const e = this.entries.get(`mirrorServices ${remote.namespace}/${remote.name}`);
    return (
      e && { type: 'Mirrored', status: e.reason === 'Mirrored' ? 'True' : 'False', reason: e.reason, message: e.message, lastTransitionTime: '' }
    );
  }

  setLinkCondition(type: LinkConditionType, status: ConditionStatus, reason: string, message: string): void {
    this.conditions.set(type, { status, reason, message });
  }

  /** `reason` of a mirrorServices (or federatedServices) entry. */
  reason(namespace: string, name: string, list: StatusList = 'mirrorServices'): MirrorReason | undefined {
    return this.entries.get(`${list} ${namespace}/${name}`)?.reason;
  }
}
