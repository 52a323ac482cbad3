// What the controller's caches keep of each object: only the fields it reads or writes back.
// At 10,000 exported Services the caches hold four objects per Service; full objects (every
// client-node model attribute, status, last-applied annotations) cost several times the memory.
import type { V1EndpointSlice, V1Endpoints, V1ObjectMeta, V1Service } from '@kubernetes/client-node';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
/** Shared by every cached slice endpoint; never mutated. */
const NO_ADDRESSES: string[] = [];

/** A copy without undefined-valued keys (client-node's models set every attribute). */
function defined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

function meta(m: V1ObjectMeta | undefined, keep: { ownership: boolean }): V1ObjectMeta {
  if (!m) return {};
  let annotations = m.annotations;
  if (annotations && LAST_APPLIED in annotations) {
    annotations = { ...annotations };
    delete annotations[LAST_APPLIED];
  }
  return defined({
    name: m.name,
    namespace: m.namespace,
    uid: m.uid,
    resourceVersion: m.resourceVersion,
    creationTimestamp: m.creationTimestamp,
    labels: m.labels,
    annotations,
    // A replace must carry these back, or it would drop them.
    ownerReferences: keep.ownership ? m.ownerReferences : undefined,
    finalizers: keep.ownership ? m.finalizers : undefined,
  });
}

/** A remote Service: what the mirror is computed from (last-applied is never copied, so not kept). */
export function remoteServiceShape(s: V1Service): V1Service {
  return { metadata: meta(s.metadata, { ownership: false }), spec: defined({ type: s.spec?.type, clusterIP: s.spec?.clusterIP, ports: s.spec?.ports?.map(defined) }) };
}

/** A remote EndpointSlice: readiness and hostnames only; gateway mode never uses remote addresses. */
export function remoteSliceShape(s: V1EndpointSlice): V1EndpointSlice {
  return {
    metadata: meta(s.metadata, { ownership: false }),
    addressType: s.addressType,
    endpoints: (s.endpoints ?? []).map((e) => defined({ addresses: NO_ADDRESSES, hostname: e.hostname, conditions: { ready: e.conditions?.ready } })),
  };
}

/** A local mirror Service: the whole spec, because an update replaces the object. */
export function localServiceShape(s: V1Service): V1Service {
  return { metadata: meta(s.metadata, { ownership: true }), spec: s.spec ? defined(s.spec) : undefined };
}

export function localEndpointsShape(e: V1Endpoints): V1Endpoints {
  return { metadata: meta(e.metadata, { ownership: true }), subsets: e.subsets };
}
