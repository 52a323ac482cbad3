// Wire types of the Link custom resource (multicluster.linkerd.io). They mirror upstream's
// v1alpha3 Go types field for field, so Links written by upstream tools parse here and back.

export const LINK_GROUP = 'multicluster.linkerd.io';
export const LINK_KIND = 'Link';
export const LINK_PLURAL = 'links';
export const LINK_SINGULAR = 'link';
export const LINK_VERSIONS = ['v1alpha1', 'v1alpha2', 'v1alpha3'] as const;
export type LinkVersion = (typeof LINK_VERSIONS)[number];
export const LINK_STORAGE_VERSION: LinkVersion = 'v1alpha3';
export const LINK_API_VERSION = `${LINK_GROUP}/${LINK_STORAGE_VERSION}`;
export const LINK_CRD_NAME = `${LINK_PLURAL}.${LINK_GROUP}`;

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
export const SELECTOR_OPERATORS: readonly SelectorOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

export interface LabelSelectorRequirement {
  key: string;
  operator: SelectorOperator;
  values?: string[];
}

/** Structurally a `V1LabelSelector`, with the operator narrowed to what Kubernetes accepts. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** All strings on the wire (upstream's choice); see `linkProbe()` for the parsed form. */
export interface ProbeSpec {
  path?: string;
  port?: string;
  period?: string;
  timeout?: string;
  failureThreshold?: string;
}

export interface LinkSpec {
  targetClusterName?: string;
  targetClusterDomain?: string;
  /** Used only by `check`. */
  targetClusterLinkerdNamespace?: string;
  clusterCredentialsSecret?: string;
  /** Comma list of IPs or hostnames. Empty in pod-to-pod (no gateway) links. */
  gatewayAddress?: string;
  gatewayPort?: string;
  gatewayIdentity?: string;
  probeSpec?: ProbeSpec;
  /** Absent (nil) or empty matches nothing: gateway-mode mirroring is off. */
  selector?: LabelSelector;
  remoteDiscoverySelector?: LabelSelector;
  federatedServiceSelector?: LabelSelector;
  /** Exact keys, or prefixes when an entry ends in `/*`. v1alpha3 only. */
  excludedAnnotations?: string[];
  excludedLabels?: string[];
}

export interface ObjectRef {
  group?: string;
  kind?: string;
  name: string;
  namespace: string;
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface LinkCondition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  /** RFC 3339; kept as the wire string so status round-trips byte for byte. */
  lastTransitionTime: string;
  localRef?: ObjectRef;
}

export interface ServiceStatus {
  controllerName: string;
  remoteRef: ObjectRef;
  conditions?: LinkCondition[];
}

export interface LinkStatus {
  mirrorServices?: ServiceStatus[];
  federatedServices?: ServiceStatus[];
}

export interface LinkMetadata {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
}

export interface Link {
  apiVersion: string;
  kind: typeof LINK_KIND;
  metadata: LinkMetadata;
  spec: LinkSpec;
  status?: LinkStatus;
}

/** Parsed probe settings, ready for a timer. */
export interface LinkProbe {
  path: string;
  port: number;
  periodMs: number;
  timeoutMs: number;
  failureThreshold: number;
}
