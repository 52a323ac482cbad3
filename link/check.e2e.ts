// `check`, `gateways` and `unlink` against two real clusters sharing one linkedPair(): check
// passes on a good setup and fails in the right category when the trust anchors differ,
// the controller is gone or the credentials are revoked; gateways reads a running mirror.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { CoreV1Api } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { freePort } from '../dev/control-plane.ts';
import { waitFor } from '../dev/managed-process.ts';
import { BIN } from '../e2e/fixtures/cli.ts';
import { kubectl } from '../e2e/fixtures/kubectl.ts';
import { linkedPair, MC_NS, type LinkedPair, type MirrorProcess } from '../e2e/fixtures/linked-pair.ts';
import { workloadCommand } from '../e2e/workloads/launch.ts';
import { createTrustAnchor } from '../identity/trust-anchor.ts';
import { isNotFound } from '../kube/client.ts';
import { runChecks } from './check.ts';
import type { CheckResult } from './check-report.ts';
import { readGateways } from './gateways.ts';
import { loadKubeAccess, type KubeAccess } from './kube-access.ts';

const WAIT = { timeoutMs: 30_000, intervalMs: 250 };
const SA = 'linkerd-service-mirror-remote-access-default';
let env: LinkedPair;
let mirror: MirrorProcess;
let anchorPem: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI as users run it, keeping stdout and the exit code of failing runs too. */
function mc(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args, '--kubeconfig', env.pair.kubeconfigPath, '--context', env.pair.cluster1.context],
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

interface JsonCheck {
  id: string;
  link?: string;
  result: 'success' | 'warning' | 'error';
  detail?: string;
  error?: string;
  hint?: string;
}

async function check(extra: string[] = []): Promise<{ run: Run; checks: JsonCheck[] }> {
  const run = await mc(['check', '-o', 'json', ...extra]);
  assert.ok(run.code === 0 || run.code === 1, `check exits 0 or 1, got ${run.code}: ${run.stderr}`);
  const parsed = JSON.parse(run.stdout) as { success: boolean; categories: Array<{ checks: JsonCheck[] }> };
  assert.equal(parsed.success, run.code === 0);
  return { run, checks: parsed.categories.flatMap((c) => c.checks) };
}

const failing = (checks: readonly JsonCheck[]) => checks.filter((c) => c.result === 'error');
const byId = (checks: readonly JsonCheck[], id: string) => checks.find((c) => c.id === id);

// The CLI costs seconds per start on a loaded machine, so waits poll the same code in-process.
let access: KubeAccess;
const metricsUrl = () => new URL(`http://127.0.0.1:${mirror.metricsPort}/metrics`);
const checkNow = (metricsUrls: ReadonlyMap<string, URL> = new Map()) =>
  runChecks({ access, namespace: MC_NS, linkerdNamespace: 'linkerd', metricsUrls });
const failingIds = (results: readonly CheckResult[]) => results.filter((r) => r.status === 'fail').map((r) => r.id);
const result = (results: readonly CheckResult[], id: string) => results.find((r) => r.id === id);
const messageOf = (r: CheckResult | undefined) => (r && r.status !== 'ok' ? r.message : '');

async function putTrustRoots(core: CoreV1Api, pem: string): Promise<void> {
  const body = { metadata: { name: 'linkerd-identity-trust-roots', namespace: 'linkerd' }, data: { 'ca-bundle.crt': pem } };
  try {
    await core.replaceNamespacedConfigMap({ name: 'linkerd-identity-trust-roots', namespace: 'linkerd', body });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await core.createNamespacedConfigMap({ namespace: 'linkerd', body });
  }
}

async function deleteTrustRoots(core: CoreV1Api): Promise<void> {
  await core.deleteNamespacedConfigMap({ name: 'linkerd-identity-trust-roots', namespace: 'linkerd' }).catch((err: unknown) => {
    if (!isNotFound(err)) throw err;
  });
}

