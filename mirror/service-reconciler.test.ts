// The ordinary mirror, driven through the event router and the dispatch over in-memory clusters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, remoteService, remoteSlice } from './reconcile-harness.ts';

const GW = '192.0.2.10';

test('gateway mode: an exported Service becomes <svc>-<cluster> with gateway Endpoints, labels on both', async () => {
  const h = new Harness({ gatewayAddresses: [GW] });
  h.exportService(
    remoteService('api', {
      labels: { 'mirror.linkerd.io/exported': 'true', app: 'api', 'excluded/x': 'no' },
      annotations: { note: 'kept', 'service.kubernetes.io/topology-mode': 'auto' },
    }),
  );
  h.putSlice(remoteSlice('api', [{ ready: true }]));
  assert.deepEqual(h.queued(), ['svc:web/api'], 'the slice event of an exported Service collapses into the same key');
  await h.step();
  assert.deepEqual(h.takeWrites(), ['create Endpoints web/api-east', 'create Service web/api-east']);
  const svc = h.local.objects.services.get('web/api-east');
  const expectedLabels = { app: 'api', 'mirror.linkerd.io/mirrored-service': 'true', 'mirror.linkerd.io/cluster-name': 'east' };
  assert.deepEqual(svc?.metadata?.labels, expectedLabels);
  assert.equal(svc?.metadata?.annotations?.['note'], 'kept');
  assert.equal(svc?.metadata?.annotations?.['service.kubernetes.io/topology-mode'], undefined);
  assert.equal(svc?.metadata?.annotations?.['mirror.linkerd.io/remote-svc-fq-name'], 'api.web.svc.cluster.local');
  assert.deepEqual(
    svc?.spec?.ports?.map((p) => [p.name, p.port, p.appProtocol]),
    [
      ['http', 80, 'http'],
      ['grpc', 9090, undefined],
    ],
    'appProtocol is kept',
  );
  const ep = h.local.objects.endpoints.get('web/api-east');
  assert.deepEqual(ep?.metadata?.labels, expectedLabels, 'the Service labels are on the Endpoints too');
  assert.deepEqual(ep?.subsets?.[0]?.addresses, [{ ip: GW }]);
  assert.deepEqual(
    ep?.subsets?.[0]?.ports?.map((p) => [p.name, p.port]),
    [
      ['http', 4143],
      ['grpc', 4143],
    ],
  );
  assert.equal(h.status.reason('web', 'api'), 'Mirrored');
});

test('echoes of our own writes are re-checked in the background and change nothing', async () => {
  const h = new Harness();
  h.exportService(remoteService('api'));
  await h.step();
  assert.deepEqual([...h.queue.entries()], [['svc:web/api', 'background']], 'the echo of our creates');
  h.takeWrites();
  assert.deepEqual(await h.drain(), ['svc:web/api done']);
  assert.deepEqual(h.takeWrites(), [], 'the echo finds the mirror as it should be');
  h.local.remove('Endpoints', 'web', 'api-east');
  assert.deepEqual([...h.queue.entries()], [['svc:web/api', 'event']], 'a deleted mirror is restored as an event');
  h.takeWrites();
  await h.drain();
  assert.deepEqual(h.takeWrites(), ['create Endpoints web/api-east']);
});

test('no ready remote endpoint: Endpoints without subsets; a ready one fills them', async () => {
  const h = new Harness({ gatewayAddresses: [GW] });
  h.exportService(remoteService('idle'));
  h.putSlice(remoteSlice('idle', [{ ready: false }]));
  await h.drain();
  assert.deepEqual(h.local.objects.endpoints.get('web/idle-east')?.subsets, []);
  h.putSlice(remoteSlice('idle', [{ ready: false }, { ready: true }]));
  assert.deepEqual(h.queued(), ['svc:web/idle']);
  await h.drain();
  assert.deepEqual(h.local.objects.endpoints.get('web/idle-east')?.subsets?.[0]?.addresses, [{ ip: GW }]);
});

test('remote-discovery mode: the Service with remote-discovery labels and no Endpoints; switching modes converts it', async () => {
  const h = new Harness();
  h.exportService(remoteService('p2p', { labels: { 'mirror.linkerd.io/exported': 'remote-discovery' } }));
  await h.drain();
  const svc = h.local.objects.services.get('web/p2p-east');
  assert.equal(svc?.metadata?.labels?.['multicluster.linkerd.io/remote-discovery'], 'east');
  assert.equal(svc?.metadata?.labels?.['multicluster.linkerd.io/remote-service'], 'p2p');
  assert.equal(h.local.objects.endpoints.get('web/p2p-east'), undefined);
  h.exportService(remoteService('p2p'));
  await h.drain();
  assert.ok(h.local.objects.endpoints.get('web/p2p-east'), 'gateway mode adds the Endpoints');
  assert.equal(h.local.objects.services.get('web/p2p-east')?.metadata?.labels?.['multicluster.linkerd.io/remote-discovery'], undefined);
  h.exportService(remoteService('p2p', { labels: { 'mirror.linkerd.io/exported': 'remote-discovery' } }));
  h.takeWrites();
  await h.drain();
  assert.deepEqual(h.takeWrites(), ['patch Service web/p2p-east', 'delete Endpoints web/p2p-east']);
});

