// The gateway repair and the orphan sweep over in-memory clusters: gateway liveness and
// address changes, the probe Endpoints (Linkerd's adopted), mirrors left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, remoteService, remoteSlice } from './reconcile-harness.ts';

const GW = '192.0.2.10';

async function mirrored(h: Harness, ...names: string[]): Promise<void> {
  for (const name of names) {
    h.exportService(remoteService(name));
    h.putSlice(remoteSlice(name, [{ ready: true }]));
  }
  await h.drain();
  h.takeWrites();
}

test('a dead gateway moves the addresses to notReadyAddresses; alive again restores them', async () => {
  const h = new Harness({ gatewayAddresses: [GW] });
  await mirrored(h, 'web-svc', 'other');
  h.alive = false;
  h.ctx.enqueue({ kind: 'GatewayChanged' });
  assert.equal((await h.step())?.key, 'gateway');
  assert.deepEqual(h.queued(), ['svc:web/web-svc', 'svc:web/other'], 'every gateway-mode mirror is re-checked');
  assert.ok(
    [...h.queue.values()].every((p) => p === 'background'),
    'behind any change',
  );
  await h.drain();
  const ep = h.local.objects.endpoints.get('web/web-svc-east');
  assert.deepEqual(ep?.subsets?.[0]?.notReadyAddresses, [{ ip: GW }]);
  assert.equal(ep?.subsets?.[0]?.addresses, undefined);
  h.alive = true;
  h.ctx.enqueue({ kind: 'GatewayChanged' });
  await h.drain();
  assert.deepEqual(h.local.objects.endpoints.get('web/web-svc-east')?.subsets?.[0]?.addresses, [{ ip: GW }]);
});

test('a moved gateway address reaches the mirrors and the probe Endpoints on the next repair', async () => {
  const h = new Harness({ gatewayAddresses: [GW], probePort: 4191 });
  await mirrored(h, 'api');
  h.resolved = { addresses: ['192.0.2.77'], source: 'remote-service', unresolved: [] };
  h.ctx.enqueue({ kind: 'GatewayChanged' });
  await h.drain();
  assert.deepEqual(h.local.objects.endpoints.get('web/api-east')?.subsets?.[0]?.addresses, [{ ip: '192.0.2.77' }]);
  const probe = h.local.objects.endpoints.get('linkerd-multicluster/probe-east');
  assert.deepEqual(probe?.subsets?.[0]?.addresses, [{ ip: '192.0.2.77' }]);
  assert.equal(probe?.subsets?.[0]?.ports?.[0]?.port, 4191);
  assert.equal(probe?.metadata?.labels?.['mirror.linkerd.io/mirrored-gateway'], 'true');
});

test("Linkerd's own probe Endpoints (cluster-name label only) are adopted, not reported as a collision", async () => {
  const h = new Harness({ gatewayAddresses: [GW], probePort: 4191 });
  h.local.put({
    kind: 'Endpoints',
    metadata: { name: 'probe-east', namespace: 'linkerd-multicluster', labels: { 'mirror.linkerd.io/cluster-name': 'east' } },
    subsets: [{ addresses: [{ ip: '198.51.100.1' }], ports: [{ name: 'mc-probe', port: 4191 }] }],
  });
  const uid = h.local.objects.endpoints.get('linkerd-multicluster/probe-east')?.metadata?.uid;
  h.ctx.enqueue({ kind: 'GatewayChanged' });
  assert.deepEqual(await h.drain(), ['gateway done']);
  const probe = h.local.objects.endpoints.get('linkerd-multicluster/probe-east');
  assert.equal(probe?.metadata?.uid, uid, 'updated in place');
  assert.deepEqual(probe?.subsets?.[0]?.addresses, [{ ip: GW }]);
  assert.equal(probe?.metadata?.labels?.['mirror.linkerd.io/mirrored-gateway'], 'true');
});

