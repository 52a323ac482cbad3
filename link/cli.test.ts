// The commands as users run them: `node bin/multicluster.js ...`. Bad input must give a
// one-line error, a non-zero exit and nothing at all on stdout.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { FakeApiServer, Route } from './fake-api-server.ts';
import { startFakeApiServer } from './fake-api-server.ts';

const BIN = fileURLToPath(new URL('../bin/multicluster.js', import.meta.url));
const NS = 'linkerd-multicluster';
const SA = 'linkerd-service-mirror-remote-access-default';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Result> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: '/nonexistent-home' };
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Asserts the bad-input contract and returns the error line. */
function assertRefused(r: Result, pattern: RegExp, code = 2): void {
  assert.equal(r.stdout, '', 'nothing on stdout');
  assert.equal(r.code, code, `exit code (stderr: ${r.stderr})`);
  assert.match(r.stderr, pattern);
  if (code === 2) assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one line: ${r.stderr}`);
}

const json = (body: unknown): Route => () => ({ status: 200, body });

function targetRoutes(ingress: Array<{ ip: string }>): Record<string, Route> {
  return {
    [`GET /api/v1/namespaces/${NS}/serviceaccounts/${SA}`]: json({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: SA, namespace: NS } }),
    'GET /api/v1/namespaces/linkerd/configmaps/linkerd-config': json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'linkerd-config' }, data: { values: 'identityTrustDomain: cluster.local\nclusterDomain: cluster.local\n' } }),
    [`GET /api/v1/namespaces/${NS}/services/linkerd-gateway`]: json({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'linkerd-gateway',
        namespace: NS,
        annotations: { 'mirror.linkerd.io/gateway-identity': 'gw.id', 'mirror.linkerd.io/probe-path': '/ready', 'mirror.linkerd.io/probe-period': '3' },
      },
      spec: { type: 'LoadBalancer', ports: [{ name: 'mc-gateway', port: 4143 }, { name: 'mc-probe', port: 4191 }] },
      status: { loadBalancer: { ingress } },
    }),
    [`POST /api/v1/namespaces/${NS}/serviceaccounts/${SA}/token`]: () => ({
      status: 201,
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [] }, status: { token: 'tok', expirationTimestamp: new Date(Date.now() + 3.2e10).toISOString() } },
    }),
  };
}

describe('multicluster link: bad input', { concurrency: true }, () => {
  let target: FakeApiServer;
  let noAddress: FakeApiServer;
  let empty: FakeApiServer;
  before(async () => {
    target = await startFakeApiServer(targetRoutes([{ ip: '172.18.0.10' }]));
    noAddress = await startFakeApiServer(targetRoutes([]));
    empty = await startFakeApiServer({});
  });
  after(async () => {
    await Promise.all([target.close(), noAddress.close(), empty.close()]);
  });

  it('requires --cluster-name', async () => {
    assertRefused(await cli(['link', '--kubeconfig', target.kubeconfig()]), /required option '--cluster-name <name>'/, 1);
  });

  it('rejects a cluster name that is not a DNS label', async () => {
    assertRefused(await cli(['link', '--cluster-name', 'East_1', '--kubeconfig', target.kubeconfig()]), /^Error: --cluster-name: "East_1" must be a DNS-1123 label/);
  });

  it('rejects an invalid selector', async () => {
    assertRefused(await cli(['link', '--cluster-name', 'east', '-l', 'app in web', '--kubeconfig', target.kubeconfig()]), /^Error: --selector: cannot parse "app in web"/);
  });

  it('rejects gateway flags with --gateway=false', async () => {
    assertRefused(
      await cli(['link', '--cluster-name', 'east', '--gateway=false', '--gateway-port', '4143', '--kubeconfig', target.kubeconfig()]),
      /^Error: --gateway-port cannot be used with --gateway=false/,
    );
  });

  it('rejects an unknown context', async () => {
    assertRefused(await cli(['link', '--cluster-name', 'east', '--context', 'nope', '--kubeconfig', target.kubeconfig()]), /^Error: context "nope" not found in kubeconfig .*one of: fake/);
  });

  it('rejects a missing kubeconfig', async () => {
    assertRefused(await cli(['link', '--cluster-name', 'east', '--kubeconfig', '/nonexistent/kubeconfig']), /^Error: cannot load kubeconfig \/nonexistent\/kubeconfig/);
  });

  it('reports an unreachable API server', async () => {
    const gone = await startFakeApiServer({});
    const kubeconfig = gone.kubeconfig();
    await gone.close();
    assertRefused(await cli(['link', '--cluster-name', 'east', '--kubeconfig', kubeconfig]), /^Error: cannot reach the API server of context "fake" .*ECONNREFUSED/);
  });

  it('reports a gateway Service without an address', async () => {
    assertRefused(await cli(['link', '--cluster-name', 'east', '--kubeconfig', noAddress.kubeconfig()]), /^Error: gateway Service linkerd-multicluster\/linkerd-gateway \(type LoadBalancer\) has no external address yet/);
  });

  it('reports a missing remote-access ServiceAccount', async () => {
    assertRefused(await cli(['link', '--cluster-name', 'east', '--kubeconfig', empty.kubeconfig()]), /^Error: ServiceAccount linkerd-multicluster\/linkerd-service-mirror-remote-access-default not found/);
  });

  it('rejects an unknown output format before contacting the cluster', async () => {
    assertRefused(await cli(['link', '--cluster-name', 'east', '-o', 'xml', '--kubeconfig', empty.kubeconfig()]), /^Error: unsupported output format "xml"/);
  });
});

describe('multicluster link: success', { concurrency: true }, () => {
  let target: FakeApiServer;
  before(async () => (target = await startFakeApiServer(targetRoutes([{ ip: '172.18.0.10' }]))));
  after(async () => target.close());

  it('prints the credentials, Link and controller, identically on every run', async () => {
    const kubeconfig = target.kubeconfig();
    const a = await cli(['link', '--cluster-name', 'east', '--kubeconfig', kubeconfig, '--excluded-labels', 'evil.linkerd/*,evil']);
    assert.equal(a.code, 0, a.stderr);
    const kinds = parseAllDocuments(a.stdout).map((d) => (d.toJS() as { kind: string }).kind);
    assert.deepEqual(kinds, ['Secret', 'Secret', 'Link', 'ServiceAccount', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Deployment', 'Service']);
    const b = await cli(['link', '--cluster-name', 'east', '--kubeconfig', kubeconfig, '--excluded-labels', 'evil.linkerd/*,evil']);
    assert.equal(b.stdout, a.stdout);
  });

  it('prints a JSON List with -o json', async () => {
    const r = await cli(['link', '--cluster-name', 'east', '--gateway=false', '--controller=false', '-o', 'json', '--kubeconfig', target.kubeconfig()]);
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as { kind: string; items: Array<{ kind: string; spec?: { selector?: unknown } }> };
    assert.equal(list.kind, 'List');
    assert.deepEqual(list.items.map((i) => i.kind), ['Secret', 'Secret', 'Link']);
    assert.equal(list.items[2]?.spec?.selector, undefined, 'pod-to-pod links have a nil selector');
  });
});

describe('multicluster install / allow / unlink: bad input', { concurrency: true }, () => {
  it('install rejects unknown --set keys', async () => {
    assertRefused(await cli(['install', '--set', 'gateway.colour=blue']), /^Error: --set gateway.colour: unknown key; supported keys are namespace, /);
  });
  it('install rejects bad values', async () => {
    assertRefused(await cli(['install', '--set', 'gateway.port=http']), /^Error: --set gateway.port=http: expected a port number/);
    assertRefused(await cli(['install', '--gateway-service-type', 'Ingress']), /^Error: --gateway-service-type "Ingress": expected one of LoadBalancer, NodePort, ClusterIP/);
    assertRefused(await cli(['install', '--controllers', 'ok,Not_OK']), /^Error: --controllers: "Not_OK" must be a DNS-1123 label/);
    assertRefused(await cli(['install', '--gateway=maybe']), /^Error: --gateway=maybe: expected true or false/);
  });
  it('install renders with --gateway=false', async () => {
    const r = await cli(['install', '--gateway=false']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.includes('kind: Deployment'), false);
  });
  it('allow requires --service-account-name', async () => {
    assertRefused(await cli(['allow']), /required option '--service-account-name <name>'/, 1);
  });
  it('unlink reports a Link that does not exist', async () => {
    const api = await startFakeApiServer({
      'GET /api/v1/services': json({ apiVersion: 'v1', kind: 'ServiceList', metadata: {}, items: [] }),
      'GET /api/v1/secrets': json({ apiVersion: 'v1', kind: 'SecretList', metadata: {}, items: [] }),
    });
    try {
      assertRefused(await cli(['unlink', '--cluster-name', 'east', '--kubeconfig', api.kubeconfig()]), /^Error: no Link linkerd-multicluster\/east and no mirrors of it in context "fake"/);
    } finally {
      await api.close();
    }
  });
  it('unlink lists the mirrors it found', async () => {
    const api = await startFakeApiServer({
      [`GET /apis/multicluster.linkerd.io/v1alpha3/namespaces/${NS}/links/east`]: json({ apiVersion: 'multicluster.linkerd.io/v1alpha3', kind: 'Link', metadata: { name: 'east', namespace: NS }, spec: {} }),
      'GET /api/v1/services': json({ apiVersion: 'v1', kind: 'ServiceList', metadata: {}, items: [{ metadata: { name: 'web-east', namespace: 'app' } }] }),
      'GET /api/v1/secrets': json({ apiVersion: 'v1', kind: 'SecretList', metadata: {}, items: [{ metadata: { name: 'cluster-credentials-east', namespace: 'linkerd' } }] }),
    });
    try {
      const r = await cli(['unlink', '--cluster-name', 'east', '--kubeconfig', api.kubeconfig()]);
      assert.equal(r.code, 0, r.stderr);
      const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } });
      assert.deepEqual(docs.slice(0, 3).map((d) => `${d.kind}/${d.metadata.name}`), ['Deployment/controller-east', 'Link/east', 'Service/web-east']);
      assert.ok(api.requests.some((q) => q.includes('labelSelector=mirror.linkerd.io%2Fmirrored-service%3Dtrue%2Cmirror.linkerd.io%2Fcluster-name%3Deast')));
    } finally {
      await api.close();
    }
  });
});
