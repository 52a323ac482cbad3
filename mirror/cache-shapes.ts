// What the controller's caches keep of remote objects and federated Services: only the fields
// it reads or writes back. At 10,000 exported Services full objects (every client-node model
// attribute, status, last-applied annotations) cost several times the memory. Local mirrors
// are kept as records (local-record.ts).
import type { V1EndpointSlice, V1ObjectMeta, V1Service } from '@kubernetes/client-node';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Shared by every cached slice endpoint; never mutated. */
const NO_ADDRESSES: string[] = [];

/** A copy without undefined-valued keys (client-node's models set every attribute). */
function defined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

/** `writeBack`: the object is replaced or deleted from this copy, so identity and ownership fields stay. */
function meta(m: V1ObjectMeta | undefined, writeBack: boolean): V1ObjectMeta {
  if (!m) return {};
  let annotations = m.annotations;
  if (annotations && LAST_APPLIED in annotations) {
    annotations = { ...annotations };
    delete annotations[LAST_APPLIED];
  }
  return defined({
    name: m.name,
    namespace: m.namespace,
    // uid and creationTimestamp only where a write carries them back (a replace or a delete precondition).
    uid: writeBack ? m.uid : undefined,
    resourceVersion: m.resourceVersion,
    creationTimestamp: writeBack ? m.creationTimestamp : undefined,
    labels: m.labels,
    annotations,
    // A replace must carry these back, or it would drop them.
    ownerReferences: writeBack ? m.ownerReferences : undefined,
    finalizers: writeBack ? m.finalizers : undefined,
  });
}

/**
 * A remote Service: what the mirror is computed from (last-applied is never copied, so not
 * kept). Of its clusterIP only "None" matters: it marks a headless Service.
 */
export function remoteServiceShape(s: V1Service): V1Service {
  const clusterIP = s.spec?.clusterIP === 'None' ? 'None' : undefined;
  return { metadata: meta(s.metadata, false), spec: defined({ type: s.spec?.type, clusterIP, ports: s.spec?.ports?.map(defined) }) };
}

/**
 * A remote EndpointSlice: its Service, readiness and hostnames only; gateway mode never uses
 * remote addresses, and nothing reads the slice's other labels.
 */
export function remoteSliceShape(s: V1EndpointSlice): V1EndpointSlice {
  const service = s.metadata?.labels?.[SERVICE_NAME_LABEL];
  return {
    metadata: defined({
      name: s.metadata?.name,
      namespace: s.metadata?.namespace,
      resourceVersion: s.metadata?.resourceVersion,
      labels: service === undefined ? undefined : { [SERVICE_NAME_LABEL]: service },
    }),
    addressType: s.addressType,
    endpoints: (s.endpoints ?? []).map((e) => defined({ addresses: NO_ADDRESSES, hostname: e.hostname, conditions: { ready: e.conditions?.ready } })),
  };
}

/** A local federated Service: the whole spec, because a membership update replaces the object. */
export function federatedServiceShape(s: V1Service): V1Service {
  return { metadata: meta(s.metadata, true), spec: s.spec ? defined(s.spec) : undefined };
}
