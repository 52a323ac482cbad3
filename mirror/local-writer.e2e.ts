// LocalWriter against a real API server: guarded JSON patches, ownership, collisions, and
// the concurrent create of a new mirror's Service and Endpoints.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, type V1Endpoints, type V1Service } from '@kubernetes/client-node';
import { ClusterPair } from '../dev/cluster-pair.ts';
import { mergePatch, readIfExists } from '../kube/client.ts';
import { NameCollisionError, RetryableError } from './errors.ts';
import { endpointsRecord, serviceRecord } from './local-record.ts';
import { LocalWriter } from './local-writer.ts';
import { desiredGatewayEndpoints, desiredMirrorService, type MirrorSettings } from './mirror-objects.ts';

const NS = 'writer';
const settings: MirrorSettings = {
  clusterName: 'east',
  clusterDomain: 'cluster.local',
  gatewayIdentity: 'gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local',
  gatewayPort: 4143,
  excludedLabels: [],
  excludedAnnotations: [],
};
const gateway = { addresses: ['172.18.0.5'], alive: true };

function remote(name: string, labels: Record<string, string> = {}): V1Service {
  return {
    metadata: { name, namespace: NS, resourceVersion: '7', labels: { 'mirror.linkerd.io/exported': 'true', ...labels } },
    spec: { type: 'ClusterIP', clusterIP: '10.9.0.1', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
  };
}

let pair: ClusterPair;
let core: CoreV1Api;
let writer: LocalWriter;
const svcRecord = serviceRecord('east');
const epRecord = endpointsRecord('east');
const readSvc = (name: string) => readIfExists(() => core.readNamespacedService({ name, namespace: NS }));
const readEp = (name: string) => readIfExists(() => core.readNamespacedEndpoints({ name, namespace: NS }));

function desired(name: string, labels: Record<string, string> = {}): { service: V1Service; endpoints: V1Endpoints } {
  const r = remote(name, labels);
  return { service: desiredMirrorService(r, 'gateway', settings), endpoints: desiredGatewayEndpoints(r, true, gateway, settings) };
}

describe('LocalWriter on a real API server', { concurrency: false }, () => {
  before(async () => {
    pair = await ClusterPair.start({ progress: (m) => process.stderr.write(`  harness: ${m}\n`) });
    core = pair.cluster1.kubeConfig.makeApiClient(CoreV1Api);
    writer = new LocalWriter(pair.cluster1.kubeConfig, 'east', 'writer-test');
    await core.createNamespace({ body: { metadata: { name: NS } } });
  });
  after(async () => {
    await pair?.stop();
  });

  test('createMirror creates both objects, and the records of what the server stored match what was desired', async () => {
    const want = desired('web');
    const result = await writer.createMirror(want.service, want.endpoints);
    assert.deepEqual(result, { service: 'created', endpoints: 'created' });
    const svc = await readSvc('web-east');
    const ep = await readEp('web-east');
    assert.ok(svc && ep);
    // The API server adds defaults (targetPort, protocol, clusterIP, sessionAffinity…); the digest must see through them.
    assert.equal(await writer.ensureService(want.service, svcRecord(svc)), 'unchanged');
    assert.equal(await writer.ensureEndpoints(want.endpoints, epRecord(ep)), 'unchanged');
  });

  test('a changed remote is written with a guarded patch that keeps server-set fields', async () => {
    const before = await readSvc('web-east');
    assert.ok(before);
    const want = desired('web', { tier: 'front' });
    want.service.spec = { ...want.service.spec, ports: [{ name: 'http', port: 81, targetPort: 8081 }] };
    assert.equal(await writer.ensureService(want.service, svcRecord(before)), 'updated');
    const after = await readSvc('web-east');
    assert.equal(after?.metadata?.labels?.['tier'], 'front');
    assert.equal(after?.spec?.ports?.[0]?.port, 81);
    assert.equal(after?.spec?.clusterIP, before.spec?.clusterIP, 'the allocated ClusterIP is kept');
    assert.equal(after?.metadata?.uid, before.metadata?.uid);

    const ep = await readEp('web-east');
    assert.ok(ep);
    const unready = desiredGatewayEndpoints(remote('web'), false, gateway, settings);
    assert.equal(await writer.ensureEndpoints(unready, epRecord(ep)), 'updated');
    assert.equal((await readEp('web-east'))?.subsets, undefined, 'no ready remote endpoints: no subsets');
  });

  test('a removed label is removed, not merged', async () => {
    const svc = await readSvc('web-east');
    assert.ok(svc);
    assert.equal(await writer.ensureService(desired('web').service, svcRecord(svc)), 'updated');
    assert.equal((await readSvc('web-east'))?.metadata?.labels?.['tier'], undefined);
  });

  test('a stale record (the object was relabelled since) is a retryable failure and writes nothing', async () => {
    const stale = await readSvc('web-east');
    assert.ok(stale);
    // Someone takes the Service over: it is no longer this Link's mirror.
    await core.patchNamespacedService(
      { name: 'web-east', namespace: NS, body: { metadata: { labels: { 'mirror.linkerd.io/cluster-name': 'someone-else' } } } },
      mergePatch,
    );
    const taken = await readSvc('web-east');
    await assert.rejects(writer.ensureService(desired('web', { tier: 'back' }).service, svcRecord(stale)), (err: unknown) => {
      assert.ok(err instanceof RetryableError, `a RetryableError, got ${String(err)}`);
      assert.match(err.message, /changed owner or identity/);
      return true;
    });
    const now = await readSvc('web-east');
    assert.equal(now?.metadata?.resourceVersion, taken?.metadata?.resourceVersion, 'nothing was written');
    // With the fresh record, it is a collision: reported, never overwritten or deleted.
    await assert.rejects(writer.ensureService(desired('web').service, svcRecord(now as V1Service)), NameCollisionError);
    assert.equal(await writer.deleteService(NS, 'web-east', svcRecord(now as V1Service)), 'absent');
    assert.ok(await readSvc('web-east'));
  });

  test('a record of a deleted and recreated object (new uid) does not apply to the new one', async () => {
    const want = desired('api');
    await writer.createMirror(want.service, want.endpoints);
    const old = await readEp('api-east');
    assert.ok(old);
    await core.deleteNamespacedEndpoints({ name: 'api-east', namespace: NS });
    await core.createNamespacedEndpoints({ namespace: NS, body: { metadata: { name: 'api-east', labels: old.metadata?.labels } } });
    const unready = desiredGatewayEndpoints(remote('api'), false, gateway, settings);
    await assert.rejects(writer.ensureEndpoints(unready, epRecord(old)), RetryableError);
    await assert.rejects(writer.deleteEndpoints(NS, 'api-east', epRecord(old)), RetryableError, 'the delete carries the old uid as a precondition');
    assert.ok(await readEp('api-east'));
  });

  test('createMirror over a user Service of the same name: collision, and no mirror Endpoints left beside it', async () => {
    await core.createNamespacedService({ namespace: NS, body: { metadata: { name: 'db-east' }, spec: { ports: [{ port: 5432 }] } } });
    const want = desired('db');
    await assert.rejects(writer.createMirror(want.service, want.endpoints), NameCollisionError);
    assert.equal(await readEp('db-east'), undefined, 'the Endpoints created beside it were deleted again');
    const user = await readSvc('db-east');
    assert.equal(user?.metadata?.labels, undefined, 'the user Service is untouched');
  });

  test('createMirror when the mirror already exists (the cache had not seen it yet) converges it', async () => {
    const want = desired('cache-lag');
    await writer.createMirror(want.service, want.endpoints);
    const again = desired('cache-lag', { version: '2' });
    const result = await writer.createMirror(again.service, again.endpoints);
    // The mirror Endpoints carry the remote Service's labels too (as upstream's do): both change.
    assert.deepEqual(result, { service: 'updated', endpoints: 'updated' });
    assert.equal((await readSvc('cache-lag-east'))?.metadata?.labels?.['version'], '2');
    assert.equal((await readEp('cache-lag-east'))?.metadata?.labels?.['version'], '2');
  });
});
