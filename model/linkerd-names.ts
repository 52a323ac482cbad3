// Label, annotation and object-name constants shared with upstream Linkerd multicluster.
// They are protocol facts: Linkerd's destination controller, Viz and `linkerd multicluster
// check` read these exact keys, so they must never drift.

export const Labels = {
  exported: 'mirror.linkerd.io/exported',
  federated: 'mirror.linkerd.io/federated',
  mirroredService: 'mirror.linkerd.io/mirrored-service',
  clusterName: 'mirror.linkerd.io/cluster-name',
  mirroredGateway: 'mirror.linkerd.io/mirrored-gateway',
  headlessMirrorSvcName: 'mirror.linkerd.io/headless-mirror-svc-name',
  remoteDiscovery: 'multicluster.linkerd.io/remote-discovery',
  remoteService: 'multicluster.linkerd.io/remote-service',
  secretClusterName: 'multicluster.linkerd.io/cluster-name',
  controlPlaneNs: 'linkerd.io/control-plane-ns',
} as const;

export const Annotations = {
  remoteSvcFqName: 'mirror.linkerd.io/remote-svc-fq-name',
  remoteResourceVersion: 'mirror.linkerd.io/remote-resource-version',
  remoteGatewayIdentity: 'mirror.linkerd.io/remote-gateway-identity',
  gatewayIdentity: 'mirror.linkerd.io/gateway-identity',
  probePath: 'mirror.linkerd.io/probe-path',
  probePeriod: 'mirror.linkerd.io/probe-period',
  remoteDiscovery: 'multicluster.linkerd.io/remote-discovery',
  localDiscovery: 'multicluster.linkerd.io/local-discovery',
  trustDomain: 'multicluster.linkerd.io/trust-domain',
  clusterDomain: 'multicluster.linkerd.io/cluster-domain',
  opaquePorts: 'config.linkerd.io/opaque-ports',
  createdBy: 'linkerd.io/created-by',
  /** Ours, not upstream's: the untruncated mirror name when the real one had to be shortened. */
  fullMirrorName: 'multicluster.linkerd.io/full-mirror-name',
} as const;

export const SecretTypes = {
  remoteKubeconfig: 'mirror.linkerd.io/remote-kubeconfig',
} as const;

export const Defaults = {
  namespace: 'linkerd-multicluster',
  linkerdNamespace: 'linkerd',
  gatewayName: 'linkerd-gateway',
  gatewayPortName: 'mc-gateway',
  gatewayPort: 4143,
  probePortName: 'mc-probe',
  probePort: 4191,
  probePath: '/ready',
  probePeriodSeconds: 3,
  probeTimeout: '30s',
  probeFailureThreshold: '3',
  remoteAccessServiceAccount: 'linkerd-service-mirror-remote-access-default',
  trustDomain: 'cluster.local',
  clusterDomain: 'cluster.local',
  exportedSelectorValue: 'true',
  remoteDiscoverySelectorValue: 'remote-discovery',
  federatedSelectorValue: 'member',
  controllerName: 'linkerd.io/service-mirror',
  mirroringSkippedEvent: 'ServiceMirroringSkipped',
} as const;

export const ObjectNames = {
  mirror: (svc: string, cluster: string) => `${svc}-${cluster}`,
  federated: (svc: string) => `${svc}-federated`,
  endpointMirror: (hostname: string, cluster: string) => `${hostname}-${cluster}`,
  credentialsSecret: (cluster: string) => `cluster-credentials-${cluster}`,
  probeService: (link: string) => `probe-${link}`,
  controller: (link: string) => `controller-${link}`,
  lease: (link: string) => `service-mirror-write-${link}`,
  remoteSvcFqName: (svc: string, ns: string, domain: string) => `${svc}.${ns}.svc.${domain}`,
} as const;

/** Linkerd workload identity: `<sa>.<ns>.serviceaccount.identity.<controlNs>.<trustDomain>`. */
export function workloadIdentity(sa: string, ns: string, controlNs: string, trustDomain: string): string {
  return `${sa}.${ns}.serviceaccount.identity.${controlNs}.${trustDomain}`;
}
