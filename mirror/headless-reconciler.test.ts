// Headless mirroring over in-memory clusters: a headless root, one endpoint mirror per pod hostname.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, remoteService, remoteSlice } from './reconcile-harness.ts';

const GW = '192.0.2.10';

function headlessPair(): Harness {
  const h = new Harness({ gatewayAddresses: [GW], enableHeadlessServices: true });
  h.exportService(remoteService('nginx', { headless: true, labels: { 'mirror.linkerd.io/exported': 'true', app: 'nginx' } }));
  h.putSlice(
    remoteSlice('nginx', [
      { ready: true, hostname: 'nginx-0' },
      { ready: true, hostname: 'nginx-1' },
    ]),
  );
  return h;
}

test('each remote pod hostname gets a ClusterIP endpoint mirror behind a headless root', async () => {
  const h = headlessPair();
  await h.drain();
  const root = h.local.objects.services.get('web/nginx-east');
  assert.equal(root?.spec?.clusterIP, 'None');
  const ips: Record<string, string | undefined> = {};
  for (const host of ['nginx-0', 'nginx-1']) {
    const m = h.local.objects.services.get(`web/${host}-east`);
    assert.notEqual(m?.spec?.clusterIP, 'None');
    assert.equal(m?.metadata?.labels?.['mirror.linkerd.io/headless-mirror-svc-name'], 'nginx-east');
    assert.equal(m?.metadata?.annotations?.['mirror.linkerd.io/remote-svc-fq-name'], `${host}.nginx.web.svc.cluster.local`);
    const ep = h.local.objects.endpoints.get(`web/${host}-east`);
    assert.deepEqual(ep?.subsets?.[0]?.addresses, [{ ip: GW }]);
    assert.equal(ep?.metadata?.labels?.['app'], 'nginx');
    ips[host] = m?.spec?.clusterIP;
  }
  const rootEp = h.local.objects.endpoints.get('web/nginx-east');
  const byHost: Record<string, string | undefined> = {};
  for (const a of rootEp?.subsets?.[0]?.addresses ?? []) byHost[a.hostname ?? ''] = a.ip;
  assert.deepEqual(byHost, ips);
  assert.equal(rootEp?.subsets?.[0]?.ports?.[0]?.port, 80, 'the root keeps the remote port');
  assert.equal(h.status.reason('web', 'nginx'), 'Mirrored');
});

test('a hostname that goes away takes its endpoint mirror with it; unexport removes them all', async () => {
  const h = headlessPair();
  await h.drain();
  h.putSlice(remoteSlice('nginx', [{ ready: true, hostname: 'nginx-0' }]));
  h.takeWrites();
  await h.drain();
  assert.deepEqual(
    h.takeWrites().filter((w) => w.startsWith('delete')),
    ['delete Endpoints web/nginx-1-east', 'delete Service web/nginx-1-east'],
  );
  h.unexportService('web', 'nginx');
  await h.drain();
  assert.deepEqual([...h.local.objects.services.keys()], []);
  assert.deepEqual([...h.local.objects.endpoints.keys()], []);
});

test('a dead gateway lists the hostnames as not ready in the root', async () => {
  const h = headlessPair();
  h.alive = false;
  await h.drain();
  const rootEp = h.local.objects.endpoints.get('web/nginx-east');
  assert.equal(rootEp?.subsets?.[0]?.addresses, undefined);
  assert.equal(rootEp?.subsets?.[0]?.notReadyAddresses?.length, 2);
});

test('without pod hostnames (or without --enable-headless-services) a headless Service is mirrored as ClusterIP', async () => {
  const h = new Harness({ gatewayAddresses: [GW], enableHeadlessServices: true });
  h.exportService(remoteService('plain', { headless: true }));
  h.putSlice(remoteSlice('plain', [{ ready: true }]));
  await h.drain();
  assert.notEqual(h.local.objects.services.get('web/plain-east')?.spec?.clusterIP, 'None');
  const off = new Harness({ gatewayAddresses: [GW] });
  off.exportService(remoteService('nginx', { headless: true }));
  off.putSlice(remoteSlice('nginx', [{ ready: true, hostname: 'nginx-0' }]));
  await off.drain();
  assert.deepEqual([...off.local.objects.services.keys()], ['web/nginx-east']);
  assert.notEqual(off.local.objects.services.get('web/nginx-east')?.spec?.clusterIP, 'None');
});

test('a root mirror that turns headless is recreated (clusterIP is immutable)', async () => {
  const h = new Harness({ gatewayAddresses: [GW], enableHeadlessServices: true });
  h.exportService(remoteService('db'));
  await h.drain();
  h.exportService(remoteService('db', { headless: true }));
  h.putSlice(remoteSlice('db', [{ ready: true, hostname: 'db-0' }]));
  h.takeWrites();
  await h.drain();
  const writes = h.takeWrites();
  assert.deepEqual(writes.slice(0, 2), ['delete Service web/db-east', 'create Service web/db-east']);
  assert.equal(h.local.objects.services.get('web/db-east')?.spec?.clusterIP, 'None');
  assert.ok(h.local.objects.services.get('web/db-0-east'));
});
