// What the destination's caches keep of each object: only the fields translate.ts and the
// resolution read. A remote namespace may hold thousands of Pods and slices; full client-node
// models (status, managedFields, every container) would be most of the process's memory.
import type { V1EndpointSlice, V1ObjectMeta, V1Pod, V1Service } from '@kubernetes/client-node';
import { Annotations, Labels } from '../model/linkerd-names.ts';
import { SERVICE_NAME_LABEL } from './translate.ts';

const POD_LABELS = [Labels.controlPlaneNs, 'pod-template-hash'];
const POD_ANNOTATIONS = [Annotations.opaquePorts];
const SLICE_ANNOTATIONS = [Annotations.remoteGatewayIdentity, Annotations.remoteSvcFqName];

function pick(r: Record<string, string> | undefined, keys: readonly string[]): Record<string, string> | undefined {
  if (!r) return undefined;
  let out: Record<string, string> | undefined;
  for (const k of keys) {
    const v = r[k];
    if (v !== undefined) (out ??= {})[k] = v;
  }
  return out;
}

function baseMeta(m: V1ObjectMeta | undefined): V1ObjectMeta {
  return { name: m?.name, namespace: m?.namespace, resourceVersion: m?.resourceVersion };
}

/** Services: labels and annotations decide the resolution mode, ports map the request. */
export function serviceShape(s: V1Service): V1Service {
  const m = s.metadata;
  return {
    metadata: { ...baseMeta(m), labels: m?.labels, annotations: m?.annotations },
    spec: { ports: s.spec?.ports?.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })) },
  };
}

export function sliceShape(s: V1EndpointSlice): V1EndpointSlice {
  const service = s.metadata?.labels?.[SERVICE_NAME_LABEL];
  return {
    metadata: {
      ...baseMeta(s.metadata),
      labels: service === undefined ? undefined : { [SERVICE_NAME_LABEL]: service },
      annotations: pick(s.metadata?.annotations, SLICE_ANNOTATIONS),
    },
    addressType: s.addressType,
    ports: s.ports?.map((p) => ({ name: p.name, port: p.port })),
    endpoints: (s.endpoints ?? []).map((e) => ({
      addresses: e.addresses,
      conditions: { ready: e.conditions?.ready, terminating: e.conditions?.terminating },
      targetRef: e.targetRef?.kind === 'Pod' ? { kind: 'Pod', name: e.targetRef.name } : undefined,
      zone: e.zone,
    })),
  };
}

export function podShape(p: V1Pod): V1Pod {
  const m = p.metadata;
  const owner = m?.ownerReferences?.find((o) => o.controller) ?? m?.ownerReferences?.[0];
  const proxy = p.spec?.containers?.find((c) => c.name === 'linkerd-proxy');
  const inbound = proxy?.env?.find((e) => e.name === 'LINKERD2_PROXY_INBOUND_LISTEN_ADDR');
  return {
    metadata: {
      ...baseMeta(m),
      labels: pick(m?.labels, POD_LABELS),
      annotations: pick(m?.annotations, POD_ANNOTATIONS),
      ownerReferences: owner ? [{ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: '', controller: true }] : undefined,
    },
    spec: {
      serviceAccountName: p.spec?.serviceAccountName,
      containers: proxy ? [{ name: proxy.name, env: inbound ? [{ name: inbound.name, value: inbound.value }] : undefined }] : [],
    },
  };
}