test('a pod-to-pod Link mirrors remote-discovery exports only', async () => {
  const h = new Harness({ gatewayAddresses: [] });
  h.exportService(remoteService('gw-only'));
  h.exportService(remoteService('p2p', { labels: { 'mirror.linkerd.io/exported': 'remote-discovery' } }));
  await h.drain();
  assert.deepEqual([...h.local.objects.services.keys()].sort(), ['web/p2p-east']);
});

test('unexport and remote deletion remove the mirror and its status entry', async () => {
  const h = new Harness();
  h.exportService(remoteService('gone'));
  await h.drain();
  assert.equal(h.status.reason('web', 'gone'), 'Mirrored');
  h.takeWrites();
  h.unexportService('web', 'gone');
  assert.deepEqual(h.queued(), ['svc:web/gone']);
  await h.drain();
  assert.deepEqual(h.takeWrites(), ['delete Endpoints web/gone-east', 'delete Service web/gone-east']);
  assert.equal(h.status.reason('web', 'gone'), undefined);
});

test('before the remote side has been listed, a missing remote Service does not remove its mirror', async () => {
  const h = new Harness();
  h.exportService(remoteService('kept'));
  await h.drain();
  h.remote.listed = false;
  h.unexportService('web', 'kept');
  h.takeWrites();
  await h.drain();
  assert.deepEqual(h.takeWrites(), []);
  assert.ok(h.local.objects.services.get('web/kept-east'));
});

test('a local Service with the mirror name is never touched; once it goes, the waiting mirror takes the name', async () => {
  const h = new Harness();
  h.local.put({ kind: 'Service', metadata: { name: 'taken-east', namespace: 'web', labels: { owner: 'me' } }, spec: { ports: [{ port: 1 }] } });
  h.exportService(remoteService('taken'));
  assert.deepEqual(await h.drain(), ['svc:web/taken failed']);
  assert.equal(h.status.reason('web', 'taken'), 'NameCollision');
  assert.match(h.status.entries.get('mirrorServices web/taken')?.message ?? '', /already exists and is not a mirror/);
  assert.deepEqual(h.local.objects.services.get('web/taken-east')?.metadata?.labels, { owner: 'me' });
  assert.equal(h.local.objects.endpoints.get('web/taken-east'), undefined, 'no Endpoints left beside it');
  assert.ok(h.events.some((e) => e.reason === 'ServiceMirroringSkipped' && e.message.startsWith('web/taken:')));
  h.local.remove('Service', 'web', 'taken-east');
  assert.deepEqual(h.queued(), ['svc:web/taken'], 'the deletion re-queues the Service that waited for the name');
  await h.drain();
  assert.equal(h.local.objects.services.get('web/taken-east')?.metadata?.labels?.['mirror.linkerd.io/cluster-name'], 'east');
  assert.equal(h.status.reason('web', 'taken'), 'Mirrored');
});

test('a mirror name over 63 characters is shortened and keeps the full name', async () => {
  const h = new Harness();
  const long = 'a-very-long-service-name-that-with-the-cluster-suffix-exceeds-it';
  h.exportService(remoteService(long));
  await h.drain();
  const [name] = [...h.local.objects.services.keys()].map((k) => k.slice('web/'.length));
  assert.ok(name && name.length <= 63 && name.endsWith('-east'), name);
  const svc = h.local.objects.services.get(`web/${name}`);
  assert.equal(svc?.metadata?.annotations?.['multicluster.linkerd.io/full-mirror-name'], `${long}-east`);
  assert.ok(h.local.objects.endpoints.get(`web/${name}`));
  assert.equal(h.status.entries.get(`mirrorServices web/${long}`)?.local, name);
});

test('a missing namespace is reported; its creation re-queues the waiting Services', async () => {
  const h = new Harness();
  h.exportService(remoteService('svc', { namespace: 'later' }));
  assert.deepEqual(await h.drain(), ['svc:later/svc failed']);
  assert.equal(h.status.reason('later', 'svc'), 'MissingNamespace');
  h.local.namespaces.add('later');
  h.router.onNamespace({ type: 'added', object: { metadata: { name: 'later' } } });
  assert.deepEqual((await h.drain()).slice(0, 2), ['ns:later done', 'svc:later/svc done']);
  assert.ok(h.local.objects.services.get('later/svc-east'));
});

test('--enable-namespace-creation creates the namespace', async () => {
  const h = new Harness({ enableNamespaceCreation: true });
  h.exportService(remoteService('svc', { namespace: 'fresh' }));
  await h.drain();
  assert.deepEqual(h.takeWrites().slice(0, 1), ['create Namespace fresh']);
  assert.ok(h.local.objects.services.get('fresh/svc-east'));
});

test('slices of a Service that is not exported queue nothing', () => {
  const h = new Harness();
  h.putSlice(remoteSlice('private', [{ ready: true }]));
  h.putSlice({ metadata: { name: 'no-label', namespace: 'web' }, addressType: 'IPv4', endpoints: [] });
  assert.deepEqual(h.queued(), []);
});
