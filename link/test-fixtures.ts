// Shared test inputs: a Link using every field of every version, and fixed link facts.
import { parseSelector } from '../model/label-selector.ts';
import type { LinkRenderInput } from './link-render.ts';
import { renderKubeconfig } from './link-render.ts';

/** A v1alpha3 Link with every spec and status field set. */
export function fullLink(): Record<string, unknown> {
  return {
    apiVersion: 'multicluster.linkerd.io/v1alpha3',
    kind: 'Link',
    metadata: { name: 'east', namespace: 'linkerd-multicluster', annotations: { 'linkerd.io/created-by': 'test' } },
    spec: {
      targetClusterName: 'east',
      targetClusterDomain: 'cluster.local',
      targetClusterLinkerdNamespace: 'linkerd',
      clusterCredentialsSecret: 'cluster-credentials-east',
      gatewayAddress: '10.0.0.1,gw.example.com',
      gatewayPort: '4143',
      gatewayIdentity: 'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local',
      probeSpec: { path: '/ready', port: '4191', period: '3s', timeout: '30s', failureThreshold: '3' },
      selector: { matchLabels: { 'mirror.linkerd.io/exported': 'true' } },
      remoteDiscoverySelector: { matchLabels: { 'mirror.linkerd.io/exported': 'remote-discovery' } },
      federatedServiceSelector: { matchExpressions: [{ key: 'mirror.linkerd.io/federated', operator: 'In', values: ['member'] }] },
      excludedAnnotations: ['evil.linkerd/*', 'evil'],
      excludedLabels: ['evil.linkerd/*'],
    },
    status: {
      mirrorServices: [
        {
          controllerName: 'linkerd.io/service-mirror',
          remoteRef: { group: 'core', kind: 'Service', name: 'web', namespace: 'app' },
          conditions: [
            {
              type: 'Mirrored',
              status: 'True',
              reason: 'Mirrored',
              message: '',
              lastTransitionTime: '2025-01-01T00:00:00Z',
              localRef: { group: 'core', kind: 'Service', name: 'web-east', namespace: 'app' },
            },
          ],
        },
      ],
      federatedServices: [],
    },
  };
}

/** Facts as `readTargetCluster` would return them for a typical gateway-mode target. */
export function gatewayLinkInput(): LinkRenderInput {
  return {
    clusterName: 'east',
    namespace: 'linkerd-multicluster',
    linkerdNamespace: 'linkerd',
    targetLinkerdNamespace: 'linkerd',
    kubeconfig: renderKubeconfig({
      clusterName: 'east',
      server: 'https://10.10.0.1:6443',
      certificateAuthorityData: 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==',
      userName: 'linkerd-service-mirror-remote-access-default',
      token: 'fixed-test-token',
    }),
    trustDomain: 'cluster.local',
    clusterDomain: 'cluster.local',
    gateway: {
      addresses: ['172.18.0.10'],
      port: 4143,
      identity: 'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local',
      probe: { path: '/ready', port: 4191, period: '3s' },
    },
    selector: parseSelector('mirror.linkerd.io/exported=true'),
    remoteDiscoverySelector: parseSelector('mirror.linkerd.io/exported=remote-discovery'),
    federatedServiceSelector: parseSelector('mirror.linkerd.io/federated=member'),
    excludedAnnotations: ['evil.linkerd/*', 'evil'],
    excludedLabels: ['evil.linkerd/*', 'evil'],
    controller: {
      image: 'example.com/multicluster:test',
      imagePullPolicy: 'IfNotPresent',
      enableHeadlessServices: true,
      enableNamespaceCreation: false,
    },
  };
}
