// Federated Services over in-memory clusters: joining, leaving, the oldest member's metadata.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Service } from '@kubernetes/client-node';
import { Harness } from './reconcile-harness.ts';

/** The `api-federated` Service as an earlier member's Link left it: its labels, its remote-discovery list. */
function existingFederated(origin: string, remoteDiscovery: string): V1Service & { kind: 'Service' } {
  return {
    kind: 'Service',
    metadata: {
      name: 'api-federated',
      namespace: 'web',
      labels: { 'mirror.linkerd.io/mirrored-service': 'true', origin },
      annotations: { [REMOTE_DISCOVERY]: remoteDiscovery },
    },
    spec: { ports: [{ name: 'http', port: 8080 }] },
  };
}

function member(name: string, labels: Record<string, string> = {}, o: { headless?: boolean } = {}): V1Service {
  return {
    metadata: {
      name,
      namespace: 'web',
      resourceVersion: '1',
      labels: { 'mirror.linkerd.io/federated': 'member', ...labels },
      annotations: { note: 'x' },
    },
    spec: { ...(o.headless ? { clusterIP: 'None' } : {}), ports: [{ name: 'http', port: 80 }] },
  };
}

const REMOTE_DISCOVERY = 'multicluster.linkerd.io/remote-discovery';

test('a federated member joins <svc>-federated (no cluster-name, no Endpoints) and leaves it', async () => {
  const h = new Harness();
  h.putFederated(member('fedsvc', { team: 'a', 'excluded/x': 'no' }));
  assert.deepEqual(h.queued(), ['fed:web/fedsvc']);
  await h.drain();
  const fed = h.local.objects.services.get('web/fedsvc-federated');
  assert.equal(fed?.metadata?.annotations?.[REMOTE_DISCOVERY], 'fedsvc@east');
  assert.equal(fed?.metadata?.annotations?.['note'], 'x');
  assert.deepEqual(fed?.metadata?.labels, { team: 'a', 'mirror.linkerd.io/mirrored-service': 'true' });
  assert.equal(h.local.objects.endpoints.size, 0);
  assert.equal(h.status.reason('web', 'fedsvc', 'federatedServices'), 'Mirrored');
  h.removeFederated('web', 'fedsvc');
  await h.drain();
  assert.equal(h.local.objects.services.get('web/fedsvc-federated'), undefined, 'the last member leaving deletes it');
  assert.equal(h.status.reason('web', 'fedsvc', 'federatedServices'), undefined);
});

test('a second cluster joins beside the first; the oldest Link supplies the metadata', async () => {
  const h = new Harness({ cluster: 'east', linkAges: ['west', 'east'] });
  h.local.put(existingFederated('west', 'api@west'));
  h.putFederated(member('api', { origin: 'east' }));
  await h.drain();
  const fed = h.local.objects.services.get('web/api-federated');
  assert.equal(fed?.metadata?.annotations?.[REMOTE_DISCOVERY], 'api@east,api@west', 'members are listed sorted');
  assert.equal(fed?.metadata?.labels?.['origin'], 'west', 'west is the older Link');
  h.removeFederated('web', 'api');
  await h.drain();
  assert.equal(h.local.objects.services.get('web/api-federated')?.metadata?.annotations?.[REMOTE_DISCOVERY], 'api@west', 'west stays');
});

test('a local member is always the oldest: it keeps its metadata and gains the remote member', async () => {
  const h = new Harness();
  h.local.put({
    kind: 'Service',
    metadata: {
      name: 'shared-federated',
      namespace: 'web',
      labels: { 'mirror.linkerd.io/mirrored-service': 'true', origin: 'local' },
      annotations: { 'multicluster.linkerd.io/local-discovery': 'shared' },
    },
    spec: { ports: [{ name: 'http', port: 8080 }] },
  });
  h.putFederated(member('shared', { origin: 'remote' }));
  await h.drain();
  const fed = h.local.objects.services.get('web/shared-federated');
  assert.equal(fed?.metadata?.annotations?.[REMOTE_DISCOVERY], 'shared@east');
  assert.equal(fed?.metadata?.labels?.['origin'], 'local');
  assert.deepEqual(
    fed?.spec?.ports?.map((p) => p.port),
    [8080],
  );
});

