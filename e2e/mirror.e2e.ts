// The service-mirror controller against two real clusters: each behaviour of issue #4 is a
// test that fails when the mirrored objects differ from upstream's shapes. Every test creates
// the Services it looks at, so any one can run alone (--test-name-pattern); the ones that
// break something (credentials, the Link itself) put it back or come last.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoordinationV1Api, PatchStrategy, setHeaderOptions, type CoreV1Api, type V1Endpoints, type V1Service } from '@kubernetes/client-node';
import { isConflict, mergePatch, readIfExists as tryRead } from '../kube/client.ts';
import { waitFor } from '../dev/managed-process.ts';
import { cli } from './fixtures/cli.ts';
import { apply } from './fixtures/kubectl.ts';
import { linkedPair, MC_NS, startGatewayPod, type LinkedPair, type MirrorProcess } from './fixtures/linked-pair.ts';
import { workloadCommand } from './workloads/launch.ts';

const WAIT = { timeoutMs: 30_000, intervalMs: 100 };
const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
let env: LinkedPair;
let mirror: MirrorProcess;
/** The leader's leader-election identity. */
let mirrorIdentity = 'mirror-a';

const readSvc = (core: CoreV1Api, namespace: string, name: string) => tryRead(() => core.readNamespacedService({ name, namespace }));
const readEp = (core: CoreV1Api, namespace: string, name: string) => tryRead(() => core.readNamespacedEndpoints({ name, namespace }));

async function ensureNamespace(core: CoreV1Api, name: string): Promise<void> {
  if (!(await tryRead(() => core.readNamespace({ name })))) await core.createNamespace({ body: { metadata: { name } } });
}

async function exportService(
  namespace: string,
  name: string,
  labels: Record<string, string>,
  annotations: Record<string, string> = {},
): Promise<V1Service> {
  await ensureNamespace(env.core2, namespace);
  return env.core2.createNamespacedService({
    namespace,
    body: {
      metadata: { name, labels, annotations },
      spec: {
        selector: { app: name },
        ports: [
          { name: 'http', port: 80, targetPort: 8080, appProtocol: 'http' },
          { name: 'grpc', port: 9090, protocol: 'TCP' },
        ],
      },
    },
  });
}

async function startBackend(namespace: string, app: string, podName = `${app}-0`) {
  return env.pair.cluster2.pods.start({
    namespace,
    name: podName,
    labels: { app },
    command: workloadCommand('http-server.ts'),
    env: { PORT: '8080', CLUSTER: 'cluster2' },
    ports: [{ name: 'http', containerPort: 8080 }],
    readinessPort: 8080,
  });
}

function waitMirror(namespace: string, name: string, pred: (s: V1Service) => boolean = () => true): Promise<V1Service> {
  return waitFor(
    `mirror Service ${namespace}/${name}`,
    async () => {
      const s = await readSvc(env.core1, namespace, name);
      return s && pred(s) ? s : undefined;
    },
    WAIT,
  );
}

function waitEndpoints(namespace: string, name: string, pred: (e: V1Endpoints) => boolean): Promise<V1Endpoints> {
  return waitFor(
    `mirror Endpoints ${namespace}/${name}`,
    async () => {
      const e = await readEp(env.core1, namespace, name);
      return e && pred(e) ? e : undefined;
    },
    WAIT,
  );
}

function waitGone(namespace: string, name: string): Promise<true> {
  return waitFor(`${namespace}/${name} to be deleted`, async () => ((await readSvc(env.core1, namespace, name)) ? undefined : true), WAIT);
}

interface LinkStatusView {
  metadata: { uid: string; finalizers?: string[] };
  status?: {
    conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
    mirrorServices?: Array<{
      remoteRef: { name: string; namespace: string };
      conditions?: Array<{ reason: string; status: string; message: string; lastTransitionTime: string }>;
    }>;
    federatedServices?: Array<{ remoteRef: { name: string; namespace: string } }>;
  };
}

async function readLink(): Promise<LinkStatusView | undefined> {
  return tryRead(
    async () =>
      (await env.custom1.getNamespacedCustomObject({
        group: 'multicluster.linkerd.io',
        version: 'v1alpha3',
        namespace: MC_NS,
        plural: 'links',
        name: 'cluster2',
      })) as LinkStatusView,
  );
}

function waitLinkCondition(type: string, status: string, reason?: string) {
  return waitFor(
    `Link condition ${type}=${status}${reason ? ` (${reason})` : ''}`,
    async () => {
      const c = (await readLink())?.status?.conditions?.find((x) => x.type === type);
      return c && c.status === status && (!reason || c.reason === reason) ? c : undefined;
    },
    WAIT,
  );
}

/** A gateway-mode export with a ready backend, once its mirror has ready gateway Endpoints. */
async function mirroredWithBackend(name: string): Promise<V1Endpoints> {
  await exportService('web', name, { 'mirror.linkerd.io/exported': 'true' });
  await startBackend('web', name);
  await waitMirror('web', `${name}-cluster2`);
  return waitEndpoints('web', `${name}-cluster2`, (e) => readyIps(e).includes(env.gateway.ip));
}

