// The small interface between the reconcilers and the clusters: what they read from the
// caches and what they write. The watcher implements it over its reflectors and LocalWriter;
// the reconciler unit tests over an in-memory fake (fake-clusters.ts).
import type { V1EndpointSlice, V1Endpoints, V1Service } from '@kubernetes/client-node';
import type { LocalRecord } from './local-record.ts';

export type WriteResult = 'created' | 'updated' | 'unchanged' | 'deleted' | 'absent';

/** The local caches: every local Service and this Link's mirror Endpoints as records. */
export interface LocalReads {
  service(namespace: string, name: string): LocalRecord | undefined;
  endpoints(namespace: string, name: string): LocalRecord | undefined;
  hasNamespace(namespace: string): boolean;
  /** Names of this Link's endpoint mirrors under the headless root mirror `root`. */
  endpointMirrors(namespace: string, root: string): readonly string[];
  /** A federated Service (`<svc>-federated`) as cached. */
  federated(namespace: string, name: string): V1Service | undefined;
  /** This Link's mirror Services. */
  mirrors(): LocalRecord[];
  /** Every cached federated Service. */
  federatedServices(): V1Service[];
}

/** Every write to the local cluster; each refuses to change what is not this Link's (local-writer.ts). */
export interface LocalWrites {
  /** Creates or converges a mirror Service; `cached` is the cache's record of that name. */
  ensureService(desired: V1Service, cached: LocalRecord | undefined): Promise<WriteResult>;
  ensureEndpoints(desired: V1Endpoints, cached: LocalRecord | undefined): Promise<WriteResult>;
  /** A new gateway mirror whose name the cache knows to be free: Service and Endpoints at once. */
  createMirror(service: V1Service, endpoints: V1Endpoints): Promise<{ service: WriteResult; endpoints: WriteResult }>;
  deleteService(namespace: string, name: string, cached: LocalRecord | undefined): Promise<WriteResult>;
  deleteEndpoints(namespace: string, name: string, cached: LocalRecord | undefined): Promise<WriteResult>;
  /** The gateway probe Endpoints, adopting the ones Linkerd's own service mirror wrote. */
  ensureProbeEndpoints(desired: V1Endpoints): Promise<WriteResult>;
  /** Creates a namespace labelled as this Link's mirror made it (an existing one is fine). */
  createNamespace(namespace: string): Promise<void>;
  /** Reads a Service from the API (a cache may not hold a just-created one yet). */
  readService(namespace: string, name: string): Promise<V1Service | undefined>;
  createFederated(svc: V1Service): Promise<void>;
  replaceFederated(svc: V1Service): Promise<void>;
  /** Deletes a federated Service, only the object with this uid. */
  deleteFederated(namespace: string, name: string, uid: string | undefined): Promise<void>;
}

export interface LocalApi extends LocalReads, LocalWrites {}

/** The remote caches: exported Services, their EndpointSlices, federated members. */
export interface RemoteView {
  /** Whether the exported Services have been listed: only then does "not cached" mean "not exported". */
  readonly listed: boolean;
  service(namespace: string, name: string): V1Service | undefined;
  /** Exported Services, of one namespace or all. */
  services(namespace?: string): V1Service[];
  /** The EndpointSlices of one remote Service, whatever labels they carry. */
  slices(namespace: string, name: string): V1EndpointSlice[];
  /** Whether federated members have been listed (true when no federated selector is set). */
  readonly federatedListed: boolean;
  federated(namespace: string, name: string): V1Service | undefined;
  federatedServices(namespace?: string): V1Service[];
}
