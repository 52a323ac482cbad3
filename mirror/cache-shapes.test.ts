import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { federatedServiceShape, remoteServiceShape, remoteSliceShape } from './cache-shapes.ts';
import { desiredMirrorService, type MirrorSettings } from './mirror-objects.ts';

const settings: MirrorSettings = {
  clusterName: 'east',
  clusterDomain: 'cluster.local',
  gatewayIdentity: 'gw',
  gatewayPort: 4143,
  excludedLabels: [],
  excludedAnnotations: [],
};

const remote: V1Service = {
  metadata: {
    name: 'web',
    namespace: 'shop',
    uid: 'u1',
    resourceVersion: '42',
    labels: { app: 'web', 'mirror.linkerd.io/exported': 'true' },
    annotations: { team: 'a', 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"json"}' },
    managedFields: [{ manager: 'kubectl' }],
  },
  spec: {
    type: 'ClusterIP',
    clusterIP: '10.0.0.1',
    clusterIPs: ['10.0.0.1'],
    sessionAffinity: 'None',
    ports: [{ name: 'http', port: 80, targetPort: 8080, appProtocol: 'http', protocol: 'TCP' }],
  },
  status: { loadBalancer: {} },
};

test('the trimmed remote Service gives the same mirror as the full one', () => {
  const slim = remoteServiceShape(remote);
  assert.deepEqual(desiredMirrorService(slim, 'gateway', settings), desiredMirrorService(remote, 'gateway', settings));
  assert.equal(slim.status, undefined);
  assert.equal(slim.metadata?.managedFields, undefined);
  assert.equal(slim.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration'], undefined);
  assert.equal(
    remote.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration'],
    '{"big":"json"}',
    'the received object is not mutated',
  );
});

test('a federated Service keeps its whole spec and ownership metadata, for replaces', () => {
  const local = federatedServiceShape({
    ...remote,
    metadata: { ...remote.metadata, finalizers: ['x/y'], ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'o', uid: 'o1' }] },
  });
  assert.deepEqual(local.spec, remote.spec);
  assert.deepEqual(local.metadata?.finalizers, ['x/y']);
  assert.equal(local.metadata?.ownerReferences?.[0]?.uid, 'o1');
  assert.equal(local.metadata?.resourceVersion, '42');
});

test('a trimmed slice keeps readiness and hostnames', () => {
  const slice: V1EndpointSlice = {
    metadata: { name: 'web-abc', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: [
      { addresses: ['10.1.0.5'], hostname: 'web-0', conditions: { ready: true, serving: true }, nodeName: 'n1' },
      { addresses: ['10.1.0.6'], conditions: { ready: false } },
    ],
    ports: [{ name: 'http', port: 8080 }],
  };
  const slim = remoteSliceShape(slice);
  assert.deepEqual(
    slim.endpoints.map((e) => [e.hostname, e.conditions?.ready]),
    [
      ['web-0', true],
      [undefined, false],
    ],
  );
  assert.equal(slim.metadata?.labels?.['kubernetes.io/service-name'], 'web');
});