function mirrorEntry(name: string, reason: string) {
  return waitFor(
    `${reason} for web/${name} in the Link status`,
    async () => (await readLink())?.status?.mirrorServices?.find((m) => m.remoteRef.name === name)?.conditions?.find((c) => c.reason === reason),
    WAIT,
  );
}

async function gatewayLoadBalancerIp(): Promise<string | undefined> {
  const svc = await env.core2.readNamespacedService({ name: 'linkerd-gateway', namespace: MC_NS });
  return svc.status?.loadBalancer?.ingress?.[0]?.ip;
}

async function ready(m: MirrorProcess): Promise<number> {
  return (await fetch(`http://127.0.0.1:${m.metricsPort}/ready`)).status;
}

/** How often the controller has logged `line` so far. */
async function logCount(line: string): Promise<number> {
  return (await mirror.proc.lastLog(1_000_000)).split(line).length - 1;
}

async function mirrorUids(): Promise<Map<string, string>> {
  const list = await env.core1.listServiceForAllNamespaces({
    labelSelector: 'mirror.linkerd.io/cluster-name=cluster2,mirror.linkerd.io/mirrored-service=true',
  });
  return new Map(list.items.map((s) => [`${s.metadata?.namespace}/${s.metadata?.name}`, s.metadata?.uid ?? '']));
}

const LINK_ARGS = ['--excluded-labels', 'evil.linkerd/*,evil', '--excluded-annotations', 'evil.linkerd/*,evil'];

/** Runs `link` again and applies it: a fresh token in the credentials Secret, the same Link spec. */
async function relink(): Promise<void> {
  const yaml = await cli([
    'link',
    '--kubeconfig',
    env.pair.kubeconfigPath,
    '--context',
    env.pair.cluster2.context,
    '--cluster-name',
    'cluster2',
    '--trust-domain',
    'cluster.local',
    '--cluster-domain',
    'cluster.local',
    '--controller=false',
    ...LINK_ARGS,
  ]);
  await apply(env.pair, env.pair.cluster1, yaml);
}

const readyIps = (e: V1Endpoints) => (e.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip));
const notReadyIps = (e: V1Endpoints) => (e.subsets ?? []).flatMap((s) => (s.notReadyAddresses ?? []).map((a) => a.ip));