test('a non-federated Service in the way is a collision; a headless member is invalid', async () => {
  const h = new Harness();
  h.local.put({ kind: 'Service', metadata: { name: 'mine-federated', namespace: 'web' }, spec: { ports: [{ port: 1 }] } });
  h.putFederated(member('mine'));
  h.putFederated(member('sts', {}, { headless: true }));
  assert.deepEqual(await h.drain(), ['fed:web/mine failed', 'fed:web/sts failed']);
  assert.equal(h.status.reason('web', 'mine', 'federatedServices'), 'NameCollision');
  assert.equal(h.status.reason('web', 'sts', 'federatedServices'), 'InvalidService');
  assert.equal(h.local.objects.services.get('web/mine-federated')?.metadata?.labels, undefined, 'untouched');
});

test('the orphan sweep removes this cluster from federated Services it no longer exports', async () => {
  const h = new Harness();
  h.local.put({
    kind: 'Service',
    metadata: {
      name: 'old-federated',
      namespace: 'web',
      labels: { 'mirror.linkerd.io/mirrored-service': 'true' },
      annotations: { [REMOTE_DISCOVERY]: 'old@east,old@west' },
    },
    spec: { ports: [{ port: 80 }] },
  });
  h.ctx.enqueue({ kind: 'OrphanSweep' });
  assert.deepEqual(await h.drain(), ['orphans done', 'fed:web/old done']);
  assert.equal(h.local.objects.services.get('web/old-federated')?.metadata?.annotations?.[REMOTE_DISCOVERY], 'old@west');
});

const LOCAL_DISCOVERY = 'multicluster.linkerd.io/local-discovery';

test('the local mirror puts its cluster’s member in local-discovery, beside remote members, and takes its metadata', async () => {
  // `mirror --local-mirror`: the "remote" side is the local cluster, under the cluster name ''.
  const h = new Harness({ cluster: '', gatewayAddresses: [] });
  h.local.put(existingFederated('east', 'api@east'));
  h.putFederated(member('api', { origin: 'local' }));
  await h.drain();
  const fed = h.local.objects.services.get('web/api-federated');
  assert.equal(fed?.metadata?.annotations?.[LOCAL_DISCOVERY], 'api');
  assert.equal(fed?.metadata?.annotations?.[REMOTE_DISCOVERY], 'api@east', 'the remote member stays');
  assert.equal(fed?.metadata?.labels?.['origin'], 'local', 'the local member is the oldest: its metadata wins');
  assert.deepEqual(
    fed?.spec?.ports?.map((p) => p.port),
    [80],
  );
  h.removeFederated('web', 'api');
  await h.drain();
  const left = h.local.objects.services.get('web/api-federated');
  assert.equal(left?.metadata?.annotations?.[LOCAL_DISCOVERY], undefined, 'the local member left');
  assert.equal(left?.metadata?.annotations?.[REMOTE_DISCOVERY], 'api@east');
});

test('the local mirror alone creates <svc>-federated with only local-discovery, and deletes it when its member leaves', async () => {
  const h = new Harness({ cluster: '', gatewayAddresses: [] });
  h.putFederated(member('solo'));
  await h.drain();
  const fed = h.local.objects.services.get('web/solo-federated');
  assert.equal(fed?.metadata?.annotations?.[LOCAL_DISCOVERY], 'solo');
  assert.equal(fed?.metadata?.annotations?.[REMOTE_DISCOVERY], undefined);
  h.removeFederated('web', 'solo');
  await h.drain();
  assert.equal(h.local.objects.services.get('web/solo-federated'), undefined);
});
