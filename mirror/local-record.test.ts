import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Endpoints, V1Service } from '@kubernetes/client-node';
import { endpointsDigest, endpointsRecord, ownerOf, serviceDigest, serviceRecord } from './local-record.ts';

const mirror: V1Service = {
  metadata: {
    name: 'web-east',
    namespace: 'shop',
    uid: 'u1',
    resourceVersion: '9',
    labels: { 'mirror.linkerd.io/mirrored-service': 'true', 'mirror.linkerd.io/cluster-name': 'east', app: 'web' },
    annotations: { 'mirror.linkerd.io/remote-svc-fq-name': 'web.shop.svc.cluster.local' },
  },
  spec: { ports: [{ name: 'http', port: 80 }] },
};

test('ownership is relative to the Link cluster: mirror, probe, or foreign', () => {
  assert.equal(ownerOf(mirror.metadata?.labels, 'east'), 'mirror');
  assert.equal(ownerOf(mirror.metadata?.labels, 'west'), 'foreign');
  assert.equal(ownerOf({ 'mirror.linkerd.io/mirrored-gateway': 'true', 'mirror.linkerd.io/cluster-name': 'east' }, 'east'), 'probe');
  assert.equal(ownerOf({ 'mirror.linkerd.io/cluster-name': 'east' }, 'east'), 'foreign');
  assert.equal(ownerOf(undefined, 'east'), 'foreign');
});

test('a mirror record keeps identity, the remote it stands for, and a digest; a foreign one only its name', () => {
  const r = serviceRecord('east')({ ...mirror, spec: { ...mirror.spec, clusterIP: '10.0.0.9' } });
  assert.deepEqual(r.metadata, { name: 'web-east', namespace: 'shop', uid: 'u1', resourceVersion: '9' });
  assert.deepEqual(r.remote, { namespace: 'shop', name: 'web' });
  assert.equal(r.headless, false);
  assert.equal(r.clusterIP, undefined, 'only endpoint mirrors need their address');
  const endpointMirror = serviceRecord('east')({
    metadata: {
      ...mirror.metadata,
      name: 'web-0-east',
      labels: { ...mirror.metadata?.labels, 'mirror.linkerd.io/headless-mirror-svc-name': 'web-east' },
      annotations: { 'mirror.linkerd.io/remote-svc-fq-name': 'web-0.web.shop.svc.cluster.local' },
    },
    spec: { clusterIP: '10.0.0.10', ports: [] },
  });
  assert.equal(endpointMirror.clusterIP, '10.0.0.10');
  assert.equal(endpointMirror.headlessRoot, 'web-east');
  assert.deepEqual(endpointMirror.remote, { namespace: 'shop', name: 'web' });
  const f = serviceRecord('west')(mirror);
  assert.equal(f.owner, 'foreign');
  assert.equal(f.digest, '');
  assert.equal(f.remote, undefined);
});

test('the Service digest sees through API server defaults and key order, not through real changes', () => {
  const stored: V1Service = {
    metadata: { ...mirror.metadata, labels: { app: 'web', 'mirror.linkerd.io/cluster-name': 'east', 'mirror.linkerd.io/mirrored-service': 'true' } },
    spec: { type: 'ClusterIP', clusterIP: '10.0.0.9', sessionAffinity: 'None', ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }] },
  };
  assert.equal(serviceDigest(stored), serviceDigest(mirror));
  assert.notEqual(serviceDigest({ ...mirror, spec: { ports: [{ name: 'http', port: 81 }] } }), serviceDigest(mirror));
  assert.notEqual(
    serviceDigest({ ...mirror, metadata: { ...mirror.metadata, labels: { ...mirror.metadata?.labels, app: 'api' } } }),
    serviceDigest(mirror),
  );
  assert.notEqual(serviceDigest({ ...mirror, spec: { ...mirror.spec, clusterIP: 'None' } }), serviceDigest(mirror));
});

test('the Endpoints digest ignores address order and sees readiness', () => {
  const ep = (ready: string[], notReady: string[] = []): V1Endpoints => ({
    metadata: { name: 'web-east', namespace: 'shop', labels: mirror.metadata?.labels },
    subsets: [{ addresses: ready.map((ip) => ({ ip })), notReadyAddresses: notReady.map((ip) => ({ ip })), ports: [{ name: 'http', port: 4143 }] }],
  });
  assert.equal(endpointsDigest(ep(['10.0.0.1', '10.0.0.2'])), endpointsDigest(ep(['10.0.0.2', '10.0.0.1'])));
  assert.notEqual(endpointsDigest(ep(['10.0.0.1'])), endpointsDigest(ep([], ['10.0.0.1'])));
  const record = endpointsRecord('east')({
    ...ep(['10.0.0.1']),
    metadata: { ...ep([]).metadata, annotations: { 'mirror.linkerd.io/remote-svc-fq-name': 'web.shop.svc.cluster.local' } },
  });
  assert.equal(record.owner, 'mirror');
  assert.deepEqual(record.remote, { namespace: 'shop', name: 'web' }, 'a change to mirror Endpoints re-queues their remote Service');
});
