// `multicluster destination` as a real process against two real clusters, read with a real
// gRPC client: every behaviour of the Get and GetProfile streams is an exact sequence of
// messages. Mirrors are written here as the objects the service mirror makes, so these tests
// do not depend on the mirror controller.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DiscoveryV1Api, type CoreV1Api } from '@kubernetes/client-node';
import * as grpc from '@grpc/grpc-js';
import { waitFor } from '../dev/managed-process.ts';
import type { RunningPod } from '../dev/pod-runner.ts';
import type { DevCluster } from '../dev/cluster-pair.ts';
import { mergePatch, readIfExists } from '../kube/client.ts';
import { cli } from '../e2e/fixtures/cli.ts';
import { apply } from '../e2e/fixtures/kubectl.ts';
import { startDestination, type DestinationProcess } from '../e2e/fixtures/destination-process.ts';
import { linkedPair, type LinkedPair } from '../e2e/fixtures/linked-pair.ts';
import type { DestinationClient } from '../proto/load.ts';
import { destinationClient, openGet, openProfile, type AddrView } from './test-client.ts';

const NS = 'shop';
const REMOTE_TRUST = 'cluster2.example';
const GW_ID = 'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local';
const WAIT = { timeoutMs: 30_000, intervalMs: 100 };
const LINK_ARGS = ['--trust-domain', REMOTE_TRUST];

let env: LinkedPair;
let dest: DestinationProcess;
let client: DestinationClient;
const streams: Array<{ cancel(): void }> = [];
const remotePods = new Map<string, RunningPod>();

const fqdn = (svc: string, port: number) => `${svc}.${NS}.svc.cluster.local:${port}`;
const get = (svc: string, port = 80) => {
  const s = openGet(client, fqdn(svc, port));
  streams.push(s);
  return s.messages;
};

async function ensureNamespace(core: CoreV1Api, name: string): Promise<void> {
  if (!(await readIfExists(() => core.readNamespace({ name })))) await core.createNamespace({ body: { metadata: { name } } });
}

async function service(
  core: CoreV1Api,
  name: string,
  opts: { selector?: Record<string, string>; labels?: Record<string, string>; annotations?: Record<string, string> } = {},
) {
  return core.createNamespacedService({
    namespace: NS,
    body: {
      metadata: { name, labels: opts.labels, annotations: opts.annotations },
      spec: {
        selector: opts.selector,
        ports: [
          { name: 'http', port: 80, targetPort: 8080 },
          { name: 'admin', port: 9090, targetPort: 9090 },
        ],
      },
    },
  });
}

/** A pod that is only an address: the destination never connects to it. */
function startPod(cluster: DevCluster, name: string, app: string, sa: string, controlNs?: string): Promise<RunningPod> {
  return cluster.pods.start({
    namespace: NS,
    name,
    labels: { app, ...(controlNs ? { 'linkerd.io/control-plane-ns': controlNs } : {}) },
    serviceAccountName: sa,
    command: ['sleep', 'infinity'],
    ports: [{ name: 'http', containerPort: 8080 }],
  });
}

/** Waits until the cluster's EndpointSlices for `svc` list exactly `ips` as ready. */
async function waitSlices(cluster: DevCluster, svc: string, ips: string[]): Promise<void> {
  const discovery = cluster.kubeConfig.makeApiClient(DiscoveryV1Api);
  const want = [...ips].sort().join(',');
  await waitFor(
    `${cluster.name} slices of ${svc} = [${want}]`,
    async () => {
      const list = await discovery.listNamespacedEndpointSlice({ namespace: NS, labelSelector: `kubernetes.io/service-name=${svc}` });
      const ready = list.items.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses));
      return ready.sort().join(',') === want ? true : undefined;
    },
    WAIT,
  );
}

const remoteDiscoveryMirror = (name: string, remote: string): Record<string, string> => ({
  'mirror.linkerd.io/mirrored-service': 'true',
  'mirror.linkerd.io/cluster-name': 'cluster2',
  'multicluster.linkerd.io/remote-discovery': 'cluster2',
  'multicluster.linkerd.io/remote-service': remote,
  app: name,
});

