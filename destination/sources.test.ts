import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Service } from '@kubernetes/client-node';
import { resolutionMode, sourcesOf } from './sources.ts';

const svc = (name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): V1Service => ({
  metadata: { name, namespace: 'shop', labels, annotations },
});

test('a plain Service is its own local source', () => {
  const s = svc('web');
  assert.equal(resolutionMode(s), 'local');
  assert.deepEqual(sourcesOf(s), [{ key: 'local/web', namespace: 'shop', service: 'web', setLabels: { service: 'web', namespace: 'shop' } }]);
});

test('a gateway mirror reads its own (gateway) endpoints, labelled with the target', () => {
  const s = svc(
    'web-east',
    { 'mirror.linkerd.io/cluster-name': 'east', 'mirror.linkerd.io/mirrored-service': 'true' },
    {
      'mirror.linkerd.io/remote-svc-fq-name': 'web.shop.svc.cluster.local',
    },
  );
  assert.equal(resolutionMode(s), 'gateway');
  assert.deepEqual(sourcesOf(s)[0]?.setLabels, {
    service: 'web-east',
    namespace: 'shop',
    target_cluster: 'east',
    target_service: 'web',
    target_service_namespace: 'shop',
  });
  assert.equal(sourcesOf(s)[0]?.cluster, undefined);
});

test('a remote-discovery mirror reads the remote Service in the same namespace', () => {
  const s = svc('web-east', { 'multicluster.linkerd.io/remote-discovery': 'east', 'multicluster.linkerd.io/remote-service': 'web' });
  assert.equal(resolutionMode(s), 'remote-discovery');
  assert.deepEqual(sourcesOf(s), [
    {
      key: 'east/web',
      cluster: 'east',
      namespace: 'shop',
      service: 'web',
      setLabels: { service: 'web-east', namespace: 'shop', target_cluster: 'east', target_service: 'web', target_service_namespace: 'shop' },
    },
  ]);
});

test('a federated Service is the union of its members, local first; malformed entries are skipped', () => {
  const s = svc(
    'web-federated',
    { 'mirror.linkerd.io/mirrored-service': 'true' },
    {
      'multicluster.linkerd.io/remote-discovery': 'web@east, web@west,broken',
      'multicluster.linkerd.io/local-discovery': 'web',
    },
  );
  assert.equal(resolutionMode(s), 'federated');
  assert.deepEqual(
    sourcesOf(s).map((x) => [x.key, x.cluster, x.service, x.setLabels['target_cluster']]),
    [
      ['local/web', undefined, 'web', undefined],
      ['east/web', 'east', 'web', 'east'],
      ['west/web', 'west', 'web', 'west'],
    ],
  );
});
