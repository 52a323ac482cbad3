// The 15 acceptance scenarios (shared/spec/acceptance.md), one test each, on the project's real
// manifests: the dev clusters running the demo's environment, or the two kubeconfig contexts of
// E2E_CONTEXTS (k3d/e2e.sh). Traffic starts inside cluster1 (the demo's apps and a copy of its
// traffic generator) and is read through the API server (pods/proxy), so it works on any
// cluster. What needs the dev clusters (killing an API server, a client next to the gateway)
// is skipped elsewhere with a printed reason. Scenario 12 unlinks, so it runs last of the
// Link-dependent ones and links again when the clusters outlive the suite.
import assert from 'node:assert/strict';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { V1Endpoints, V1Service } from '@kubernetes/client-node';
import { waitFor } from '../dev/managed-process.ts';
import { isNotFound } from '../kube/client.ts';
import { mirrorName } from '../model/remote-service.ts';
import { encodeTransportHeader } from '../proto/transport-header.ts';
import { closedWith, h2Request, h2Session, metricValue, rawTls, REFUSED_CONNECTION_ERRORS } from './fixtures/linkerd-client.ts';
import { GATEWAY_ID } from './fixtures/real-gateway.ts';
import {
  DEMO_NS,
  MC_NS,
  podProxy,
  readyPod,
  requireCapability,
  trafficProbe,
  twoClusters,
  type TestCluster,
  type TwoClusters,
} from './fixtures/two-clusters.ts';

const WAIT = { timeoutMs: 60_000, intervalMs: 500 };
const SCENARIO_LABEL = 'acceptance.e2e/scenario';
const PROBE = 'acc-probe';
const PROBE_TCP_PORT = 9001;
const HELLO_ID = 'hello.demo.serviceaccount.identity.linkerd.cluster.local';
const PROBE_ID = 'traffic.demo.serviceaccount.identity.linkerd.cluster.local';
const WORLD_FQDN = 'world.demo.svc.cluster.local';
const log = (m: string) => process.stderr.write(`  acceptance: ${m}\n`);

let env: TwoClusters;
let c1: TestCluster;
let c2: TestCluster;

// ---- helpers: one per repeated action ----

interface ExportOptions {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Pods behind it: the demo's world by default, so gateway mirrors get ready Endpoints. */
  selector?: Record<string, string>;
  headless?: boolean;
}

/** A Service in cluster2 (or `cluster`), tagged with its scenario for clean-up. */
async function createService(scenario: number, name: string, o: ExportOptions, cluster: TestCluster = c2): Promise<V1Service> {
  return cluster.core.createNamespacedService({
    namespace: DEMO_NS,
    body: {
      metadata: { name, labels: { [SCENARIO_LABEL]: String(scenario), ...o.labels }, annotations: o.annotations ?? {} },
      spec: {
        selector: o.selector ?? { app: 'world' },
        ports: [{ name: 'http', port: 8080, targetPort: 8080 }],
        ...(o.headless ? { clusterIP: 'None' } : {}),
      },
    },
  });
}

const exported = (mode: 'true' | 'remote-discovery' = 'true') => ({ 'mirror.linkerd.io/exported': mode });

async function readService(c: TestCluster, name: string): Promise<V1Service | undefined> {
  return c.core.readNamespacedService({ name, namespace: DEMO_NS }).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
}

async function readEndpoints(c: TestCluster, name: string, ns = DEMO_NS): Promise<V1Endpoints | undefined> {
  return c.core.readNamespacedEndpoints({ name, namespace: ns }).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
}

function waitMirror(name: string, ok: (s: V1Service) => boolean = () => true): Promise<V1Service> {
  return waitFor(
    `mirror ${DEMO_NS}/${name} in cluster1`,
    async () => {
      const s = await readService(c1, name);
      return s && ok(s) ? s : undefined;
    },
    WAIT,
  );
}

function waitGone(name: string): Promise<true> {
  return waitFor(`mirror ${DEMO_NS}/${name} to be deleted`, async () => ((await readService(c1, name)) ? undefined : true), WAIT);
}

function waitEndpoints(name: string, ok: (e: V1Endpoints) => boolean, ns = DEMO_NS): Promise<V1Endpoints> {
  return waitFor(
    `Endpoints ${ns}/${name} in cluster1`,
    async () => {
      const e = await readEndpoints(c1, name, ns);
      return e && ok(e) ? e : undefined;
    },
    {
      timeoutMs: 90_000,
      intervalMs: 500,
      onTimeout: async () => {
        const gw = await c2.core.readNamespacedService({ name: 'linkerd-gateway', namespace: MC_NS }).catch(() => undefined);
        return `last Endpoints: ${JSON.stringify((await readEndpoints(c1, name, ns))?.subsets)}; gateway: ${JSON.stringify(gw?.status)}`;
      },
    },
  );
}