describe('service mirror', { concurrency: false }, () => {
  before(async () => {
    env = await linkedPair({ linkArgs: LINK_ARGS });
    await ensureNamespace(env.core1, 'web');
    mirror = await env.startMirror();
  });
  after(async () => {
    await env?.stop();
  });

  test('gateway mode: <svc>-cluster2 with upstream labels, annotations, ports and gateway Endpoints', async () => {
    const remote = await exportService(
      'web',
      'web-svc',
      { 'mirror.linkerd.io/exported': 'true', app: 'web', 'evil.linkerd/x': 'no', evil: 'no', 'evil.linkerdx/keep': 'yes' },
      {
        note: 'copied',
        'evil.linkerd/y': 'no',
        'config.linkerd.io/opaque-ports': '9090',
        'service.kubernetes.io/topology-mode': 'auto',
      },
    );
    const pod = await startBackend('web', 'web-svc');
    const svc = await waitMirror('web', 'web-svc-cluster2');
    const labels = {
      app: 'web',
      'evil.linkerdx/keep': 'yes',
      'mirror.linkerd.io/mirrored-service': 'true',
      'mirror.linkerd.io/cluster-name': 'cluster2',
    };
    assert.deepEqual(svc.metadata?.labels, labels);
    const ann = svc.metadata?.annotations ?? {};
    assert.equal(ann['note'], 'copied');
    assert.equal(ann['config.linkerd.io/opaque-ports'], '9090');
    assert.equal(ann['evil.linkerd/y'], undefined, 'excluded annotation not copied');
    assert.equal(ann['service.kubernetes.io/topology-mode'], undefined, 'topology annotation never copied');
    assert.equal(ann['mirror.linkerd.io/remote-svc-fq-name'], 'web-svc.web.svc.cluster.local');
    assert.ok(ann['mirror.linkerd.io/remote-resource-version'], 'remote resource version recorded');
    assert.equal(svc.spec?.type, 'ClusterIP');
    assert.equal(svc.spec?.selector, undefined, 'selectorless');

    // The gateway's address is what its LoadBalancer Service reports (the controller reads it live).
    const ep = await waitFor(
      'mirror Endpoints at the gateway LoadBalancer address',
      async () => {
        const lb = await gatewayLoadBalancerIp();
        const e = await readEp(env.core1, 'web', 'web-svc-cluster2');
        return e && lb && readyIps(e).join() === lb ? e : undefined;
      },
      WAIT,
    );
    assert.notEqual(readyIps(ep)[0], pod.ip);
    assert.deepEqual(ep.subsets?.[0]?.ports?.map((p) => [p.name, p.port]).sort(), [
      ['grpc', 4143],
      ['http', 4143],
    ]);
    assert.equal(
      ep.metadata?.annotations?.['mirror.linkerd.io/remote-gateway-identity'],
      'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local',
    );
    assert.equal(ep.metadata?.annotations?.['mirror.linkerd.io/remote-svc-fq-name'], 'web-svc.web.svc.cluster.local');
    // As Linkerd does: the Service's labels (exclusions applied) on the Endpoints too.
    assert.deepEqual(ep.metadata?.labels, labels);
    const selected = await env.core1.listNamespacedEndpoints({ namespace: 'web', labelSelector: 'app=web,mirror.linkerd.io/cluster-name=cluster2' });
    assert.deepEqual(
      selected.items.map((e) => e.metadata?.name),
      ['web-svc-cluster2'],
      'a label selector on Endpoints finds the mirror',
    );
    assert.equal(remote.metadata?.name, 'web-svc');
  });

  test("a port's appProtocol is kept on the mirror Service (upstream drops it)", async () => {
    await exportService('web', 'proto', { 'mirror.linkerd.io/exported': 'true' });
    const svc = await waitMirror('web', 'proto-cluster2');
    assert.deepEqual(
      svc.spec?.ports?.map((p) => [p.name, p.port, p.protocol, p.appProtocol]),
      [
        ['http', 80, 'TCP', 'http'],
        ['grpc', 9090, 'TCP', undefined],
      ],
    );
  });

  test('a remote Service with no ready endpoints gets Endpoints with no subsets', async () => {
    await exportService('web', 'idle', { 'mirror.linkerd.io/exported': 'true' });
    await waitMirror('web', 'idle-cluster2');
    const ep = await waitEndpoints('web', 'idle-cluster2', () => true);
    assert.deepEqual(ep.subsets ?? [], []);
    await startBackend('web', 'idle');
    await waitEndpoints('web', 'idle-cluster2', (e) => readyIps(e).includes(env.gateway.ip));
  });

  test('a selector-less exported Service with hand-written Endpoints is mirrored with ready gateway Endpoints', async () => {
    // The EndpointSlice mirroring controller makes its slices; they carry no export label.
    await ensureNamespace(env.core2, 'web');
    await env.core2.createNamespacedService({
      namespace: 'web',
      body: {
        metadata: { name: 'external-db', labels: { 'mirror.linkerd.io/exported': 'true' } },
        spec: { ports: [{ name: 'pg', port: 5432 }] },
      },
    });
    await env.core2.createNamespacedEndpoints({
      namespace: 'web',
      body: { metadata: { name: 'external-db' }, subsets: [{ addresses: [{ ip: '192.0.2.50' }], ports: [{ name: 'pg', port: 5432 }] }] },
    });
    const ep = await waitEndpoints('web', 'external-db-cluster2', (e) => readyIps(e).includes(env.gateway.ip));
    assert.deepEqual(
      ep.subsets?.[0]?.ports?.map((p) => [p.name, p.port]),
      [['pg', 4143]],
    );
    // And back: the hand-written Endpoints emptied, the mirror has no address to offer.
    await env.core2.replaceNamespacedEndpoints({ name: 'external-db', namespace: 'web', body: { metadata: { name: 'external-db' }, subsets: [] } });
    await waitEndpoints('web', 'external-db-cluster2', (e) => readyIps(e).length === 0);
  });

  test('remote-discovery mode: remote-discovery labels and no Endpoints; switching modes converts the mirror', async () => {
    await exportService('web', 'p2p', { 'mirror.linkerd.io/exported': 'remote-discovery' });
    const svc = await waitMirror('web', 'p2p-cluster2');
    assert.equal(svc.metadata?.labels?.['multicluster.linkerd.io/remote-discovery'], 'cluster2');
    assert.equal(svc.metadata?.labels?.['multicluster.linkerd.io/remote-service'], 'p2p');
    assert.equal(await readEp(env.core1, 'web', 'p2p-cluster2'), undefined, 'no Endpoints in remote-discovery mode');

    await env.core2.patchNamespacedService({
      name: 'p2p',
      namespace: 'web',
      body: [{ op: 'replace', path: '/metadata/labels/mirror.linkerd.io~1exported', value: 'true' }],
    });
    await waitMirror('web', 'p2p-cluster2', (s) => s.metadata?.labels?.['multicluster.linkerd.io/remote-discovery'] === undefined);
    await waitEndpoints('web', 'p2p-cluster2', () => true);
  });

  test('a mirror edited or deleted by someone else is converged back', async () => {
    const ep = await mirroredWithBackend('tampered');
    const svc = await waitMirror('web', 'tampered-cluster2');
    // A stray label and a changed port on the Service; the Endpoints emptied, then deleted.
    await env.core1.patchNamespacedService(
      {
        name: 'tampered-cluster2',
        namespace: 'web',
        body: { metadata: { labels: { stray: 'yes' } }, spec: { ports: [{ name: 'http', port: 81, targetPort: 8080 }] } },
      },
      mergePatch,
    );
    await waitMirror(
      'web',
      'tampered-cluster2',
      (s) => s.metadata?.labels?.['stray'] === undefined && s.spec?.ports?.map((p) => p.port).join() === '80,9090',
    );
    await env.core1.deleteNamespacedEndpoints({ name: 'tampered-cluster2', namespace: 'web' });
    const restored = await waitEndpoints(
      'web',
      'tampered-cluster2',
      (e) => e.metadata?.uid !== ep.metadata?.uid && readyIps(e).includes(env.gateway.ip),
    );
    assert.equal(restored.metadata?.annotations?.['mirror.linkerd.io/remote-svc-fq-name'], 'tampered.web.svc.cluster.local');
    const now = await readSvc(env.core1, 'web', 'tampered-cluster2');
    assert.equal(now?.metadata?.uid, svc.metadata?.uid, 'the Service was patched back in place, not recreated');
  });

  test('unexporting or deleting the remote Service deletes the mirror', async () => {
    await exportService('web', 'gone1', { 'mirror.linkerd.io/exported': 'true' });
    await exportService('web', 'gone2', { 'mirror.linkerd.io/exported': 'true' });
    await waitMirror('web', 'gone1-cluster2');
    await waitMirror('web', 'gone2-cluster2');
    await env.core2.patchNamespacedService({
      name: 'gone1',
      namespace: 'web',
      body: [{ op: 'remove', path: '/metadata/labels/mirror.linkerd.io~1exported' }],
    });
    await env.core2.deleteNamespacedService({ name: 'gone2', namespace: 'web' });
    await waitGone('web', 'gone1-cluster2');
    await waitGone('web', 'gone2-cluster2');
    assert.equal(await readEp(env.core1, 'web', 'gone1-cluster2'), undefined);
  });

  test('a local Service with the mirror name is never touched; the collision is reported', async () => {
    const mine = await env.core1.createNamespacedService({
      namespace: 'web',
      body: { metadata: { name: 'taken-cluster2', labels: { owner: 'me' } }, spec: { ports: [{ port: 1234 }] } },
    });
    await exportService('web', 'taken', { 'mirror.linkerd.io/exported': 'true' });
    const condition = await mirrorEntry('taken', 'NameCollision');
    assert.equal(condition.status, 'False');
    assert.match(condition.message, /taken-cluster2 already exists and is not a mirror/);
    const after = await env.core1.readNamespacedService({ name: 'taken-cluster2', namespace: 'web' });
    assert.equal(after.metadata?.resourceVersion, mine.metadata?.resourceVersion, 'user Service unmodified');
    assert.equal(await readEp(env.core1, 'web', 'taken-cluster2'), undefined, 'no Endpoints written for it');
    const events = await waitFor(
      'ServiceMirroringSkipped event',
      async () => {
        const list = await env.core1.listNamespacedEvent({ namespace: MC_NS });
        return list.items.find((e) => e.reason === 'ServiceMirroringSkipped' && e.message?.includes('web/taken'));
      },
      WAIT,
    );
    assert.equal(events.involvedObject.kind, 'Link');
  });

  test('once the Service in the way is deleted, the mirror takes the name', async () => {
    await env.core1.createNamespacedService({ namespace: 'web', body: { metadata: { name: 'freed-cluster2' }, spec: { ports: [{ port: 1234 }] } } });
    await exportService('web', 'freed', { 'mirror.linkerd.io/exported': 'true' });
    await mirrorEntry('freed', 'NameCollision');
    // Its deletion event re-queues the remote Service that was waiting for the name.
    await env.core1.deleteNamespacedService({ name: 'freed-cluster2', namespace: 'web' });
    const mirror = await waitFor(
      'the mirror once the name is free',
      async () => {
        const s = await readSvc(env.core1, 'web', 'freed-cluster2');
        return s?.metadata?.labels?.['mirror.linkerd.io/cluster-name'] === 'cluster2' ? s : undefined;
      },
      WAIT,
    );
    assert.equal(mirror.metadata?.annotations?.['mirror.linkerd.io/remote-svc-fq-name'], 'freed.web.svc.cluster.local');
    await waitEndpoints('web', 'freed-cluster2', () => true);
  });

  test('a mirror name over 63 characters is shortened deterministically and keeps the full name', async () => {
    const long = 'a-very-long-service-name-that-with-the-cluster-suffix-exceeds';
    await exportService('web', long, { 'mirror.linkerd.io/exported': 'true' });
    const svc = await waitFor(
      'shortened mirror',
      async () => {
        const list = await env.core1.listNamespacedService({ namespace: 'web', labelSelector: 'mirror.linkerd.io/cluster-name=cluster2' });
        return list.items.find((s) => s.metadata?.annotations?.['mirror.linkerd.io/remote-svc-fq-name'] === `${long}.web.svc.cluster.local`);
      },
      WAIT,
    );
    const name = svc.metadata?.name ?? '';
    assert.ok(name.length <= 63, name);
    assert.ok(name.endsWith('-cluster2'), name);
    assert.equal(svc.metadata?.annotations?.['multicluster.linkerd.io/full-mirror-name'], `${long}-cluster2`);
    await waitEndpoints('web', name, () => true);
  });

  test('a missing local namespace is reported, and the mirror appears once it is created', async () => {
    await exportService('later', 'svc', { 'mirror.linkerd.io/exported': 'true' });
    await waitFor(
      'MissingNamespace in the Link status',
      async () => {
        const link = (await env.custom1.getNamespacedCustomObject({
          group: 'multicluster.linkerd.io',
          version: 'v1alpha3',
          namespace: MC_NS,
          plural: 'links',
          name: 'cluster2',
        })) as { status?: { mirrorServices?: Array<{ remoteRef: { name: string; namespace: string }; conditions?: Array<{ reason: string }> }> } };
        return link.status?.mirrorServices?.find((m) => m.remoteRef.namespace === 'later')?.conditions?.find((c) => c.reason === 'MissingNamespace');
      },
      WAIT,
    );
    await env.core1.createNamespace({ body: { metadata: { name: 'later' } } });
    await waitMirror('later', 'svc-cluster2');
  });

  test('gateway down moves addresses to notReadyAddresses; back up restores them', async () => {
    await mirroredWithBackend('gw-flip');
    await env.gateway.kill();
    await waitEndpoints('web', 'gw-flip-cluster2', (e) => notReadyIps(e).includes(env.gateway.ip) && readyIps(e).length === 0);
    assert.match(await mirror.metrics(), /gateway_alive\{target_cluster_name="cluster2"\} 0/);
    await env.gateway.restart();
    await waitEndpoints('web', 'gw-flip-cluster2', (e) => readyIps(e).includes(env.gateway.ip));
    const metrics = await mirror.metrics();
    assert.match(metrics, /gateway_alive\{target_cluster_name="cluster2"\} 1/);
    assert.match(metrics, /gateway_probes\{target_cluster_name="cluster2",probe_successful="true"\} [1-9]/);
    assert.match(metrics, /gateway_probe_latency_ms_bucket\{le="\+Inf",target_cluster_name="cluster2"\} [1-9]/);
    assert.match(metrics, /service_mirror_endpoint_repairs\{target_cluster_name="cluster2"\} [1-9]/);
  });

  test("Linkerd's own probe-<link> Endpoints are adopted in place and follow the gateway", async () => {
    // What Linkerd's service mirror leaves behind on a drop-in upgrade: only the cluster-name label, a stale address.
    // Turned into Linkerd's shape in place: deleting and re-creating it would race the running
    // controller (and the API server's own Endpoints cleanup), which put their objects back in between.
    let theirs: V1Endpoints | undefined;
    for (let attempt = 1; theirs === undefined; attempt++) {
      const current = await waitEndpoints(MC_NS, 'probe-cluster2', () => true);
      try {
        theirs = await env.core1.replaceNamespacedEndpoints({
          name: 'probe-cluster2',
          namespace: MC_NS,
          body: {
            metadata: {
              name: 'probe-cluster2',
              resourceVersion: current.metadata?.resourceVersion,
              labels: { 'mirror.linkerd.io/cluster-name': 'cluster2' },
            },
            subsets: [{ addresses: [{ ip: '192.0.2.99' }], ports: [{ name: 'mc-probe', port: 4191 }] }],
          },
        });
      } catch (err) {
        // The controller wrote in between (resourceVersion conflict): read again.
        if (!isConflict(err) || attempt === 20) throw err;
      }
    }
    const adopted = await waitEndpoints(MC_NS, 'probe-cluster2', (e) => readyIps(e).includes(env.gateway.ip));
    assert.equal(adopted.metadata?.uid, theirs.metadata?.uid, 'updated in place, not recreated');
    assert.equal(adopted.metadata?.labels?.['mirror.linkerd.io/mirrored-gateway'], 'true');
    assert.equal(adopted.metadata?.labels?.['mirror.linkerd.io/cluster-name'], 'cluster2');
    assert.deepEqual(readyIps(adopted), [env.gateway.ip]);
    const link = await readLink();
    assert.ok(!link?.status?.mirrorServices?.some((m) => m.conditions?.some((c) => c.reason === 'NameCollision' && c.message.includes('probe'))));
  });

  test('federated members join <svc>-federated (no cluster-name, no Endpoints) and leave it', async () => {
    await ensureNamespace(env.core2, 'web');
    await env.core2.createNamespacedService({
      namespace: 'web',
      body: {
        metadata: { name: 'fedsvc', labels: { 'mirror.linkerd.io/federated': 'member', team: 'a', evil: 'no' }, annotations: { note: 'x' } },
        spec: { ports: [{ name: 'http', port: 80 }] },
      },
    });
    const fed = await waitMirror('web', 'fedsvc-federated');
    assert.equal(fed.metadata?.annotations?.['multicluster.linkerd.io/remote-discovery'], 'fedsvc@cluster2');
    assert.equal(fed.metadata?.annotations?.['note'], 'x');
    assert.equal(fed.metadata?.labels?.['team'], 'a');
    assert.equal(fed.metadata?.labels?.['evil'], undefined, 'exclusions apply');
    assert.equal(fed.metadata?.labels?.['mirror.linkerd.io/mirrored-service'], 'true');
    assert.equal(fed.metadata?.labels?.['mirror.linkerd.io/cluster-name'], undefined, 'federated Services carry no cluster-name');
    assert.deepEqual(
      fed.spec?.ports?.map((p) => [p.name, p.port]),
      [['http', 80]],
    );
    assert.equal(await readEp(env.core1, 'web', 'fedsvc-federated'), undefined, 'no Endpoints');
    await waitFor(
      'federatedServices status',
      async () => ((await readLink())?.status?.federatedServices?.some((f) => f.remoteRef.name === 'fedsvc') ? true : undefined),
      WAIT,
    );

    await env.core2.patchNamespacedService({
      name: 'fedsvc',
      namespace: 'web',
      body: [{ op: 'remove', path: '/metadata/labels/mirror.linkerd.io~1federated' }],
    });
    await waitGone('web', 'fedsvc-federated');
    await env.core2.patchNamespacedService({
      name: 'fedsvc',
      namespace: 'web',
      body: [{ op: 'add', path: '/metadata/labels/mirror.linkerd.io~1federated', value: 'member' }],
    });
    await waitMirror('web', 'fedsvc-federated');
  });

  test('a local member is the oldest: the federated Service keeps its metadata and gains the remote member', async () => {
    await env.core1.createNamespacedService({
      namespace: 'web',
      body: {
        metadata: {
          name: 'shared-federated',
          labels: { 'mirror.linkerd.io/mirrored-service': 'true', origin: 'local' },
          annotations: { 'multicluster.linkerd.io/local-discovery': 'shared' },
        },
        spec: { ports: [{ name: 'http', port: 8080 }] },
      },
    });
    await ensureNamespace(env.core2, 'web');
    await env.core2.createNamespacedService({
      namespace: 'web',
      body: {
        metadata: { name: 'shared', labels: { 'mirror.linkerd.io/federated': 'member', origin: 'remote' } },
        spec: { ports: [{ name: 'http', port: 80 }] },
      },
    });
    const fed = await waitMirror(
      'web',
      'shared-federated',
      (s) => s.metadata?.annotations?.['multicluster.linkerd.io/remote-discovery'] === 'shared@cluster2',
    );
    assert.equal(fed.metadata?.labels?.['origin'], 'local');
    assert.equal(fed.metadata?.annotations?.['multicluster.linkerd.io/local-discovery'], 'shared');
    assert.deepEqual(
      fed.spec?.ports?.map((p) => p.port),
      [8080],
    );
  });

  test('a Link spec change restarts the watchers without deleting any mirror', async () => {
    await exportService('web', 'spec-a', { 'mirror.linkerd.io/exported': 'true', 'spec-change/drop': 'x' });
    await exportService('web', 'spec-b', { 'mirror.linkerd.io/exported': 'true' });
    await waitMirror('web', 'spec-a-cluster2', (s) => s.metadata?.labels?.['spec-change/drop'] === 'x');
    await waitMirror('web', 'spec-b-cluster2');
    const restarts = await logCount('link changed; watchers restarted');
    const before = await mirrorUids();
    await env.custom1.patchNamespacedCustomObject(
      {
        group: 'multicluster.linkerd.io',
        version: 'v1alpha3',
        namespace: MC_NS,
        plural: 'links',
        name: 'cluster2',
        body: [{ op: 'add', path: '/spec/excludedLabels/-', value: 'spec-change/drop' }],
      },
      jsonPatch,
    );
    await waitMirror('web', 'spec-a-cluster2', (s) => s.metadata?.labels?.['spec-change/drop'] === undefined);
    const afterChange = await mirrorUids();
    for (const [key, uid] of before) assert.equal(afterChange.get(key), uid, `${key} kept (same uid)`);
    assert.equal(await logCount('link changed; watchers restarted'), restarts + 1);
  });

  test('killing and restarting cluster2 kube-apiserver loses no mirror, and mirroring resumes', async () => {
    await exportService('web', 'before-outage', { 'mirror.linkerd.io/exported': 'true' });
    await waitMirror('web', 'before-outage-cluster2');
    const before = await mirrorUids();
    await env.pair.cluster2.controlPlane.killApiServer();
    await waitLinkCondition('RemoteReachable', 'False');
    const during = await mirrorUids();
    assert.deepEqual([...during.entries()].sort(), [...before.entries()].sort(), 'no mirror deleted or recreated while the remote is down');
    await env.pair.cluster2.controlPlane.startApiServer();
    await exportService('web', 'after-outage', { 'mirror.linkerd.io/exported': 'true' });
    await waitMirror('web', 'after-outage-cluster2');
    await waitLinkCondition('RemoteReachable', 'True');
    const after = await mirrorUids();
    for (const [key, uid] of before) assert.equal(after.get(key), uid, `${key} survived the outage`);
  });

  test('a rotated credentials Secret is applied without a restart', async () => {
    const pid = mirror.proc.pid;
    const restarts = await logCount('link changed; watchers restarted');
    const secretBefore = await env.core1.readNamespacedSecret({ name: 'cluster-credentials-cluster2', namespace: MC_NS });
    await relink();
    const secretAfter = await env.core1.readNamespacedSecret({ name: 'cluster-credentials-cluster2', namespace: MC_NS });
    assert.notEqual(secretAfter.data?.['kubeconfig'], secretBefore.data?.['kubeconfig'], 'a new token was issued');
    await waitFor(
      'controller to restart its watchers for the new Secret',
      async () => ((await logCount('link changed; watchers restarted')) > restarts ? true : undefined),
      WAIT,
    );
    await exportService('web', 'after-rotation', { 'mirror.linkerd.io/exported': 'true' });
    await waitMirror('web', 'after-rotation-cluster2');
    assert.equal(mirror.proc.pid, pid);
    assert.ok(mirror.proc.running, 'same process, still running');
  });

  test('two replicas: only the Lease holder writes, both are ready, and the standby takes over when it goes', async () => {
    const coordination = env.pair.cluster1.kubeConfig.makeApiClient(CoordinationV1Api);
    const standbyIdentity = `standby-${Date.now()}`;
    const standby = await env.startMirror(standbyIdentity);
    const lease = await coordination.readNamespacedLease({ name: 'service-mirror-write-cluster2', namespace: MC_NS });
    assert.equal(lease.spec?.holderIdentity, mirrorIdentity);
    await exportService('web', 'while-two', { 'mirror.linkerd.io/exported': 'true' });
    await waitMirror('web', 'while-two-cluster2');
    // Ready: the leader once its caches have synced, the standby while it waits for the lease.
    assert.equal(await ready(mirror), 200);
    assert.equal(await ready(standby), 200);
    const standbyLog = await standby.proc.lastLog(400);
    assert.doesNotMatch(standbyLog, /became leader|mirror written|mirror removed/, 'the standby wrote nothing');
    await mirror.stop();
    await waitFor(
      'standby to take the lease',
      async () => {
        const l = await coordination.readNamespacedLease({ name: 'service-mirror-write-cluster2', namespace: MC_NS });
        return l.spec?.holderIdentity === standbyIdentity ? true : undefined;
      },
      WAIT,
    );
    mirror = standby;
    mirrorIdentity = standbyIdentity;
    await exportService('web', 'after-failover', { 'mirror.linkerd.io/exported': 'true' });
    await waitMirror('web', 'after-failover-cluster2');
    await waitFor('the new leader to be ready', async () => ((await ready(mirror)) === 200 ? true : undefined), WAIT);
  });

  test('mirrors whose remote Service went away while the controller was down are removed at start', async () => {
    await exportService('web', 'orphan', { 'mirror.linkerd.io/exported': 'true' });
    await exportService('web', 'orphan-keep', { 'mirror.linkerd.io/exported': 'true' });
    await waitMirror('web', 'orphan-cluster2');
    await waitMirror('web', 'orphan-keep-cluster2');
    await mirror.stop();
    await env.core2.deleteNamespacedService({ name: 'orphan', namespace: 'web' });
    mirrorIdentity = `restarted-${Date.now()}`;
    mirror = await env.startMirror(mirrorIdentity);
    await waitGone('web', 'orphan-cluster2');
    assert.ok(await readSvc(env.core1, 'web', 'orphan-keep-cluster2'), 'live mirrors are kept');
  });

  test('a changed gateway LoadBalancer address reaches the mirrors on the next repair (upstream #10635)', async () => {
    await mirroredWithBackend('lb-move');
    const oldIp = env.gateway.ip;
    await env.gateway.delete();
    env.gateway = await startGatewayPod(env.pair, `linkerd-gateway-${Date.now() % 100000}`);
    assert.notEqual(env.gateway.ip, oldIp);
    await waitEndpoints('web', 'lb-move-cluster2', (e) => readyIps(e).includes(env.gateway.ip));
    const probe = await waitEndpoints(MC_NS, 'probe-cluster2', (e) => readyIps(e).includes(env.gateway.ip));
    assert.equal(probe.subsets?.[0]?.ports?.[0]?.port, 4191);
  });

  test('a credentials Secret with an unusable kubeconfig is reported as an Event and a condition; mirrors stay', async () => {
    const before = await mirrorUids();
    const secret = await env.core1.readNamespacedSecret({ name: 'cluster-credentials-cluster2', namespace: MC_NS });
    await env.core1.replaceNamespacedSecret({
      name: 'cluster-credentials-cluster2',
      namespace: MC_NS,
      body: { ...secret, data: { kubeconfig: Buffer.from('this: is: not a kubeconfig').toString('base64') } },
    });
    const c = await waitLinkCondition('CredentialsValid', 'False', 'KubeconfigInvalid');
    assert.match(c.message, /re-run `multicluster link`/);
    await waitFor(
      'KubeconfigInvalid event',
      async () => (await env.core1.listNamespacedEvent({ namespace: MC_NS })).items.find((e) => e.reason === 'KubeconfigInvalid'),
      WAIT,
    );
    assert.ok(mirror.proc.running);
    assert.deepEqual([...(await mirrorUids()).keys()].sort(), [...before.keys()].sort());
    const current = await env.core1.readNamespacedSecret({ name: 'cluster-credentials-cluster2', namespace: MC_NS });
    await env.core1.replaceNamespacedSecret({ name: 'cluster-credentials-cluster2', namespace: MC_NS, body: { ...current, data: secret.data } });
    await waitLinkCondition('CredentialsValid', 'True');
  });

  test('a missing credentials Secret is reported, the controller keeps running, and mirrors stay', async () => {
    const before = await mirrorUids();
    const secret = await env.core1.readNamespacedSecret({ name: 'cluster-credentials-cluster2', namespace: MC_NS });
    await env.core1.deleteNamespacedSecret({ name: 'cluster-credentials-cluster2', namespace: MC_NS });
    const c = await waitLinkCondition('CredentialsValid', 'False', 'SecretMissing');
    assert.match(c.message, /cluster-credentials-cluster2 not found/);
    assert.ok(mirror.proc.running);
    assert.deepEqual([...(await mirrorUids()).keys()].sort(), [...before.keys()].sort());
    await env.core1.createNamespacedSecret({
      namespace: MC_NS,
      body: { metadata: { name: secret.metadata?.name, namespace: MC_NS }, type: secret.type, data: secret.data },
    });
    await waitLinkCondition('CredentialsValid', 'True');
  });

  test('revoked credentials surface in the Link status and mirrors are kept; new credentials restore mirroring', async () => {
    await exportService('web', 'before-revoke', { 'mirror.linkerd.io/exported': 'true' });
    await waitMirror('web', 'before-revoke-cluster2');
    const before = await mirrorUids();
    await env.core2.deleteNamespacedServiceAccount({ name: 'linkerd-service-mirror-remote-access-default', namespace: MC_NS });
    const c = await waitLinkCondition('CredentialsValid', 'False', 'Rejected');
    assert.match(c.message, /rejected the credentials/);
    assert.deepEqual([...(await mirrorUids()).keys()].sort(), [...before.keys()].sort());
    // Put it back as a user would: reinstall in the target, link again.
    await apply(env.pair, env.pair.cluster2, await cli(['install']));
    await relink();
    await waitLinkCondition('CredentialsValid', 'True');
    await exportService('web', 'after-revoke', { 'mirror.linkerd.io/exported': 'true' });
    await waitMirror('web', 'after-revoke-cluster2');
  });

  test('deleting the Link removes its mirrors through the finalizer', async () => {
    const mine = await env.core1.createNamespacedService({
      namespace: 'web',
      body: { metadata: { name: 'kept-cluster2', labels: { owner: 'me' } }, spec: { ports: [{ port: 1234 }] } },
    });
    await exportService('web', 'kept', { 'mirror.linkerd.io/exported': 'true' });
    await exportService('web', 'doomed', { 'mirror.linkerd.io/exported': 'true' });
    await env.core2.createNamespacedService({
      namespace: 'web',
      body: { metadata: { name: 'fed-doomed', labels: { 'mirror.linkerd.io/federated': 'member' } }, spec: { ports: [{ port: 80 }] } },
    });
    await env.core1.createNamespacedService({
      namespace: 'web',
      body: {
        metadata: {
          name: 'both-federated',
          labels: { 'mirror.linkerd.io/mirrored-service': 'true' },
          annotations: { 'multicluster.linkerd.io/local-discovery': 'both' },
        },
        spec: { ports: [{ port: 80 }] },
      },
    });
    await env.core2.createNamespacedService({
      namespace: 'web',
      body: { metadata: { name: 'both', labels: { 'mirror.linkerd.io/federated': 'member' } }, spec: { ports: [{ port: 80 }] } },
    });
    await waitMirror('web', 'doomed-cluster2');
    await waitMirror('web', 'fed-doomed-federated');
    await waitMirror('web', 'both-federated', (s) => s.metadata?.annotations?.['multicluster.linkerd.io/remote-discovery'] === 'both@cluster2');
    await mirrorEntry('kept', 'NameCollision');
    await waitEndpoints(MC_NS, 'probe-cluster2', () => true);
    const link = await readLink();
    assert.ok(link?.metadata.finalizers?.includes('multicluster.linkerd.io/mirrors'));
    await env.custom1.deleteNamespacedCustomObject({
      group: 'multicluster.linkerd.io',
      version: 'v1alpha3',
      namespace: MC_NS,
      plural: 'links',
      name: 'cluster2',
    });
    await waitFor('Link to be gone', async () => ((await readLink()) ? undefined : true), WAIT);
    // The finalizer is released first (so unlink's RBAC deletions cannot strand the Link), the mirrors follow.
    await waitFor(
      "every mirror, the probe Endpoints and this cluster's federated membership removed",
      async () => {
        const shared = await readSvc(env.core1, 'web', 'both-federated');
        const done =
          (await mirrorUids()).size === 0 &&
          (await readEp(env.core1, MC_NS, 'probe-cluster2')) === undefined &&
          shared?.metadata?.annotations?.['multicluster.linkerd.io/remote-discovery'] === undefined;
        return done ? true : undefined;
      },
      WAIT,
    );
    assert.equal(await readEp(env.core1, MC_NS, 'probe-cluster2'), undefined, 'probe Endpoints removed');
    assert.equal(await readSvc(env.core1, 'web', 'fed-doomed-federated'), undefined, 'federated Service with only this cluster removed');
    const shared = await env.core1.readNamespacedService({ name: 'both-federated', namespace: 'web' });
    assert.equal(
      shared.metadata?.annotations?.['multicluster.linkerd.io/remote-discovery'],
      undefined,
      'this cluster left the shared federated Service',
    );
    assert.equal(shared.metadata?.annotations?.['multicluster.linkerd.io/local-discovery'], 'both', 'the local member stays');
    const still = await env.core1.readNamespacedService({ name: 'kept-cluster2', namespace: 'web' });
    assert.equal(still.metadata?.uid, mine.metadata?.uid, 'the user Service that collided is untouched');
  });
});