test('probe Endpoints of another cluster are a collision, reported as an Event', async () => {
  const h = new Harness({ gatewayAddresses: [GW], probePort: 4191 });
  h.local.put({
    kind: 'Endpoints',
    metadata: { name: 'probe-east', namespace: 'linkerd-multicluster', labels: { 'mirror.linkerd.io/cluster-name': 'west' } },
  });
  h.ctx.enqueue({ kind: 'GatewayChanged' });
  assert.deepEqual(await h.drain(), ['gateway failed']);
  assert.ok(h.events.some((e) => e.reason === 'ServiceMirroringSkipped' && e.message.startsWith('gateway repair:')));
});

test('a rejected gateway read marks the credentials invalid', async () => {
  const h = new Harness({ gatewayAddresses: [GW] });
  h.resolved = { addresses: [GW], source: 'link-spec', unresolved: [], remoteError: { status: 403, message: 'forbidden' } };
  h.ctx.enqueue({ kind: 'GatewayChanged' });
  await h.drain();
  assert.equal(h.status.conditions.get('CredentialsValid')?.reason, 'Rejected');
});

test('the orphan sweep re-queues mirrors whose remote Service is gone, once the remote side is listed', async () => {
  const h = new Harness();
  await mirrored(h, 'live', 'orphan');
  h.remote.servicesByKey.delete('web/orphan');
  h.remote.listed = false;
  h.ctx.enqueue({ kind: 'OrphanSweep' });
  await h.drain();
  assert.ok(h.local.objects.services.get('web/orphan-east'), 'an unlisted remote is not an empty one');
  h.remote.listed = true;
  h.router.onRemoteService({ type: 'listed' });
  assert.deepEqual(h.queued(), ['orphans']);
  await h.step();
  assert.deepEqual(h.queued(), ['svc:web/orphan']);
  await h.drain();
  assert.deepEqual(h.takeWrites(), ['delete Endpoints web/orphan-east', 'delete Service web/orphan-east']);
  assert.equal(h.status.conditions.get('RemoteReachable')?.status, 'True');
});

test('a refused remote watch: 401/403 mean rejected credentials; other failures only unreachable', () => {
  const h = new Harness();
  h.router.onRemoteService({ type: 'error', message: 'connect ECONNREFUSED' });
  assert.equal(h.status.conditions.get('RemoteReachable')?.reason, 'Unreachable');
  assert.equal(h.status.conditions.get('CredentialsValid'), undefined);
  // A message that merely mentions "Forbidden" is not a 403.
  h.router.onRemoteService({ type: 'error', message: 'proxy says: Forbidden words', status: 502 });
  assert.equal(h.status.conditions.get('CredentialsValid'), undefined);
  h.router.onRemoteService({ type: 'error', message: 'Unauthorized (HTTP 401)', status: 401 });
  assert.equal(h.status.conditions.get('RemoteReachable')?.reason, 'Unauthorized');
  assert.equal(h.status.conditions.get('CredentialsValid')?.reason, 'Rejected');
});

test('the orphan sweep re-queues the federated members this cluster no longer has, the local mirror’s included', async () => {
  for (const [cluster, annotation, value] of [
    ['east', 'multicluster.linkerd.io/remote-discovery', 'gone@east,kept@west'],
    ['', 'multicluster.linkerd.io/local-discovery', 'gone'],
  ] as const) {
    const h = new Harness({ cluster, gatewayAddresses: [] });
    h.local.put({
      kind: 'Service',
      metadata: {
        name: 'gone-federated',
        namespace: 'web',
        labels: { 'mirror.linkerd.io/mirrored-service': 'true' },
        annotations: { [annotation]: value },
      },
      spec: { ports: [{ name: 'http', port: 80 }] },
    });
    h.ctx.enqueue({ kind: 'OrphanSweep' });
    await h.step();
    assert.deepEqual(h.queued(), ['fed:web/gone'], `cluster "${cluster}"`);
  }
});