const readyIps = (e: V1Endpoints) => (e.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip));
const notReadyIps = (e: V1Endpoints) => (e.subsets ?? []).flatMap((s) => (s.notReadyAddresses ?? []).map((a) => a.ip));

async function gatewayAddress(): Promise<string> {
  const svc = await c2.core.readNamespacedService({ name: 'linkerd-gateway', namespace: MC_NS });
  const ip = svc.status?.loadBalancer?.ingress?.[0]?.ip;
  assert.ok(ip, "cluster2's gateway Service has a LoadBalancer address");
  return ip;
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
interface LinkView {
  metadata?: { deletionTimestamp?: string };
  spec?: { excludedLabels?: string[]; excludedAnnotations?: string[] };
  status?: {
    conditions?: Condition[];
    mirrorServices?: Array<{ remoteRef: { name: string; namespace: string }; conditions?: Condition[] }>;
  };
}
const LINK = { group: 'multicluster.linkerd.io', version: 'v1alpha3', namespace: MC_NS, plural: 'links', name: 'cluster2' };

async function readLink(): Promise<LinkView | undefined> {
  return (c1.custom.getNamespacedCustomObject(LINK) as Promise<LinkView>).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
}

function waitLinkCondition(type: string, status: string, reason?: string): Promise<Condition> {
  return waitFor(
    `Link condition ${type}=${status}${reason ? ` (${reason})` : ''}`,
    async () => {
      const c = (await readLink())?.status?.conditions?.find((x) => x.type === type);
      return c && c.status === status && (!reason || c.reason === reason) ? c : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 500 },
  );
}

/** Mirror Services of cluster2 in cluster1, `ns/name` → uid. */
async function mirrorUids(): Promise<Map<string, string>> {
  const list = await c1.core.listServiceForAllNamespaces({
    labelSelector: 'mirror.linkerd.io/cluster-name=cluster2,mirror.linkerd.io/mirrored-service=true',
  });
  return new Map(list.items.map((s) => [`${s.metadata?.namespace}/${s.metadata?.name}`, s.metadata?.uid ?? '']));
}

/** GET `path` on a Ready Pod of `app` through the API server; the answer, once it is 200. */
async function askPod(c: TestCluster, ns: string, app: string, port: number, path: string): Promise<string> {
  return waitFor(
    `${c.name} ${ns}/${app}:${port}${path} to answer 200`,
    async () => {
      const r = await podProxy(c, ns, await readyPod(c, ns, `app=${app}`), port, path);
      return r.status === 200 ? r.body : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 1000 },
  );
}

async function gatewayMetrics(): Promise<string> {
  const pod = await readyPod(c2, MC_NS, 'app=linkerd-gateway');
  const r = await podProxy(c2, MC_NS, pod, 4191, '/metrics');
  assert.equal(r.status, 200, `gateway /metrics: ${r.body.slice(0, 200)}`);
  return r.body;
}

/** Successful requests the probe's traffic generator has counted for `target`. */
async function probeSuccesses(target: string): Promise<number> {
  const r = await podProxy(c1, DEMO_NS, await readyPod(c1, DEMO_NS, `app=${PROBE}`), 9090, '/metrics');
  return metricValue(r.body, 'demo_requests_total', { target, outcome: 'success' });
}

/** Waits until the demo's traffic generator sees `target` succeed again (after `from` successes). */
async function trafficSucceeds(target: string): Promise<void> {
  const successes = async () => {
    const r = await podProxy(c1, DEMO_NS, await readyPod(c1, DEMO_NS, 'app=traffic'), 9090, '/metrics');
    return metricValue(r.body, 'demo_requests_total', { target, outcome: 'success' });
  };
  const from = await successes();
  await waitFor(`${target} requests to succeed again`, async () => ((await successes()) > from ? true : undefined), {
    timeoutMs: 90_000,
    intervalMs: 1000,
  });
}

async function mc(args: readonly string[]): Promise<{ code: number; json: unknown; stderr: string }> {
  const r = await env.mc(args);
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { code: r.code, json, stderr: r.stderr };
}

interface CheckJson {
  success: boolean;
  categories: Array<{ checks: Array<{ id: string; result: string; error?: string }> }>;
}
const failingChecks = (j: unknown) => ((j as CheckJson | undefined)?.categories ?? []).flatMap((c) => c.checks).filter((c) => c.result === 'error');

async function patchLinkExclusions(labels: string[], annotations: string[]): Promise<void> {
  await env.kubectl(c1, [
    '-n',
    MC_NS,
    'patch',
    'link',
    'cluster2',
    '--type=merge',
    '-p',
    JSON.stringify({ spec: { excludedLabels: labels, excludedAnnotations: annotations } }),
  ]);
}

async function deleteTagged(c: TestCluster): Promise<void> {
  await env.kubectl(c, ['-n', DEMO_NS, 'delete', 'service,statefulset,deployment', '-l', SCENARIO_LABEL, '--ignore-not-found', '--wait=false']);
}

/** Links cluster2 into cluster1 again (after scenario 12 on clusters that outlive the suite), even if unlink left the Link stuck. */
async function linkAgain(extra: readonly string[] = []): Promise<void> {
  const stuck = await readLink();
  if (stuck?.metadata?.deletionTimestamp) {
    log('the Link is stuck in deletion (its controller went first): clearing its finalizer by hand, as the README says');
    await env.kubectl(c1, ['-n', MC_NS, 'patch', 'link', 'cluster2', '--type=merge', '-p', '{"metadata":{"finalizers":[]}}']);
    await waitFor('the Link to be gone', async () => ((await readLink()) ? undefined : true), WAIT);
  }
  log(`linking cluster2 into cluster1 again ${extra.join(' ')}`);
  await env.relink(extra);
}

// ---- the suite ----

describe('acceptance scenarios on the real manifests', { concurrency: false }, () => {
  before(async () => {
    env = await twoClusters(process.env['E2E_CONTEXTS'], log);
    c1 = env.cluster1;
    c2 = env.cluster2;
    // Headless mirroring (scenario 6) is a `link` option: link again with it, as a user would.
    // A controller that is missing (an earlier run's unlink that went wrong) is linked again too.
    const controller = await c1.apps.readNamespacedDeployment({ name: 'controller-cluster2', namespace: MC_NS }).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (!controller?.spec?.template.spec?.containers[0]?.args?.includes('--enable-headless-services')) {
      await linkAgain(['--enable-headless-services']);
    }
    // A copy of the traffic generator: per-pod mirror names (scenario 6), and an opaque TCP
    // listener of its outbound proxy that pods/proxy feeds (scenario 2).
    const probe = trafficProbe(
      env,
      PROBE,
      ['headless=s6-web-0-cluster2.demo.svc.cluster.local:8080/'],
      ['--tcp-listen', `0.0.0.0:${PROBE_TCP_PORT}=world-cluster2.demo.svc.cluster.local:8080`],
    );
    probe.metadata = { ...probe.metadata, labels: { ...probe.metadata?.labels, [SCENARIO_LABEL]: 'probe' } };
    await env.kubectl(c1, ['apply', '-f', '-'], JSON.stringify(probe));
    await env.kubectl(c1, ['-n', DEMO_NS, 'wait', '--for=condition=Available', `deployment/${PROBE}`, '--timeout=180s']);
  });

  after(async () => {
    if (!env) return;
    if (env.persistent) {
      for (const c of [c1, c2]) await deleteTagged(c).catch((err: unknown) => log(`clean-up in ${c.name}: ${String(err)}`));
    }
    await env.stop();
  });

  it('scenario 1: an exported Service is mirrored as <svc>-cluster2 with gateway Endpoints, labels and annotations', async () => {
    await createService(1, 's1-world', { labels: { ...exported(), team: 'a' }, annotations: { 'acceptance.e2e/note': 'upstream' } });
    const m = await waitMirror('s1-world-cluster2');
    assert.equal(m.metadata?.namespace, DEMO_NS, 'same namespace');
    assert.equal(m.metadata?.labels?.['team'], 'a', 'upstream label');
    assert.equal(m.metadata?.annotations?.['acceptance.e2e/note'], 'upstream', 'upstream annotation');
    assert.equal(m.metadata?.labels?.['mirror.linkerd.io/mirrored-service'], 'true');
    assert.equal(m.metadata?.labels?.['mirror.linkerd.io/cluster-name'], 'cluster2');
    assert.equal(m.metadata?.annotations?.['mirror.linkerd.io/remote-svc-fq-name'], 's1-world.demo.svc.cluster.local');
    const gw = await gatewayAddress();
    const ep = await waitEndpoints('s1-world-cluster2', (e) => readyIps(e).length > 0);
    assert.deepEqual(readyIps(ep), [gw], "the Endpoints point at cluster2's gateway");
    assert.equal(ep.subsets?.[0]?.ports?.[0]?.port, 4143);
  });

  it('scenario 2: traffic crosses the gateway under mTLS for HTTP/1.1, HTTP/2, gRPC and opaque TCP, counted by caller identity', async () => {
    // hello (cluster1) calls world-cluster2 through its outbound proxy: HTTP/1.1, gRPC unary and streaming (HTTP/2).
    const http = JSON.parse(await askPod(c1, DEMO_NS, 'hello', 8080, '/http')) as { cluster: string; clientId: string | null };
    assert.deepEqual([http.cluster, http.clientId], ['cluster2', HELLO_ID], 'world saw the caller identity from the mTLS gateway');
    const grpc = JSON.parse(await askPod(c1, DEMO_NS, 'hello', 8080, '/grpc')) as { cluster: string };
    assert.equal(grpc.cluster, 'cluster2');
    const stream = JSON.parse(await askPod(c1, DEMO_NS, 'hello', 8080, '/grpc-stream')) as Array<{ n: number }>;
    assert.deepEqual(
      stream.map((r) => r.n),
      [1, 2, 3, 4, 5],
    );
    // Opaque TCP: the probe's outbound pipes the bytes the API server sends to world-cluster2:8080.
    const tcp = JSON.parse(await askPod(c1, DEMO_NS, PROBE, PROBE_TCP_PORT, '/over-tcp')) as { cluster: string; clientId: string | null };
    assert.equal(tcp.cluster, 'cluster2');
    assert.equal(tcp.clientId, null, 'an opaque connection adds no headers');

    const m = await gatewayMetrics();
    const header = (protocol: string, client: string) =>
      metricValue(m, 'inbound_tcp_transport_header_connections_total', {
        session_protocol: protocol,
        target_port: '8080',
        target_name: WORLD_FQDN,
        client_id: client,
      });
    assert.ok(header('http/2', HELLO_ID) >= 1, 'HTTP sessions from hello, by its identity');
    assert.ok(header('', PROBE_ID) >= 1, "an opaque session from the probe's identity");
    assert.ok(
      metricValue(m, 'response_total', { client_id: HELLO_ID, authority: `${WORLD_FQDN}:8080`, classification: 'success' }) >= 1,
      'HTTP successes by identity',
    );
    assert.ok(metricValue(m, 'response_total', { client_id: HELLO_ID, grpc_status: '0', classification: 'success' }) >= 1, 'gRPC successes');
  });

  it('scenario 3: a remote-discovery export has no Endpoints and its traffic goes pod to pod', async () => {
    await createService(3, 's3-emoji', { labels: exported('remote-discovery'), selector: { app: 'world' } });
    const m = await waitMirror('s3-emoji-cluster2');
    assert.equal(m.metadata?.labels?.['multicluster.linkerd.io/remote-discovery'], 'cluster2');
    assert.equal(m.metadata?.labels?.['multicluster.linkerd.io/remote-service'], 's3-emoji');
    const ep = await readEndpoints(c1, 's3-emoji-cluster2');
    assert.equal(readyIps(ep ?? {}).length + notReadyIps(ep ?? {}).length, 0, 'no Endpoints addresses');

    // web (cluster1) → emoji-svc-cluster2 (remote-discovery): answered by a cluster2 pod, never through the gateway.
    const emojiPods = (await c2.core.listNamespacedPod({ namespace: 'emojivoto', labelSelector: 'app=emoji-svc' })).items.map(
      (p) => p.metadata?.name,
    );
    const answer = JSON.parse(await askPod(c1, 'emojivoto', 'web', 8080, '/')) as { list: { cluster: string; pod: string } };
    assert.equal(answer.list.cluster, 'cluster2');
    assert.ok(emojiPods.includes(answer.list.pod), `served by a cluster2 emoji-svc pod (${answer.list.pod})`);
    assert.doesNotMatch(await gatewayMetrics(), /target_name="emoji-svc\.emojivoto/, 'no gateway session for the remote-discovery Service');
  });

  it('scenario 4: excluded labels and annotations do not reach the mirror; all others do', async () => {
    const before = (await readLink())?.spec ?? {};
    await patchLinkExclusions(['acc.example/secret', 'acc-drop.example/*'], ['acc.example/secret', 'acc-drop.example/*']);
    try {
      await createService(4, 's4-excl', {
        labels: { ...exported(), 'acc.example/secret': 'x', 'acc-drop.example/a': 'x', keep: 'yes', 'acc.example/public': 'y' },
        annotations: { 'acc.example/secret': 'x', 'acc-drop.example/b': 'x', 'keep-note': 'yes' },
      });
      const m = await waitMirror('s4-excl-cluster2', (s) => s.metadata?.labels?.['keep'] === 'yes');
      const labels = m.metadata?.labels ?? {};
      const annotations = m.metadata?.annotations ?? {};
      assert.deepEqual(
        [labels['acc.example/secret'], labels['acc-drop.example/a'], annotations['acc.example/secret'], annotations['acc-drop.example/b']],
        [undefined, undefined, undefined, undefined],
        'excluded keys (exact and prefix) are dropped',
      );
      assert.deepEqual([labels['keep'], labels['acc.example/public'], annotations['keep-note']], ['yes', 'y', 'yes'], 'others are copied');
    } finally {
      await patchLinkExclusions(before.excludedLabels ?? [], before.excludedAnnotations ?? []);
    }
  });

  it('scenario 5: removing the export label, or deleting the remote Service, deletes the mirror', async () => {
    await createService(5, 's5-unlabel', { labels: exported() });
    await createService(5, 's5-delete', { labels: exported() });
    await waitMirror('s5-unlabel-cluster2');
    await waitMirror('s5-delete-cluster2');
    await env.kubectl(c2, ['-n', DEMO_NS, 'label', 'service', 's5-unlabel', 'mirror.linkerd.io/exported-']);
    await waitGone('s5-unlabel-cluster2');
    await c2.core.deleteNamespacedService({ name: 's5-delete', namespace: DEMO_NS });
    await waitGone('s5-delete-cluster2');
  });

  it('scenario 6: a headless StatefulSet is reachable by per-pod mirror names through the gateway', async () => {
    await createService(6, 's6-web', { labels: exported(), selector: { app: 's6-web' }, headless: true });
    await env.kubectl(
      c2,
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 's6-web', namespace: DEMO_NS, labels: { [SCENARIO_LABEL]: '6' } },
        spec: {
          serviceName: 's6-web',
          replicas: 2,
          selector: { matchLabels: { app: 's6-web' } },
          template: {
            metadata: { labels: { app: 's6-web' } },
            spec: {
              containers: [
                {
                  name: 'world',
                  image: env.image,
                  args: ['demo-app', 'world', '--cluster', 'cluster2'],
                  ports: [{ name: 'http', containerPort: 8080 }],
                  readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 2 },
                },
              ],
            },
          },
        },
      }),
    );
    const root = await waitMirror('s6-web-cluster2', (s) => s.spec?.clusterIP === 'None');
    assert.equal(root.metadata?.labels?.['mirror.linkerd.io/cluster-name'], 'cluster2');
    const gw = await gatewayAddress();
    const perPod = new Map<string, string>();
    for (const pod of ['s6-web-0', 's6-web-1']) {
      const m = await waitMirror(`${pod}-cluster2`);
      assert.equal(m.metadata?.annotations?.['mirror.linkerd.io/remote-svc-fq-name'], `${pod}.s6-web.demo.svc.cluster.local`);
      const ep = await waitEndpoints(`${pod}-cluster2`, (e) => readyIps(e).length > 0);
      assert.deepEqual(readyIps(ep), [gw]);
      perPod.set(pod, m.spec?.clusterIP ?? '');
    }
    // `<pod>.s6-web-cluster2` resolves (cluster DNS) to that pod's endpoint mirror.
    const rootEp = await waitEndpoints('s6-web-cluster2', (e) => (e.subsets?.[0]?.addresses?.length ?? 0) === 2);
    const byHost = new Map((rootEp.subsets?.[0]?.addresses ?? []).map((a) => [a.hostname ?? '', a.ip]));
    assert.deepEqual(byHost, perPod);
    // The probe has been calling s6-web-0-cluster2 all along; once mirrored, it succeeds through the gateway.
    const from = await probeSuccesses('headless');
    await waitFor('requests to s6-web-0-cluster2 to succeed', async () => ((await probeSuccesses('headless')) > from ? true : undefined), WAIT);
    const m = await gatewayMetrics();
    assert.ok(
      metricValue(m, 'inbound_tcp_transport_header_connections_total', {
        target_name: 's6-web-0.s6-web.demo.svc.cluster.local',
        client_id: PROBE_ID,
      }) >= 1,
      'the gateway resolved the per-pod name',
    );
  });

  it('scenario 7: federated members in both clusters produce <svc>-federated spanning both', async () => {
    await createService(7, 's7-fed', { labels: { 'mirror.linkerd.io/federated': 'member' } }, c1);
    await createService(7, 's7-fed', { labels: { 'mirror.linkerd.io/federated': 'member' } }, c2);
    // Two writers: cluster2's Link controller (remote-discovery) and cluster1's local mirror (local-discovery).
    const fed = await waitMirror(
      's7-fed-federated',
      (s) =>
        s.metadata?.annotations?.['multicluster.linkerd.io/remote-discovery'] !== undefined &&
        s.metadata.annotations['multicluster.linkerd.io/local-discovery'] !== undefined,
    );
    assert.equal(
      fed.metadata?.annotations?.['multicluster.linkerd.io/local-discovery'],
      's7-fed',
      'the local member, written by the local service mirror that `install` runs (`mirror --local-mirror`)',
    );
    assert.equal(fed.metadata?.annotations?.['multicluster.linkerd.io/remote-discovery'], 's7-fed@cluster2', 'the remote member');
    assert.equal(fed.metadata?.labels?.['mirror.linkerd.io/cluster-name'], undefined, 'federated Services belong to no one cluster');
  });

  it('scenario 8: gateways shows cluster2 ALIVE with its mirror count; check passes, also after a repair cycle', async () => {
    const mirrors = (await mirrorUids()).size;
    assert.ok(mirrors >= 3, `the demo's mirrors exist (${mirrors})`);
    const gateways = await waitFor(
      'gateways to show cluster2 alive',
      async () => {
        const r = await mc(['gateways', '--cluster-name', 'cluster2', '-o', 'json']);
        const row = (r.json as Array<{ alive: boolean; numberOfServices: number }> | undefined)?.[0];
        return r.code === 0 && row?.alive === true ? row : undefined;
      },
      WAIT,
    );
    assert.equal(gateways.numberOfServices, (await mirrorUids()).size);
    const passes = async (when: string) => {
      const r = await mc(['check', '-o', 'json', '--wait', '60s']);
      assert.equal(r.code, 0, `check ${when}: ${JSON.stringify(failingChecks(r.json))} ${r.stderr}`);
    };
    await passes('now');
    // The controller's periodic gateway repair (its metrics, read through the API server).
    const repairs = async () => {
      const r = await podProxy(c1, MC_NS, await readyPod(c1, MC_NS, 'component=controller'), 9999, '/metrics');
      return metricValue(r.body, 'service_mirror_endpoint_repairs', { target_cluster_name: 'cluster2' });
    };
    await waitFor('a gateway repair cycle', async () => ((await repairs()) >= 1 ? true : undefined), { timeoutMs: 90_000, intervalMs: 2000 });
    await passes('after a repair cycle');
  });

  it("scenario 9: the gateway going away marks mirrors' Endpoints not ready; its ReplicaSet's new Pod restores them", async () => {
    await createService(9, 's9-world', { labels: exported() });
    const gw = await gatewayAddress();
    await waitEndpoints('s9-world-cluster2', (e) => readyIps(e).includes(gw));
    const scale = async (replicas: number) => {
      const s = await c2.apps.readNamespacedDeploymentScale({ name: 'linkerd-gateway', namespace: MC_NS });
      await c2.apps.replaceNamespacedDeploymentScale({ name: 'linkerd-gateway', namespace: MC_NS, body: { ...s, spec: { replicas } } });
    };
    const t0 = performance.now();
    const phase = (what: string) => log(`scenario 9: ${what} after ${Math.round((performance.now() - t0) / 1000)} s`);
    await scale(0);
    try {
      const down = await waitEndpoints('s9-world-cluster2', (e) => readyIps(e).length === 0 && notReadyIps(e).includes(gw));
      phase('mirror Endpoints not ready');
      assert.deepEqual(notReadyIps(down), [gw]);
      await waitEndpoints('world-cluster2', (e) => readyIps(e).length === 0);
    } finally {
      await scale(1);
    }
    await readyPod(c2, MC_NS, 'app=linkerd-gateway');
    phase('a new gateway Pod Ready');
    // The new Pod may come with a new address (the dev LoadBalancer publishes the Pod's own).
    const back = await waitFor('a gateway address again', async () => gatewayAddress().catch(() => undefined), WAIT);
    await waitEndpoints('s9-world-cluster2', (e) => readyIps(e).includes(back));
    await waitEndpoints('world-cluster2', (e) => readyIps(e).includes(back));
    phase('mirror Endpoints ready again');
    await trafficSucceeds('hello-http');
  });

  it("scenario 10: with cluster2's kube-apiserver killed no mirror is deleted, and mirroring resumes after its restart", async (t) => {
    const outage = env.capabilities.apiServerOutage;
    if (!requireCapability(t, env, outage, "killing cluster2's kube-apiserver needs the dev clusters")) return;
    await createService(10, 's10-before', { labels: exported() });
    await waitMirror('s10-before-cluster2');
    const before = await mirrorUids();
    await outage.kill(c2);
    try {
      await waitLinkCondition('RemoteReachable', 'False');
      assert.deepEqual([...(await mirrorUids()).entries()].sort(), [...before.entries()].sort(), 'no mirror deleted or recreated');
    } finally {
      await outage.restart(c2);
    }
    await createService(10, 's10-after', { labels: exported() });
    await waitMirror('s10-after-cluster2');
    await waitLinkCondition('RemoteReachable', 'True');
    const after = await mirrorUids();
    for (const [key, uid] of before) assert.equal(after.get(key), uid, `${key} survived the outage`);
  });

  it('scenario 11: revoked credentials show in the Link status and check; a rotated Secret is picked up without a restart', async () => {
    const SA = 'linkerd-service-mirror-remote-access-default';
    const controllerPod = async () => {
      const pods = await c1.core.listNamespacedPod({ namespace: MC_NS, labelSelector: 'component=controller' });
      const p = pods.items.find((x) => x.metadata?.deletionTimestamp === undefined);
      return { uid: p?.metadata?.uid, restarts: p?.status?.containerStatuses?.map((s) => s.restartCount) };
    };
    const podBefore = await controllerPod();
    const secretBefore = await c1.core.readNamespacedSecret({ name: 'cluster-credentials-cluster2', namespace: MC_NS });
    const sa = await c2.core.readNamespacedServiceAccount({ name: SA, namespace: MC_NS });
    await c2.core.deleteNamespacedServiceAccount({ name: SA, namespace: MC_NS });
    try {
      const revoked = await waitLinkCondition('CredentialsValid', 'False', 'Rejected');
      assert.match(revoked.message ?? '', /rejected the credentials/);
      const check = await mc(['check', '-o', 'json']);
      assert.equal(check.code, 1);
      const cred = failingChecks(check.json).find((c) => c.id === 'remote-credentials');
      assert.match(cred?.error ?? '', /rejected the credentials in Secret linkerd-multicluster\/cluster-credentials-cluster2/);
    } finally {
      // As a user would: the ServiceAccount back (a new one: old tokens stay invalid), then link again.
      await c2.core.createNamespacedServiceAccount({
        namespace: MC_NS,
        body: { metadata: { name: SA, namespace: MC_NS, labels: sa.metadata?.labels ?? {}, annotations: sa.metadata?.annotations ?? {} } },
      });
      await env.relink(['--enable-headless-services']);
    }
    const secretAfter = await c1.core.readNamespacedSecret({ name: 'cluster-credentials-cluster2', namespace: MC_NS });
    assert.notEqual(secretAfter.data?.['kubeconfig'], secretBefore.data?.['kubeconfig'], 'the Secret was rotated');
    await waitLinkCondition('CredentialsValid', 'True');
    await createService(11, 's11-after', { labels: exported() });
    await waitMirror('s11-after-cluster2');
    assert.deepEqual(await controllerPod(), podBefore, 'the same controller Pod, never restarted');
  });

  it('scenario 13: a local Service with a mirror name is never modified or deleted; the conflict is an Event and in the Link status', async () => {
    const mine = await createService(13, 's13-taken-cluster2', { labels: { owner: 'me' } }, c1);
    await createService(13, 's13-taken', { labels: exported() });
    const entry = await waitFor(
      'NameCollision for demo/s13-taken in the Link status',
      async () =>
        (await readLink())?.status?.mirrorServices
          ?.find((m) => m.remoteRef.name === 's13-taken')
          ?.conditions?.find((c) => c.reason === 'NameCollision'),
      WAIT,
    );
    assert.match(entry.message ?? '', /s13-taken-cluster2 already exists and is not a mirror/);
    await waitFor(
      'a ServiceMirroringSkipped Event',
      async () =>
        (await c1.core.listNamespacedEvent({ namespace: MC_NS })).items.find(
          (e) => e.reason === 'ServiceMirroringSkipped' && e.message?.includes('demo/s13-taken'),
        ),
      WAIT,
    );
    await c2.core.deleteNamespacedService({ name: 's13-taken', namespace: DEMO_NS });
    await waitFor(
      'the collision to leave the Link status',
      async () => ((await readLink())?.status?.mirrorServices?.some((m) => m.remoteRef.name === 's13-taken') ? undefined : true),
      WAIT,
    );
    const after = await readService(c1, 's13-taken-cluster2');
    assert.equal(after?.metadata?.resourceVersion, mine.metadata?.resourceVersion, 'the local Service was never modified or deleted');
  });

  it('scenario 14: a mirror name over 63 characters is shortened deterministically', async () => {
    const name = `s14-${'long'.repeat(13)}`;
    await createService(14, name, { labels: exported() });
    const expected = mirrorName({ namespace: DEMO_NS, name }, { clusterName: 'cluster2' });
    assert.ok(expected.length <= 63 && `${name}-cluster2`.length > 63);
    const m = await waitMirror(expected);
    assert.ok(m.metadata?.name?.endsWith('-cluster2'));
    assert.equal(m.metadata?.annotations?.['multicluster.linkerd.io/full-mirror-name'], `${name}-cluster2`);
    assert.equal(m.metadata?.annotations?.['mirror.linkerd.io/remote-svc-fq-name'], `${name}.demo.svc.cluster.local`);
    await waitEndpoints(expected, (e) => readyIps(e).length > 0);
  });

  it('scenario 15: bad input to the gateway is refused and counted while it keeps serving everyone else', async (t) => {
    const client = env.capabilities.hostMeshClient;
    if (!requireCapability(t, env, client, "a Linkerd-like client needs to reach cluster2's gateway from the test process (dev clusters only)"))
      return;
    const gw = await client.gateway();
    const caller = 'acceptance.demo.serviceaccount.identity.linkerd.cluster.local';
    const good = await client.credentials(caller);
    const before = await gatewayMetrics();
    const refused = async (s: TLSSocket, send?: (s: TLSSocket) => void) => {
      const done = closedWith(s);
      send?.(s);
      assert.ok((await done).closed, 'the gateway closed the connection');
    };
    const alpn = ['transport.l5d.io/v1'];
    const ca = client.trustAnchorsPem;
    const header = encodeTransportHeader({ port: 8080, name: WORLD_FQDN });
    await refused(await rawTls(gw, { ca, alpn, servername: GATEWAY_ID }), (s) => s.write(header));
    await refused(await rawTls(gw, { creds: await client.foreignCredentials(caller), ca, alpn, servername: GATEWAY_ID }));
    const expired = await client.credentials(caller, { lifetimeMs: 60_000, now: new Date(Date.now() - 3_600_000) });
    await refused(await rawTls(gw, { creds: expired, ca, alpn, servername: GATEWAY_ID }));
    await refused(await rawTls(gw, { creds: good, ca, servername: GATEWAY_ID }), (s) => s.write(header));
    await refused(await rawTls(gw, { creds: good, ca, alpn, servername: GATEWAY_ID }), (s) => s.write('GET / HTTP/1.1\r\n\r\n'));
    await refused(await rawTls(gw, { creds: good, ca, alpn, servername: GATEWAY_ID }), (s) => s.end(header.subarray(0, 30)));

    const unknown = await h2Session(gw, good, GATEWAY_ID, { port: 8080, name: 'nope.demo.svc.cluster.local' });
    const r404 = await h2Request(unknown, { ':path': '/', 'l5d-orig-proto': 'HTTP/1.1' });
    assert.deepEqual([r404.headers[':status'], r404.headers['l5d-proxy-error']], [404, 'bad gateway domain']);
    unknown.close();
    const loopSession = await h2Session(gw, good, GATEWAY_ID, { port: 8080, name: WORLD_FQDN });
    const loop = await h2Request(loopSession, {
      ':path': '/',
      'l5d-orig-proto': 'HTTP/1.1',
      forwarded: `by=${GATEWAY_ID};for=x;host=${WORLD_FQDN}:8080;proto=https`,
    });
    assert.deepEqual([loop.headers[':status'], loop.headers['l5d-proxy-error']], [508, 'gateway loop detected']);
    loopSession.close();

    // Everyone else is still served: this client on a good session, and the demo's traffic.
    const okSession = await h2Session(gw, good, GATEWAY_ID, { port: 8080, name: WORLD_FQDN });
    const ok = await h2Request(okSession, { ':path': '/after-bad-input', 'l5d-orig-proto': 'HTTP/1.1' });
    assert.equal(ok.headers[':status'], 200);
    assert.equal((JSON.parse(ok.body.toString()) as { clientId: string }).clientId, caller);
    okSession.close();
    await trafficSucceeds('hello-http');

    const m = await gatewayMetrics();
    const grew = (name: string, error: string) => metricValue(m, name, { error }) - metricValue(before, name, { error });
    for (const error of REFUSED_CONNECTION_ERRORS) {
      assert.equal(grew('inbound_tcp_errors_total', error), 1, error);
    }
    for (const error of ['domain_invalid', 'loop']) assert.equal(grew('inbound_http_errors_total', error), 1, error);
  });

  // Last: it removes the Link every other scenario relies on.
  it('scenario 12: unlink output removes every object link created, plus the mirrors', async () => {
    const unlink = await env.mc(['unlink', '--cluster-name', 'cluster2']);
    assert.equal(unlink.code, 0, unlink.stderr);
    assert.ok((await mirrorUids()).size > 0, 'mirrors exist before');
    try {
      await env.kubectl(c1, ['delete', '--ignore-not-found', '--timeout=90s', '-f', '-'], unlink.stdout);
      const absent = async (what: string, read: () => Promise<unknown>) =>
        assert.rejects(read(), (err: unknown) => isNotFound(err), `${what} is deleted`);
      await absent('the Link', () => c1.custom.getNamespacedCustomObject(LINK));
      await absent('the credentials Secret', () => c1.core.readNamespacedSecret({ name: 'cluster-credentials-cluster2', namespace: MC_NS }));
      await absent('the controller', () => c1.apps.readNamespacedDeployment({ name: 'controller-cluster2', namespace: MC_NS }));
      await absent('the probe Endpoints', () => c1.core.readNamespacedEndpoints({ name: 'probe-cluster2', namespace: MC_NS }));
      assert.equal((await mirrorUids()).size, 0, 'no mirror Service left');
      await waitFor(
        'mirror Endpoints to go',
        async () =>
          (await c1.core.listEndpointsForAllNamespaces({ labelSelector: 'mirror.linkerd.io/cluster-name=cluster2' })).items.length === 0
            ? true
            : undefined,
        WAIT,
      );
    } finally {
      if (env.persistent) await linkAgain();
    }
  });
});
