// Every write the controller makes to the local cluster's Services, Endpoints, Namespaces and
// Link finalizers goes through here (the Link status has its own batching writer,
// link-status.ts), and here is where ownership is enforced: an object without this Link's
// mirror labels is never updated or deleted (upstream deletes a user's Service on a name
// collision; §6.2).
// Updates are JSON patches whose first operations test the object's uid and ownership
// labels, so the API server itself refuses a write to anything that changed hands since
// the cache saw it; deletes carry a uid precondition.
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Endpoints,
  type V1Service,
} from '@kubernetes/client-node';
import { apiErrorMessage, apiStatus, isConflict, isNotFound, isPatchNotApplied, mergePatch } from '../kube/client.ts';
import { LINK_GROUP, LINK_PLURAL, LINK_STORAGE_VERSION } from '../model/link-types.ts';
import { Labels } from '../model/linkerd-names.ts';
import { NameCollisionError, RejectedWriteError, RetryableError } from './errors.ts';
import type { LocalWrites, WriteResult } from './local-api.ts';
import { endpointsDigest, endpointsRecord, ownershipLabels, serviceDigest, serviceRecord, type LocalRecord, type Owner } from './local-record.ts';

const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

type PatchOp = { op: 'test' | 'add'; path: string; value: unknown };

/**
 * A JSON patch that applies only to the object the record describes, still owned as it was;
 * `labels` overrides the ownership labels tested (adopting an object that lacks some of them).
 */
function guardedPatch(current: LocalRecord, clusterName: string, writes: PatchOp[], labels?: Record<string, string>): PatchOp[] {
  const owner = current.owner as Exclude<Owner, 'foreign'>;
  const tests: PatchOp[] = [{ op: 'test', path: '/metadata/uid', value: current.metadata.uid }];
  for (const [k, v] of Object.entries(labels ?? ownershipLabels(owner, clusterName))) {
    tests.push({ op: 'test', path: `/metadata/labels/${pointerEscape(k)}`, value: v });
  }
  return [...tests, ...writes];
}

