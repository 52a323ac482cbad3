// Every write the controller makes to the local cluster goes through here, and here is
// where ownership is enforced: an object without this Link's mirror labels is never
// updated or deleted (upstream deletes a user's Service on a name collision; §6.2).
import { CoreV1Api, type KubeConfig, type V1Endpoints, type V1Service } from '@kubernetes/client-node';
import { apiErrorMessage, apiStatus, isConflict, isNotFound } from '../kube/client.ts';
import { NameCollisionError, RejectedWriteError, RetryableError } from './errors.ts';
import { isOwnedMirror } from './mirror-objects.ts';

export type WriteResult = 'created' | 'updated' | 'unchanged' | 'deleted' | 'absent';

export class LocalWriter {
  readonly #core: CoreV1Api;

  constructor(
    kubeConfig: KubeConfig,
    readonly clusterName: string,
    readonly fieldManager: string,
  ) {
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
  }

  /** Creates or converges the mirror Service; `cached` is the informer's copy, if any. */
  async ensureService(desired: V1Service, cached: V1Service | undefined): Promise<WriteResult> {
    const ns = desired.metadata?.namespace ?? '';
    const name = desired.metadata?.name ?? '';
    let current = cached;
    if (!current) {
      try {
        await this.#core.createNamespacedService({ namespace: ns, body: desired, fieldManager: this.fieldManager });
        return 'created';
      } catch (err) {
        if (!isConflict(err)) throw classify(err, `create Service ${ns}/${name}`);
        current = await this.#read(() => this.#core.readNamespacedService({ name, namespace: ns }), `Service ${ns}/${name}`);
        if (!current) throw new RetryableError(`Service ${ns}/${name} vanished while creating it`);
      }
    }
    if (!isOwnedMirror(current, this.clusterName)) {
      throw new NameCollisionError(`Service ${ns}/${name} already exists and is not a mirror of cluster ${this.clusterName}; rename or delete it to let this Link mirror the remote Service`);
    }
    if (serviceMatches(current, desired)) return 'unchanged';
    if ((current.spec?.clusterIP === 'None') !== (desired.spec?.clusterIP === 'None')) {
      // clusterIP is immutable: switching between headless and ClusterIP means a new object.
      await this.deleteService(ns, name, current);
      try {
        await this.#core.createNamespacedService({ namespace: ns, body: desired, fieldManager: this.fieldManager });
        return 'updated';
      } catch (err) {
        throw classify(err, `recreate Service ${ns}/${name}`);
      }
    }
    const updated: V1Service = {
      ...current,
      metadata: { ...current.metadata, labels: desired.metadata?.labels, annotations: desired.metadata?.annotations },
      spec: { ...current.spec, type: desired.spec?.type, ports: desired.spec?.ports },
    };
    try {
      await this.#core.replaceNamespacedService({ name, namespace: ns, body: updated, fieldManager: this.fieldManager });
      return 'updated';
    } catch (err) {
      throw classify(err, `update Service ${ns}/${name}`);
    }
  }

  async ensureEndpoints(desired: V1Endpoints, cached: V1Endpoints | undefined): Promise<WriteResult> {
    const ns = desired.metadata?.namespace ?? '';
    const name = desired.metadata?.name ?? '';
    let current = cached;
    if (!current) {
      try {
        await this.#core.createNamespacedEndpoints({ namespace: ns, body: desired, fieldManager: this.fieldManager });
        return 'created';
      } catch (err) {
        if (!isConflict(err)) throw classify(err, `create Endpoints ${ns}/${name}`);
        current = await this.#read(() => this.#core.readNamespacedEndpoints({ name, namespace: ns }), `Endpoints ${ns}/${name}`);
        if (!current) throw new RetryableError(`Endpoints ${ns}/${name} vanished while creating them`);
      }
    }
    if (!isOwnedMirror(current, this.clusterName) && !isOwnedProbe(current, this.clusterName)) {
      throw new NameCollisionError(`Endpoints ${ns}/${name} already exist and are not a mirror of cluster ${this.clusterName}; rename or delete them to let this Link mirror the remote Service`);
    }
    if (endpointsMatch(current, desired)) return 'unchanged';
    const updated: V1Endpoints = {
      ...current,
      metadata: { ...current.metadata, labels: desired.metadata?.labels, annotations: desired.metadata?.annotations },
      subsets: desired.subsets,
    };
    try {
      await this.#core.replaceNamespacedEndpoints({ name, namespace: ns, body: updated, fieldManager: this.fieldManager });
      return 'updated';
    } catch (err) {
      throw classify(err, `update Endpoints ${ns}/${name}`);
    }
  }