async function mirrorCount(): Promise<number> {
  const list = await env.core1.listServiceForAllNamespaces({
    labelSelector: 'mirror.linkerd.io/mirrored-service=true,mirror.linkerd.io/cluster-name=cluster2',
  });
  return list.items.length;
}

describe('check, gateways and unlink on real clusters', { concurrency: false, timeout: 240_000 }, () => {
  before(async () => {
    env = await linkedPair();
    access = loadKubeAccess({ kubeconfig: env.pair.kubeconfigPath, context: env.pair.cluster1.context, timeoutMs: 10_000 }, {});
    anchorPem = (await createTrustAnchor()).certPem;
    await putTrustRoots(env.core1, anchorPem);
    await putTrustRoots(env.core2, anchorPem);
    // Two exported Services behind one backend, mirrored into an existing namespace.
    for (const core of [env.core1, env.core2]) await core.createNamespace({ body: { metadata: { name: 'web' } } });
    for (const name of ['web', 'api']) {
      await env.core2.createNamespacedService({
        namespace: 'web',
        body: {
          metadata: { name, labels: { 'mirror.linkerd.io/exported': 'true' } },
          spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
        },
      });
    }
    await env.pair.cluster2.pods.start({
      namespace: 'web',
      name: 'web-0',
      labels: { app: 'web' },
      command: workloadCommand('http-server.ts'),
      env: { PORT: '8080', CLUSTER: 'cluster2' },
      ports: [{ name: 'http', containerPort: 8080 }],
      readinessPort: 8080,
    });
    mirror = await env.startMirror();
    await waitFor('two mirrors of cluster2', async () => ((await mirrorCount()) === 2 ? true : undefined), WAIT);
  });
  after(async () => {
    await env?.stop();
  });

  test('check passes on a linked pair that shares a trust anchor', async () => {
    const { run, checks } = await check(['--wait', '30s']);
    assert.equal(run.code, 0, JSON.stringify(failing(checks)));
    assert.deepEqual(
      checks.map((c) => c.id),
      [
        'link-crd',
        'links-valid',
        'remote-credentials',
        'trust-anchors',
        'controller',
        'probe-endpoints',
        'gateway-alive',
        'mirror-endpoints',
        'orphan-mirrors',
      ],
    );
    assert.equal(byId(checks, 'mirror-endpoints')?.detail, '2 mirror Services');
    assert.match(byId(checks, 'gateway-alive')?.detail ?? '', /from the Link's GatewayAlive condition; pass --metrics-url cluster2=<url>/);
    assert.equal(byId(checks, 'controller')?.detail, 'held by mirror-a');

    const table = await mc(['check', '--metrics-url', `cluster2=${metricsUrl().href}`]);
    assert.equal(table.code, 0, table.stdout);
    assert.match(table.stdout, /^√ clusters share a trust anchor \[cluster2\] \(1 anchor in common\)$/m);
    assert.match(table.stdout, /^√ the remote gateway is alive \[cluster2\] \(gateway_alive=1 from http:\/\/127\.0\.0\.1:\d+\/metrics\)$/m);
    assert.match(table.stdout, /^Status check results are √ \(9 passed, 0 failed, 0 warnings\)$/m);
  });

  test('gateways shows cluster2 alive with its mirror count', async () => {
    const rows = await waitFor(
      'gateways from the controller metrics',
      async () => {
        const r = await readGateways({ access, namespace: MC_NS, metricsUrls: new Map([['cluster2', metricsUrl()]]) });
        return r[0]?.numServices === 2 && r[0].latencyMs !== undefined ? r : undefined;
      },
      WAIT,
    );
    assert.deepEqual(
      rows.map((r) => [r.cluster, r.alive, r.numServices, r.source]),
      [['cluster2', true, 2, 'metrics']],
    );

    const table = await mc(['gateways', '--metrics-url', `cluster2=${metricsUrl().href}`]);
    assert.match(table.stdout, /^CLUSTER\s+ALIVE\s+NUM_SVC\s+LATENCY\ncluster2\s+True\s+2\s+p50=[\d.]+ms p95=[\d.]+ms p99=[\d.]+ms\n$/);
    const fallback = await mc(['gateways', '--cluster-name', 'cluster2', '-o', 'json']);
    assert.deepEqual(JSON.parse(fallback.stdout), [
      { clusterName: 'cluster2', link: 'cluster2', gateway: true, alive: true, numberOfServices: 2, latencyMs: null, source: 'cluster' },
    ]);

    const unknown = await mc(['gateways', '--cluster-name', 'nope']);
    assert.deepEqual([unknown.code, unknown.stdout], [2, '']);
    assert.match(unknown.stderr, /^Error: no Link in namespace linkerd-multicluster targets cluster "nope"/);
    const closed = await freePort();
    await assert.rejects(
      readGateways({ access, namespace: MC_NS, metricsUrls: new Map([['cluster2', new URL(`http://127.0.0.1:${closed}/metrics`)]]) }),
      (err: unknown) =>
        err instanceof Error &&
        /^Link cluster2: cannot read metrics from http:\/\/127\.0\.0\.1:\d+\/metrics: .*ECONNREFUSED.*; check that its controller runs/.test(
          err.message,
        ),
    );
  });

  test('check fails on trust anchors only when they differ, and when Linkerd is absent', async () => {
    await putTrustRoots(env.core2, (await createTrustAnchor({ commonName: 'other-root' })).certPem);
    const differ = await check();
    assert.equal(differ.run.code, 1);
    assert.deepEqual(
      failing(differ.checks).map((c) => c.id),
      ['trust-anchors'],
    );
    assert.match(
      failing(differ.checks)[0]?.error ?? '',
      /^no anchor in common: this cluster trusts CN=root\.linkerd\.cluster\.local .*; cluster2 trusts CN=other-root/,
    );

    // The same anchor written differently (CRLF, a comment) is the same anchor.
    await putTrustRoots(env.core2, `# shared root\r\n${anchorPem.replace(/\n/g, '\r\n')}`);
    assert.deepEqual(failingIds(await checkNow()), []);

    await deleteTrustRoots(env.core1);
    await deleteTrustRoots(env.core2);
    const absent = await checkNow();
    assert.deepEqual(failingIds(absent), ['trust-anchors']);
    assert.match(messageOf(result(absent, 'trust-anchors')), /^Linkerd is installed in neither cluster/);
    await putTrustRoots(env.core1, anchorPem);
    await putTrustRoots(env.core2, anchorPem);
  });

  test('check fails on the controller when it is gone past its lease', async () => {
    await mirror.proc.kill(); // a crash: the Lease keeps its holder until it expires
    const gone = await waitFor(
      'the controller check to fail',
      async () => {
        const r = await checkNow();
        return result(r, 'controller')?.status === 'fail' ? r : undefined;
      },
      WAIT,
    );
    const controller = result(gone, 'controller');
    assert.match(
      messageOf(controller),
      /^Lease linkerd-multicluster\/service-mirror-write-cluster2 held by mirror-a was last renewed \d+s ago, past its 4s duration/,
    );
    assert.match(controller?.status === 'fail' ? controller.hint : '', /multicluster mirror --link cluster2/);

    mirror = await env.startMirror('mirror-b');
    const back = await waitFor(
      'check to pass with a new controller',
      async () => {
        const r = await checkNow();
        return failingIds(r).length === 0 ? r : undefined;
      },
      WAIT,
    );
    assert.deepEqual(result(back, 'controller'), {
      id: 'controller',
      description: 'a service-mirror controller runs',
      link: 'cluster2',
      status: 'ok',
      detail: 'held by mirror-b',
    });
  });

  test('check fails on the credentials when the remote ServiceAccount is deleted', async () => {
    await env.core2.deleteNamespacedServiceAccount({ name: SA, namespace: MC_NS });
    const revoked = await waitFor(
      'the credentials check to fail',
      async () => {
        const r = await checkNow();
        return result(r, 'remote-credentials')?.status === 'fail' ? r : undefined;
      },
      WAIT,
    );
    const cred = result(revoked, 'remote-credentials');
    assert.match(
      messageOf(cred),
      /^cluster2 \(https:\/\/\S+\) rejected the credentials in Secret linkerd-multicluster\/cluster-credentials-cluster2: .*401/,
    );
    assert.match(cred?.status === 'fail' ? cred.hint : '', /re-run `multicluster link .*--cluster-name cluster2`/);
    assert.match(messageOf(result(revoked, 'trust-anchors')), /the Link's credentials do not work/);
    assert.equal(result(revoked, 'controller')?.status, 'ok');
  });

  test('unlink | kubectl delete removes what link created, the mirrors and the probe Endpoints', async () => {
    const probeEndpoints = () => env.core1.readNamespacedEndpoints({ name: 'probe-cluster2', namespace: MC_NS });
    assert.equal((await probeEndpoints()).metadata?.name, 'probe-cluster2', 'the controller wrote the probe Endpoints');
    const unlink = await mc(['unlink', '--cluster-name', 'cluster2']);
    assert.equal(unlink.code, 0, unlink.stderr);
    // The Link first, while its controller still runs to clear its finalizer; then the controller.
    const stubs = parseAllDocuments(unlink.stdout)
      .map((d) => d.toJS() as { kind: string; metadata: { name: string } })
      .map((o) => `${o.kind}/${o.metadata.name}`);
    assert.deepEqual(stubs.slice(0, 2), ['Link/cluster2', 'Deployment/controller-cluster2']);
    assert.equal(stubs[stubs.indexOf('Service/probe-cluster2') + 1], 'Endpoints/probe-cluster2');
    // --controller=false: the controller stubs were never created, hence --ignore-not-found.
    // The Lease is the controller's, not link's: a plain-process controller that keeps
    // running recreates it, so it is not asserted here.
    await kubectl(env.pair, env.pair.cluster1, ['delete', '--ignore-not-found', '--timeout=30s', '-f', '-'], unlink.stdout);
    const absent = async (what: string, read: () => Promise<unknown>) => {
      await assert.rejects(read(), (err: unknown) => isNotFound(err), `${what} is deleted`);
    };
    await absent('the Link', () =>
      env.custom1.getNamespacedCustomObject({
        group: 'multicluster.linkerd.io',
        version: 'v1alpha3',
        namespace: MC_NS,
        plural: 'links',
        name: 'cluster2',
      }),
    );
    await absent('the credentials Secret', () => env.core1.readNamespacedSecret({ name: 'cluster-credentials-cluster2', namespace: MC_NS }));
    await absent('the probe Endpoints', probeEndpoints);
    const secrets = await env.core1.listSecretForAllNamespaces({ labelSelector: 'multicluster.linkerd.io/cluster-name=cluster2' });
    assert.deepEqual(
      secrets.items.map((s) => s.metadata?.name),
      [],
      'the linkerd-namespace credentials copy is deleted',
    );
    assert.equal(await mirrorCount(), 0, 'mirror Services are deleted');
    const eps = await waitFor(
      'mirror Endpoints to go',
      async () => {
        const l = await env.core1.listEndpointsForAllNamespaces({
          labelSelector: 'mirror.linkerd.io/cluster-name=cluster2,mirror.linkerd.io/mirrored-service=true',
        });
        return l.items.length === 0 ? l.items : undefined;
      },
      WAIT,
    );
    assert.deepEqual(eps, []);

    const afterUnlink = await checkNow();
    assert.deepEqual(failingIds(afterUnlink), []);
    assert.deepEqual(result(afterUnlink, 'links-valid'), {
      id: 'links-valid',
      description: 'Link resources are valid',
      status: 'ok',
      detail: 'no Links in namespace linkerd-multicluster',
    });
    assert.equal(result(afterUnlink, 'orphan-mirrors')?.status, 'ok');
  });
});