function remoteAddr(pod: RunningPod, trustDomain = REMOTE_TRUST): AddrView {
  const id = `api.${NS}.serviceaccount.identity.linkerd-east.${trustDomain}`;
  return {
    addr: `${pod.ip}:8080`,
    weight: 10000,
    labels: { pod: pod.spec.name, serviceaccount: 'api', zone: 'cluster2-zone', zone_locality: 'remote', control_plane_ns: 'linkerd-east' },
    identity: id,
    serverName: id,
    hint: 'h2',
    http2: true,
  };
}

const remoteSetLabels = (svc: string, remote: string) => ({
  service: svc,
  namespace: NS,
  target_cluster: 'cluster2',
  target_service: remote,
  target_service_namespace: NS,
});

const sortedPods = (...pods: RunningPod[]) => pods.sort((a, b) => `${a.ip}:8080`.localeCompare(`${b.ip}:8080`));

async function metricValue(name: string, labels: string): Promise<number> {
  const text = await dest.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return Number(line?.split(' ').at(-1) ?? NaN);
}

async function linkSecretYaml(): Promise<string> {
  const args = ['link', '--kubeconfig', env.pair.kubeconfigPath, '--context', env.pair.cluster2.context, '--cluster-name', 'cluster2'];
  return cli([...args, '--cluster-domain', 'cluster.local', '--controller=false', ...LINK_ARGS]);
}