  /** Deletes the Service only if it is this Link's mirror, guarded by its uid. */
  async deleteService(namespace: string, name: string, cached: V1Service | undefined): Promise<WriteResult> {
    const current = cached ?? (await this.#read(() => this.#core.readNamespacedService({ name, namespace }), `Service ${namespace}/${name}`));
    if (!current) return 'absent';
    if (!isOwnedMirror(current, this.clusterName)) return 'absent';
    try {
      await this.#core.deleteNamespacedService({ name, namespace, body: { preconditions: { uid: current.metadata?.uid } } });
      return 'deleted';
    } catch (err) {
      if (isNotFound(err)) return 'absent';
      throw classify(err, `delete Service ${namespace}/${name}`);
    }
  }

  async deleteEndpoints(namespace: string, name: string, cached: V1Endpoints | undefined): Promise<WriteResult> {
    const current = cached ?? (await this.#read(() => this.#core.readNamespacedEndpoints({ name, namespace }), `Endpoints ${namespace}/${name}`));
    if (!current) return 'absent';
    if (!isOwnedMirror(current, this.clusterName)) return 'absent';
    try {
      await this.#core.deleteNamespacedEndpoints({ name, namespace, body: { preconditions: { uid: current.metadata?.uid } } });
      return 'deleted';
    } catch (err) {
      if (isNotFound(err)) return 'absent';
      throw classify(err, `delete Endpoints ${namespace}/${name}`);
    }
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

function isOwnedProbe(obj: V1Endpoints, clusterName: string): boolean {
  const l = obj.metadata?.labels;
  return l?.['mirror.linkerd.io/mirrored-gateway'] === 'true' && l['mirror.linkerd.io/cluster-name'] === clusterName;
}

/** 4xx validation answers cannot be fixed by retrying; everything else (5xx, network, conflicts) can. */
export function classify(err: unknown, what: string): Error {
  const code = apiStatus(err);
  const msg = `${what}: ${apiErrorMessage(err)}`;
  if (code === 400 || code === 422) return new RejectedWriteError(msg);
  return new RetryableError(msg, { cause: err });
}

function sameMap(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ea = Object.entries(a ?? {}).sort(([x], [y]) => x.localeCompare(y));
  const eb = Object.entries(b ?? {}).sort(([x], [y]) => x.localeCompare(y));
  return JSON.stringify(ea) === JSON.stringify(eb);
}

function normalizePorts(svc: V1Service): string {
  return JSON.stringify((svc.spec?.ports ?? []).map((p) => [p.name ?? '', p.protocol ?? 'TCP', p.port, String(p.targetPort ?? p.port), p.appProtocol ?? '']));
}

export function serviceMatches(current: V1Service, desired: V1Service): boolean {
  return (
    sameMap(current.metadata?.labels, desired.metadata?.labels) &&
    sameMap(current.metadata?.annotations, desired.metadata?.annotations) &&
    (current.spec?.type ?? 'ClusterIP') === (desired.spec?.type ?? 'ClusterIP') &&
    (current.spec?.clusterIP === 'None') === (desired.spec?.clusterIP === 'None') &&
    normalizePorts(current) === normalizePorts(desired)
  );
}

function normalizeSubsets(e: V1Endpoints): string {
  return JSON.stringify(
    (e.subsets ?? []).map((s) => [
      (s.addresses ?? []).map((a) => `${a.hostname ?? ''}=${a.ip}`).sort(),
      (s.notReadyAddresses ?? []).map((a) => `${a.hostname ?? ''}=${a.ip}`).sort(),
      (s.ports ?? []).map((p) => [p.name ?? '', p.port, p.protocol ?? 'TCP']),
    ]),
  );
}

export function endpointsMatch(current: V1Endpoints, desired: V1Endpoints): boolean {
  return (
    sameMap(current.metadata?.labels, desired.metadata?.labels) &&
    sameMap(current.metadata?.annotations, desired.metadata?.annotations) &&
    normalizeSubsets(current) === normalizeSubsets(desired)
  );
}