function pointerEscape(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

/**
 * Linkerd's own service mirror writes `probe-<link>` with only the cluster-name label. Ours
 * takes it over (a drop-in upgrade) rather than reporting a collision forever.
 */
export function isLinkerdProbe(ep: V1Endpoints, clusterName: string): boolean {
  const l = ep.metadata?.labels ?? {};
  return l[Labels.clusterName] === clusterName && l[Labels.mirroredService] === undefined && l[Labels.mirroredGateway] === undefined;
}

export class LocalWriter implements LocalWrites {
  readonly #core: CoreV1Api;
  readonly #custom: CustomObjectsApi;
  readonly #serviceRecord: (svc: V1Service) => LocalRecord;
  readonly #endpointsRecord: (ep: V1Endpoints) => LocalRecord;

  constructor(
    kubeConfig: KubeConfig,
    readonly clusterName: string,
    readonly fieldManager: string,
  ) {
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
    this.#custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.#serviceRecord = serviceRecord(clusterName);
    this.#endpointsRecord = endpointsRecord(clusterName);
  }

  /** Creates or converges the mirror Service; `cached` is the cache's record of that name, if any. */
  async ensureService(desired: V1Service, cached: LocalRecord | undefined): Promise<WriteResult> {
    const ns = desired.metadata?.namespace ?? '';
    const name = desired.metadata?.name ?? '';
    const current =
      cached ??
      (await this.#createOrFind(
        `Service ${ns}/${name}`,
        () => this.#core.createNamespacedService({ namespace: ns, body: desired, fieldManager: this.fieldManager }),
        () => this.#readService(ns, name),
      ));
    if (current === 'created') return 'created';
    if (current.owner !== 'mirror') {
      throw new NameCollisionError(
        `Service ${ns}/${name} already exists and is not a mirror of cluster ${this.clusterName}; ` +
          'rename or delete it to let this Link mirror the remote Service',
      );
    }
    if (current.digest === serviceDigest(desired)) return 'unchanged';
    if (current.headless !== (desired.spec?.clusterIP === 'None')) {
      // clusterIP is immutable: switching between headless and ClusterIP means a new object.
      await this.deleteService(ns, name, current);
      try {
        await this.#core.createNamespacedService({ namespace: ns, body: desired, fieldManager: this.fieldManager });
        return 'updated';
      } catch (err) {
        throw classify(err, `recreate Service ${ns}/${name}`);
      }
    }
    const patch = guardedPatch(current, this.clusterName, [
      { op: 'add', path: '/metadata/labels', value: desired.metadata?.labels ?? {} },
      { op: 'add', path: '/metadata/annotations', value: desired.metadata?.annotations ?? {} },
      { op: 'add', path: '/spec/type', value: desired.spec?.type ?? 'ClusterIP' },
      { op: 'add', path: '/spec/ports', value: desired.spec?.ports ?? [] },
    ]);
    try {
      await this.#core.patchNamespacedService({ name, namespace: ns, body: patch, fieldManager: this.fieldManager }, jsonPatch);
      return 'updated';
    } catch (err) {
      throw classifyPatch(err, `update Service ${ns}/${name}`);
    }
  }

  async ensureEndpoints(desired: V1Endpoints, cached: LocalRecord | undefined): Promise<WriteResult> {
    const ns = desired.metadata?.namespace ?? '';
    const name = desired.metadata?.name ?? '';
    const current =
      cached ??
      (await this.#createOrFind(
        `Endpoints ${ns}/${name}`,
        () => this.#core.createNamespacedEndpoints({ namespace: ns, body: desired, fieldManager: this.fieldManager }),
        () => this.#readEndpoints(ns, name),
      ));
    if (current === 'created') return 'created';
    if (current.owner === 'foreign') {
      throw new NameCollisionError(
        `Endpoints ${ns}/${name} already exist and are not a mirror of cluster ${this.clusterName}; ` +
          'rename or delete them to let this Link mirror the remote Service',
      );
    }
    return this.#patchEndpoints(current, desired);
  }

  async ensureProbeEndpoints(desired: V1Endpoints): Promise<WriteResult> {
    const ns = desired.metadata?.namespace ?? '';
    const name = desired.metadata?.name ?? '';
    let raw: V1Endpoints | undefined;
    try {
      await this.#core.createNamespacedEndpoints({ namespace: ns, body: desired, fieldManager: this.fieldManager });
      return 'created';
    } catch (err) {
      if (!isConflict(err)) throw classify(err, `create Endpoints ${ns}/${name}`);
      raw = await this.#read(() => this.#core.readNamespacedEndpoints({ name, namespace: ns }), `Endpoints ${ns}/${name}`);
    }
    if (!raw) throw new RetryableError(`Endpoints ${ns}/${name} vanished while creating them`);
    const current = this.#endpointsRecord(raw);
    if (current.owner === 'probe') return this.#patchEndpoints(current, desired);
    if (current.owner === 'foreign' && isLinkerdProbe(raw, this.clusterName)) {
      // The first write adds the gateway label; the patch tests only the label it already has.
      return this.#patchEndpoints({ ...current, owner: 'probe', digest: '' }, desired, { [Labels.clusterName]: this.clusterName });
    }
    throw new NameCollisionError(`Endpoints ${ns}/${name} already exist and are not the probe Endpoints of cluster ${this.clusterName}`);
  }

  async #patchEndpoints(current: LocalRecord, desired: V1Endpoints, testLabels?: Record<string, string>): Promise<WriteResult> {
    const ns = current.metadata.namespace;
    const name = current.metadata.name;
    if (current.digest === endpointsDigest(desired)) return 'unchanged';
    const patch = guardedPatch(
      current,
      this.clusterName,
      [
        { op: 'add', path: '/metadata/labels', value: desired.metadata?.labels ?? {} },
        { op: 'add', path: '/metadata/annotations', value: desired.metadata?.annotations ?? {} },
        { op: 'add', path: '/subsets', value: desired.subsets ?? [] },
      ],
      testLabels,
    );
    try {
      await this.#core.patchNamespacedEndpoints({ name, namespace: ns, body: patch, fieldManager: this.fieldManager }, jsonPatch);
      return 'updated';
    } catch (err) {
      throw classifyPatch(err, `update Endpoints ${ns}/${name}`);
    }
  }

  /**
   * A new gateway mirror whose name the cache knows to be free: the Service and its Endpoints
   * are created at once rather than one after the other (a re-export then costs one create's
   * latency). Should the Service create find a Service after all (a race with its creator),
   * Endpoints created here are deleted again, by uid, before the collision is reported.
   */
  async createMirror(service: V1Service, endpoints: V1Endpoints): Promise<{ service: WriteResult; endpoints: WriteResult }> {
    const ns = service.metadata?.namespace ?? '';
    const name = service.metadata?.name ?? '';
    const [svc, ep] = await Promise.allSettled([
      this.#core.createNamespacedService({ namespace: ns, body: service, fieldManager: this.fieldManager }),
      this.#core.createNamespacedEndpoints({ namespace: ns, body: endpoints, fieldManager: this.fieldManager }),
    ]);
    let svcResult: WriteResult = 'created';
    if (svc.status === 'rejected') {
      let existing: LocalRecord | undefined;
      try {
        if (!isConflict(svc.reason)) throw classify(svc.reason, `create Service ${ns}/${name}`);
        existing = await this.#readService(ns, name);
        svcResult = await this.ensureService(service, existing);
      } catch (err) {
        // Mirror Endpoints never stay beside a Service that is not this Link's mirror.
        if (ep.status === 'fulfilled' && existing?.owner !== 'mirror') {
          await this.deleteEndpoints(ns, name, this.#endpointsRecord(ep.value));
        }
        throw err;
      }
    }
    if (ep.status === 'fulfilled') return { service: svcResult, endpoints: 'created' };
    if (!isConflict(ep.reason)) throw classify(ep.reason, `create Endpoints ${ns}/${name}`);
    return { service: svcResult, endpoints: await this.ensureEndpoints(endpoints, await this.#readEndpoints(ns, name)) };
  }

  /** Deletes the Service only if it is this Link's mirror, guarded by its uid. */
  async deleteService(namespace: string, name: string, cached: LocalRecord | undefined): Promise<WriteResult> {
    const current =
      cached ??
      (await this.#read(() => this.#core.readNamespacedService({ name, namespace }), `Service ${namespace}/${name}`).then(
        (s) => s && this.#serviceRecord(s),
      ));
    if (!current || current.owner !== 'mirror') return 'absent';
    try {
      await this.#core.deleteNamespacedService({ name, namespace, body: { preconditions: { uid: current.metadata.uid } } });
      return 'deleted';
    } catch (err) {
      if (isNotFound(err)) return 'absent';
      throw classify(err, `delete Service ${namespace}/${name}`);
    }
  }

  async deleteEndpoints(namespace: string, name: string, cached: LocalRecord | undefined): Promise<WriteResult> {
    const current =
      cached ??
      (await this.#read(() => this.#core.readNamespacedEndpoints({ name, namespace }), `Endpoints ${namespace}/${name}`).then(
        (e) => e && this.#endpointsRecord(e),
      ));
    if (!current || current.owner !== 'mirror') return 'absent';
    try {
      await this.#core.deleteNamespacedEndpoints({ name, namespace, body: { preconditions: { uid: current.metadata.uid } } });
      return 'deleted';
    } catch (err) {
      if (isNotFound(err)) return 'absent';
      throw classify(err, `delete Endpoints ${namespace}/${name}`);
    }
  }

  async createNamespace(namespace: string): Promise<void> {
    try {
      await this.#core.createNamespace({
        body: { metadata: { name: namespace, labels: { [Labels.mirroredService]: 'true', [Labels.clusterName]: this.clusterName } } },
        fieldManager: this.fieldManager,
      });
    } catch (err) {
      if (!isConflict(err)) throw new RetryableError(`create namespace ${namespace}: ${apiErrorMessage(err)}`, { cause: err });
    }
  }

  readService(namespace: string, name: string): Promise<V1Service | undefined> {
    return this.#read(() => this.#core.readNamespacedService({ name, namespace }), `Service ${namespace}/${name}`);
  }

  async createFederated(svc: V1Service): Promise<void> {
    const namespace = svc.metadata?.namespace ?? '';
    try {
      await this.#core.createNamespacedService({ namespace, body: svc, fieldManager: this.fieldManager });
    } catch (err) {
      throw classify(err, `create Service ${namespace}/${svc.metadata?.name}`);
    }
  }

  /** Federated Services are shared by every Link: a replace carries the resourceVersion read, so a concurrent change conflicts. */
  async replaceFederated(svc: V1Service): Promise<void> {
    const namespace = svc.metadata?.namespace ?? '';
    const name = svc.metadata?.name ?? '';
    try {
      await this.#core.replaceNamespacedService({ name, namespace, body: svc, fieldManager: this.fieldManager });
    } catch (err) {
      throw classify(err, `update Service ${namespace}/${name}`);
    }
  }

  async deleteFederated(namespace: string, name: string, uid: string | undefined): Promise<void> {
    await this.#deleteByUid(
      () => this.#core.deleteNamespacedService({ name, namespace, body: { preconditions: { uid } } }),
      `Service ${namespace}/${name}`,
    );
  }

  /** The probe Endpoints of this Link's cluster (the Link is being deleted). */
  async deleteProbeEndpoints(namespace: string, name: string, uid: string | undefined): Promise<void> {
    await this.#deleteByUid(
      () => this.#core.deleteNamespacedEndpoints({ name, namespace, body: { preconditions: { uid } } }),
      `Endpoints ${namespace}/${name}`,
    );
  }

  async setLinkFinalizers(link: { namespace: string; name: string; resourceVersion?: string }, finalizers: string[]): Promise<void> {
    try {
      await this.#custom.patchNamespacedCustomObject(
        {
          group: LINK_GROUP,
          version: LINK_STORAGE_VERSION,
          namespace: link.namespace,
          plural: LINK_PLURAL,
          name: link.name,
          body: { metadata: { finalizers, resourceVersion: link.resourceVersion } },
        },
        mergePatch,
      );
    } catch (err) {
      if (!isNotFound(err)) throw classify(err, `update finalizers of Link ${link.name}`);
    }
  }

  async #deleteByUid(del: () => Promise<unknown>, what: string): Promise<void> {
    try {
      await del();
    } catch (err) {
      if (!isNotFound(err)) throw classify(err, `delete ${what}`);
    }
  }

  /** Creates the object, or on a name conflict returns the record of what holds the name. */
  async #createOrFind(what: string, create: () => Promise<unknown>, find: () => Promise<LocalRecord>): Promise<LocalRecord | 'created'> {
    try {
      await create();
      return 'created';
    } catch (err) {
      if (!isConflict(err)) throw classify(err, `create ${what}`);
      return find();
    }
  }

  async #readService(namespace: string, name: string): Promise<LocalRecord> {
    const svc = await this.#read(() => this.#core.readNamespacedService({ name, namespace }), `Service ${namespace}/${name}`);
    if (!svc) throw new RetryableError(`Service ${namespace}/${name} vanished while creating it`);
    return this.#serviceRecord(svc);
  }

  async #readEndpoints(namespace: string, name: string): Promise<LocalRecord> {
    const ep = await this.#read(() => this.#core.readNamespacedEndpoints({ name, namespace }), `Endpoints ${namespace}/${name}`);
    if (!ep) throw new RetryableError(`Endpoints ${namespace}/${name} vanished while creating them`);
    return this.#endpointsRecord(ep);
  }

  async #read<T>(fn: () => Promise<T>, what: string): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw classify(err, `read ${what}`);
    }
  }
}

/** 4xx validation answers cannot be fixed by retrying; everything else (5xx, network, conflicts) can. */
export function classify(err: unknown, what: string): Error {
  const code = apiStatus(err);
  const msg = `${what}: ${apiErrorMessage(err)}`;
  if (code === 400 || code === 422) return new RejectedWriteError(msg);
  return new RetryableError(msg, { cause: err });
}

/**
 * A guarded patch that did not apply means the cache was behind (the object was replaced or
 * relabelled since): retry, and the next attempt sees the object as it now is.
 */
function classifyPatch(err: unknown, what: string): Error {
  if (isNotFound(err)) return new RetryableError(`${what}: it was deleted meanwhile`, { cause: err });
  if (isPatchNotApplied(err)) return new RetryableError(`${what}: it changed owner or identity since it was cached; re-reading it`, { cause: err });
  return classify(err, what);
}