describe('multicluster destination', { concurrency: false }, () => {
  before(async () => {
    env = await linkedPair({ linkArgs: LINK_ARGS });
    for (const core of [env.core1, env.core2]) {
      await ensureNamespace(core, NS);
      for (const sa of ['web', 'api']) await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: sa } } });
    }
    dest = await startDestination(env.pair, ['--log-level', 'debug', '--first-list-wait', '5s']);
    client = destinationClient(dest.address);
  });

  after(async () => {
    for (const s of streams) s.cancel();
    client?.close();
    await dest?.stop();
    await env?.stop();
  });

  test('a local Service: its pods with identity under the local trust domain; GetProfile; no_endpoints{exists} when empty', async () => {
    await service(env.core1, 'web', { selector: { app: 'web' }, annotations: { 'config.linkerd.io/opaque-ports': '9090' } });
    const pod = await startPod(env.pair.cluster1, 'web-0', 'web', 'web', 'linkerd');
    await waitSlices(env.pair.cluster1, 'web', [pod.ip]);
    const id = `web.${NS}.serviceaccount.identity.linkerd.cluster.local`;
    assert.deepEqual(await get('web').next('local add'), {
      add: [
        {
          addr: `${pod.ip}:8080`,
          weight: 10000,
          labels: { pod: 'web-0', serviceaccount: 'web', zone: 'cluster1-zone', zone_locality: 'unknown', control_plane_ns: 'linkerd' },
          identity: id,
          serverName: id,
          hint: 'h2',
          http2: true,
        },
      ],
      labels: { service: 'web', namespace: NS },
    });
    assert.deepEqual(await get('web', 9090).next('opaque port add'), {
      add: [
        {
          addr: `${pod.ip}:9090`,
          weight: 10000,
          labels: { pod: 'web-0', serviceaccount: 'web', zone: 'cluster1-zone', zone_locality: 'unknown', control_plane_ns: 'linkerd' },
          identity: id,
          serverName: id,
          hint: 'opaque',
          opaquePort: 4143,
          http2: true,
        },
      ],
      labels: { service: 'web', namespace: NS },
    });
    const profiles = openProfile(client, fqdn('web', 9090));
    streams.push(profiles);
    const p = await profiles.messages.next('profile');
    assert.ok(!('end' in p), JSON.stringify(p));
    assert.equal(p.fully_qualified_name, `web.${NS}.svc.cluster.local`);
    assert.equal(p.opaque_protocol, true);
    await env.core1.patchNamespacedService(
      { name: 'web', namespace: NS, body: { metadata: { annotations: { 'config.linkerd.io/opaque-ports': '25' } } } },
      mergePatch,
    );
    const updated = await profiles.messages.next('profile after the opaque-ports change');
    assert.ok(
      !('end' in updated) && updated.opaque_protocol === false && updated.fully_qualified_name === `web.${NS}.svc.cluster.local`,
      JSON.stringify(updated),
    );

    await service(env.core1, 'idle', { selector: { app: 'nothing' } });
    // The destination learns of a new Service through its watch; until then the Service is NOT_FOUND.
    const first = await waitFor(
      'the destination to know the new Service',
      async () => {
        const m = await get('idle').next('no endpoints');
        return 'end' in m && m.end.code === grpc.status.NOT_FOUND ? undefined : m;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    assert.deepEqual(first, { noEndpoints: true });
  });

  test('bad paths get their gRPC status, and the server keeps serving', async () => {
    await service(env.core1, 'unknown-cluster', {
      labels: { ...remoteDiscoveryMirror('x', 'x'), 'multicluster.linkerd.io/remote-discovery': 'cluster9' },
    });
    const cases: Array<[string, grpc.status]> = [
      ['not a path', grpc.status.INVALID_ARGUMENT],
      ['10.0.0.1:80', grpc.status.INVALID_ARGUMENT],
      [fqdn('web', 99999), grpc.status.INVALID_ARGUMENT],
      [fqdn('missing', 80), grpc.status.NOT_FOUND],
      [fqdn('web', 81), grpc.status.NOT_FOUND],
      [fqdn('unknown-cluster', 80), grpc.status.NOT_FOUND],
    ];
    for (const [path, code] of cases) {
      const s = openGet(client, path);
      const m = await s.messages.next(`status of ${path}`);
      assert.ok('end' in m && m.end.code === code, `${path}: expected ${grpc.status[code]}, got ${JSON.stringify(m)}`);
      const p = openProfile(client, path);
      streams.push(p);
      const pm = await p.messages.next(`profile status of ${path}`);
      if (path.includes('unknown-cluster')) continue; // GetProfile answers for any local Service
      assert.ok('end' in pm && pm.end.code === code, `GetProfile ${path}: expected ${grpc.status[code]}, got ${JSON.stringify(pm)}`);
    }
    assert.ok(dest.proc.running);
  });

  test('a gateway-mode mirror: the gateway address, its identity without server name, authority override, H2', async () => {
    await service(env.core1, 'web-cluster2', {
      labels: { 'mirror.linkerd.io/mirrored-service': 'true', 'mirror.linkerd.io/cluster-name': 'cluster2' },
      annotations: { 'mirror.linkerd.io/remote-svc-fq-name': `web.${NS}.svc.cluster.local` },
    });
    await env.core1.createNamespacedEndpoints({
      namespace: NS,
      body: {
        metadata: {
          name: 'web-cluster2',
          labels: { 'mirror.linkerd.io/mirrored-service': 'true', 'mirror.linkerd.io/cluster-name': 'cluster2' },
          annotations: { 'mirror.linkerd.io/remote-gateway-identity': GW_ID, 'mirror.linkerd.io/remote-svc-fq-name': `web.${NS}.svc.cluster.local` },
        },
        subsets: [
          {
            addresses: [{ ip: env.gateway.ip }],
            ports: [
              { name: 'http', port: 4143 },
              { name: 'admin', port: 4143 },
            ],
          },
        ],
      },
    });
    await waitSlices(env.pair.cluster1, 'web-cluster2', [env.gateway.ip]);
    assert.deepEqual(await get('web-cluster2').next('gateway add'), {
      add: [
        {
          addr: `${env.gateway.ip}:4143`,
          weight: 10000,
          labels: { zone_locality: 'unknown' },
          identity: GW_ID,
          hint: 'h2',
          authority: `web.${NS}.svc.cluster.local:80`,
          http2: true,
        },
      ],
      labels: { service: 'web-cluster2', namespace: NS, target_cluster: 'cluster2', target_service: 'web', target_service_namespace: NS },
    });
  });

  let apiStream: ReturnType<typeof get>;
  let fedStream: ReturnType<typeof get>;
  let localApi: RunningPod;

  test('a remote-discovery mirror: the remote pods, identities in the remote trust domain under their own control namespace', async () => {
    await service(env.core2, 'api', { selector: { app: 'api' } });
    for (const name of ['api-0', 'api-1']) remotePods.set(name, await startPod(env.pair.cluster2, name, 'api', 'api', 'linkerd-east'));
    await waitSlices(
      env.pair.cluster2,
      'api',
      [...remotePods.values()].map((p) => p.ip),
    );
    await service(env.core1, 'api-cluster2', { labels: remoteDiscoveryMirror('api-cluster2', 'api') });
    apiStream = get('api-cluster2');
    assert.deepEqual(await apiStream.next('remote add'), {
      add: sortedPods(...remotePods.values()).map((p) => remoteAddr(p)),
      labels: remoteSetLabels('api-cluster2', 'api'),
    });
  });

  test('a selector-less remote Service (hand-written Endpoints) resolves like any other', async () => {
    await service(env.core2, 'legacy');
    const ip = `10.${env.pair.cluster2.addressing.podOctet}.200.7`;
    await env.core2.createNamespacedEndpoints({
      namespace: NS,
      body: { metadata: { name: 'legacy' }, subsets: [{ addresses: [{ ip }], ports: [{ name: 'http', port: 7000 }] }] },
    });
    await waitSlices(env.pair.cluster2, 'legacy', [ip]);
    await service(env.core1, 'legacy-cluster2', { labels: remoteDiscoveryMirror('legacy-cluster2', 'legacy') });
    assert.deepEqual(await get('legacy-cluster2').next('selector-less add'), {
      add: [{ addr: `${ip}:7000`, weight: 10000, labels: { zone_locality: 'remote' }, http2: false }],
      labels: remoteSetLabels('legacy-cluster2', 'legacy'),
    });
  });

  test('a federated Service: the union of the local and remote members, labelled per cluster', async () => {
    await service(env.core1, 'api', { selector: { app: 'api' } });
    localApi = await startPod(env.pair.cluster1, 'api-local-0', 'api', 'api');
    await waitSlices(env.pair.cluster1, 'api', [localApi.ip]);
    await service(env.core1, 'api-federated', {
      labels: { 'mirror.linkerd.io/mirrored-service': 'true' },
      annotations: { 'multicluster.linkerd.io/local-discovery': 'api', 'multicluster.linkerd.io/remote-discovery': 'api@cluster2' },
    });
    fedStream = get('api-federated');
    assert.deepEqual(await fedStream.next('federated local add'), {
      add: [
        {
          addr: `${localApi.ip}:8080`,
          weight: 10000,
          labels: { pod: 'api-local-0', serviceaccount: 'api', zone: 'cluster1-zone', zone_locality: 'unknown' },
          http2: false,
        },
      ],
      labels: { service: 'api-federated', namespace: NS, target_service: 'api' },
    });
    assert.deepEqual(await fedStream.next('federated remote add'), {
      add: sortedPods(...remotePods.values()).map((p) => remoteAddr(p)),
      labels: remoteSetLabels('api-federated', 'api'),
    });
  });

  test('scale-up and scale-down of the remote pods stream one add, then one remove', async () => {
    const pod = await startPod(env.pair.cluster2, 'api-2', 'api', 'api', 'linkerd-east');
    const added = { add: [remoteAddr(pod)], labels: remoteSetLabels('api-cluster2', 'api') };
    assert.deepEqual(await apiStream.next('scale-up add'), added);
    assert.deepEqual(await fedStream.next('scale-up add (federated)'), { ...added, labels: remoteSetLabels('api-federated', 'api') });
    await pod.delete();
    assert.deepEqual(await apiStream.next('scale-down remove'), { remove: [`${pod.ip}:8080`] });
    assert.deepEqual(await fedStream.next('scale-down remove (federated)'), { remove: [`${pod.ip}:8080`] });
  });

  test('rotated credentials: no churn on the streams, and changes keep flowing', async () => {
    const before = await env.core1.readNamespacedSecret({ name: 'cluster-credentials-cluster2', namespace: 'linkerd' });
    await apply(env.pair, env.pair.cluster1, await linkSecretYaml());
    const rotated = await env.core1.readNamespacedSecret({ name: 'cluster-credentials-cluster2', namespace: 'linkerd' });
    assert.notEqual(rotated.data?.['kubeconfig'], before.data?.['kubeconfig'], 'a new token was written');
    await waitFor(
      // Each watched namespace switches once the new credentials have listed it.
      'destination to watch with the new credentials',
      async () => ((await dest.proc.lastLog(200)).includes('namespace now watched with the new credentials') ? true : undefined),
      WAIT,
    );
    const pod = await startPod(env.pair.cluster2, 'api-3', 'api', 'api', 'linkerd-east');
    remotePods.set('api-3', pod);
    // The first message after the rotation is the scale-up: the rotation itself sent nothing.
    assert.deepEqual(await apiStream.next('add after rotation'), { add: [remoteAddr(pod)], labels: remoteSetLabels('api-cluster2', 'api') });
    assert.deepEqual(await fedStream.next('add after rotation (federated)'), {
      add: [remoteAddr(pod)],
      labels: remoteSetLabels('api-federated', 'api'),
    });
  });

  test('a remote API server restart: endpoints kept (and reported stale) while it is down; a change after it is back is streamed', async () => {
    const errorsBefore = (await metricValue('destination_remote_watch_errors_total', 'cluster="cluster2"')) || 0;
    await env.pair.cluster2.controlPlane.killApiServer();
    const stale = await waitFor(
      'stale endpoints reported for cluster2',
      async () => {
        const n = await metricValue('destination_stale_endpoints', 'cluster="cluster2"');
        return n > 0 ? n : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    assert.ok(stale >= remotePods.size, `stale endpoints ${stale}`);
    assert.ok((await metricValue('destination_remote_watch_errors_total', 'cluster="cluster2"')) > errorsBefore);
    // A new stream during the outage still gets the last known endpoints.
    assert.deepEqual(await get('api-cluster2').next('add during the outage'), {
      add: sortedPods(...remotePods.values()).map((p) => remoteAddr(p)),
      labels: remoteSetLabels('api-cluster2', 'api'),
    });
    await env.pair.cluster2.controlPlane.startApiServer();
    await waitFor(
      'cluster2 endpoints no longer stale',
      async () => ((await metricValue('destination_stale_endpoints', 'cluster="cluster2"')) === 0 ? true : undefined),
      {
        timeoutMs: 60_000,
        intervalMs: 250,
      },
    );
    const gone = remotePods.get('api-3') as RunningPod;
    remotePods.delete('api-3');
    await gone.delete();
    // Nothing was sent for the outage or the relist: the next message is the deletion.
    assert.deepEqual(await apiStream.next('remove after the restart'), { remove: [`${gone.ip}:8080`] });
    assert.deepEqual(await fedStream.next('remove after the restart (federated)'), { remove: [`${gone.ip}:8080`] });
  });

  test('removed credentials remove every address of that cluster from every stream; restored ones add them back', async () => {
    const secret = await env.core1.readNamespacedSecret({ name: 'cluster-credentials-cluster2', namespace: 'linkerd' });
    await env.core1.deleteNamespacedSecret({ name: 'cluster-credentials-cluster2', namespace: 'linkerd' });
    const all = sortedPods(...remotePods.values()).map((p) => `${p.ip}:8080`);
    assert.deepEqual(await apiStream.next('remove on credentials removal'), { remove: all });
    assert.deepEqual(await fedStream.next('remove on credentials removal (federated)'), { remove: all });
    await env.core1.createNamespacedSecret({
      namespace: 'linkerd',
      body: {
        metadata: { name: secret.metadata?.name, labels: secret.metadata?.labels, annotations: secret.metadata?.annotations },
        type: secret.type,
        data: secret.data,
      },
    });
    const back = { add: sortedPods(...remotePods.values()).map((p) => remoteAddr(p)) };
    assert.deepEqual(await apiStream.next('add on credentials restored'), { ...back, labels: remoteSetLabels('api-cluster2', 'api') });
    assert.deepEqual(await fedStream.next('add on credentials restored (federated)'), { ...back, labels: remoteSetLabels('api-federated', 'api') });
    // The local member was never touched.
    assert.equal(fedStream.pending, 0);
  });

  test('a changed remote trust domain re-adds every address with its new identity, without removing any', async () => {
    await env.core1.patchNamespacedSecret(
      {
        name: 'cluster-credentials-cluster2',
        namespace: 'linkerd',
        body: { metadata: { annotations: { 'multicluster.linkerd.io/trust-domain': 'other.example' } } },
      },
      mergePatch,
    );
    const readded = { add: sortedPods(...remotePods.values()).map((p) => remoteAddr(p, 'other.example')) };
    assert.deepEqual(await apiStream.next('re-add with the new trust domain'), { ...readded, labels: remoteSetLabels('api-cluster2', 'api') });
    assert.deepEqual(await fedStream.next('re-add with the new trust domain (federated)'), {
      ...readded,
      labels: remoteSetLabels('api-federated', 'api'),
    });
  });

  test('SIGTERM: open streams end with UNAVAILABLE and the process exits cleanly', async () => {
    const s = get('web');
    await s.next('add before shutdown');
    await dest.proc.stop();
    const end = await s.next('end of stream');
    assert.ok('end' in end && end.end.code === grpc.status.UNAVAILABLE, JSON.stringify(end));
    assert.equal(dest.proc.exitCode, 0);
    assert.match(await dest.proc.lastLog(5), /"msg":"stopped"/);
  });
});
