import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { V1Service } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { createLogger } from '../log/logger.ts';
import type { Route } from './fake-api-server.ts';
import { startFakeApiServer, status } from './fake-api-server.ts';
import { ApiServerUnreachableError, ContextNotFoundError, loadKubeAccess } from './kube-access.ts';
import type { TargetReadOptions } from './target-cluster.ts';
import { GatewayNotReadyError, MissingCredentialsError, MissingServiceAccountError, gatewayFromService, readTargetCluster } from './target-cluster.ts';

const NS = 'linkerd-multicluster';
const SA = 'linkerd-service-mirror-remote-access-default';

function gatewayService(patch: { type?: string; ingress?: Array<{ ip?: string; hostname?: string }>; annotations?: Record<string, string> } = {}): V1Service {
  return {
    metadata: {
      name: 'linkerd-gateway',
      namespace: NS,
      annotations: patch.annotations ?? {
        'mirror.linkerd.io/gateway-identity': 'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local',
        'mirror.linkerd.io/probe-path': '/ready',
        'mirror.linkerd.io/probe-period': '3',
      },
    },
    spec: {
      type: patch.type ?? 'LoadBalancer',
      ports: [
        { name: 'mc-gateway', port: 4143, nodePort: 30143 },
        { name: 'mc-probe', port: 4191, nodePort: 30191 },
      ],
    },
    status: { loadBalancer: { ingress: patch.ingress ?? [{ ip: '172.18.0.10' }, { hostname: 'gw.example.com' }] } },
  };
}

describe('gatewayFromService', () => {
  const lookup = { name: 'linkerd-gateway', namespace: NS };
  it('reads addresses, ports, identity and probe', () => {
    assert.deepEqual(gatewayFromService(gatewayService(), lookup), {
      addresses: ['172.18.0.10', 'gw.example.com'],
      port: 4143,
      identity: 'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local',
      probe: { path: '/ready', port: 4191, period: '3s' },
    });
  });
  it('uses node ports for NodePort Services and honours overrides', () => {
    const g = gatewayFromService(gatewayService({ type: 'NodePort', ingress: [] }), { ...lookup, addresses: ['10.0.0.5'], port: 31000 });
    assert.deepEqual([g.addresses, g.port, g.probe.port], [['10.0.0.5'], 31000, 30191]);
  });
  it('fails clearly without an address', () => {
    assert.throws(() => gatewayFromService(gatewayService({ ingress: [] }), lookup), (err: unknown) => {
      assert.ok(err instanceof GatewayNotReadyError);
      assert.match(err.message, /has no external address yet .* pass --gateway-addresses/);
      return true;
    });
  });
  it('fails without the identity annotation or with a bad period', () => {
    assert.throws(() => gatewayFromService(gatewayService({ annotations: { 'mirror.linkerd.io/probe-path': '/ready' } }), lookup), /gateway-identity annotation/);
    assert.throws(
      () =>
        gatewayFromService(
          gatewayService({ annotations: { 'mirror.linkerd.io/gateway-identity': 'x', 'mirror.linkerd.io/probe-path': '/ready', 'mirror.linkerd.io/probe-period': 'often' } }),
          lookup,
        ),
      /invalid mirror.linkerd.io\/probe-period annotation "often"/,
    );
  });
});

const json = (body: unknown): Route => () => ({ status: 200, body });

function baseRoutes(): Record<string, Route> {
  return {
    [`GET /api/v1/namespaces/${NS}/serviceaccounts/${SA}`]: json({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: SA, namespace: NS } }),
    'GET /api/v1/namespaces/linkerd/configmaps/linkerd-config': json({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'linkerd-config', namespace: 'linkerd' },
      data: { values: 'identityTrustDomain: example.org\nclusterDomain: cluster.example\n' },
    }),
    [`GET /api/v1/namespaces/${NS}/services/linkerd-gateway`]: json({ apiVersion: 'v1', kind: 'Service', ...gatewayService() }),
  };
}

const tokenRequestOk: Route = (_req, body) => {
  const spec = (JSON.parse(body) as { spec: { expirationSeconds: number } }).spec;
  const expires = new Date(Date.now() + spec.expirationSeconds * 1000).toISOString();
  return { status: 201, body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec, status: { token: 'bounded-token', expirationTimestamp: expires } } };
};

const tokenSecret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: `${SA}-token`, namespace: NS, annotations: { 'kubernetes.io/service-account.name': SA } }, type: 'kubernetes.io/service-account-token', data: { token: Buffer.from('secret-token').toString('base64') } };

function options(patch: Partial<TargetReadOptions> = {}): TargetReadOptions {
  return {
    clusterName: 'east',
    namespace: NS,
    serviceAccountName: SA,
    linkerdNamespace: 'linkerd',
    gateway: { name: 'linkerd-gateway', namespace: NS },
    tokenLifetimeSeconds: 3600,
    createCredentials: false,
    log: createLogger({ write: () => {} }),
    tokenWaitMs: 500,
    ...patch,
  };
}

describe('readTargetCluster against a fake API', () => {
  it('uses a bounded TokenRequest token and a one-cluster kubeconfig', async () => {
    const api = await startFakeApiServer({ ...baseRoutes(), [`POST /api/v1/namespaces/${NS}/serviceaccounts/${SA}/token`]: tokenRequestOk });
    try {
      const access = loadKubeAccess({ kubeconfig: api.kubeconfig() }, {});
      const facts = await readTargetCluster(access, options({ apiServerAddress: 'https://10.0.0.1:6443' }));
      assert.equal(facts.credential.kind, 'token-request');
      assert.deepEqual([facts.trustDomain, facts.clusterDomain], ['example.org', 'cluster.example']);
      assert.deepEqual(facts.gateway?.addresses, ['172.18.0.10', 'gw.example.com']);
      const kc = parseYaml(facts.kubeconfig) as { clusters: Array<{ cluster: Record<string, unknown> }>; users: Array<{ user: { token: string } }> };
      assert.equal(kc.clusters.length, 1);
      assert.equal(kc.clusters[0]?.cluster.server, 'https://10.0.0.1:6443');
      assert.equal(kc.users[0]?.user.token, 'bounded-token');
      assert.equal(api.requests.filter((r) => r.startsWith('POST')).length, 1, 'the TokenRequest is the only write');
    } finally {
      await api.close();
    }
  });

  it('falls back to the token Secret when TokenRequest is forbidden', async () => {
    const api = await startFakeApiServer({
      ...baseRoutes(),
      [`POST /api/v1/namespaces/${NS}/serviceaccounts/${SA}/token`]: () => status(403, 'forbidden'),
      [`GET /api/v1/namespaces/${NS}/secrets`]: json({ apiVersion: 'v1', kind: 'SecretList', metadata: {}, items: [tokenSecret] }),
      [`GET /api/v1/namespaces/${NS}/secrets/${SA}-token`]: json(tokenSecret),
    });
    try {
      const facts = await readTargetCluster(loadKubeAccess({ kubeconfig: api.kubeconfig() }, {}), options());
      assert.deepEqual(facts.credential, { kind: 'secret', secretName: `${SA}-token` });
      assert.match(facts.kubeconfig, /token: secret-token/);
    } finally {
      await api.close();
    }
  });

  it('without --create-credentials, says which Secret to create and writes nothing', async () => {
    const api = await startFakeApiServer({
      ...baseRoutes(),
      [`GET /api/v1/namespaces/${NS}/secrets`]: json({ apiVersion: 'v1', kind: 'SecretList', metadata: {}, items: [] }),
    });
    try {
      await assert.rejects(readTargetCluster(loadKubeAccess({ kubeconfig: api.kubeconfig() }, {}), options({ tokenLifetimeSeconds: 0 })), (err: unknown) => {
        assert.ok(err instanceof MissingCredentialsError);
        assert.match(err.message, /create Secret linkerd-multicluster\/linkerd-service-mirror-remote-access-default-token .* or re-run with --create-credentials/);
        return true;
      });
      assert.deepEqual(api.requests.filter((r) => !r.startsWith('GET')), []);
    } finally {
      await api.close();
    }
  });

  it('with --create-credentials, creates the token Secret and waits for its token', async () => {
    let created = false;
    const api = await startFakeApiServer({
      ...baseRoutes(),
      [`GET /api/v1/namespaces/${NS}/secrets`]: json({ apiVersion: 'v1', kind: 'SecretList', metadata: {}, items: [] }),
      [`POST /api/v1/namespaces/${NS}/secrets`]: (_req, body) => {
        created = true;
        return { status: 201, body: JSON.parse(body) as unknown };
      },
      [`GET /api/v1/namespaces/${NS}/secrets/${SA}-token`]: () => (created ? { status: 200, body: tokenSecret } : status(404, 'not found')),
    });
    try {
      const facts = await readTargetCluster(loadKubeAccess({ kubeconfig: api.kubeconfig() }, {}), options({ tokenLifetimeSeconds: 0, createCredentials: true }));
      assert.equal(created, true);
      assert.deepEqual(facts.credential, { kind: 'secret', secretName: `${SA}-token` });
    } finally {
      await api.close();
    }
  });

  it('reports a missing remote-access ServiceAccount', async () => {
    const api = await startFakeApiServer({});
    try {
      await assert.rejects(readTargetCluster(loadKubeAccess({ kubeconfig: api.kubeconfig() }, {}), options()), (err: unknown) => {
        assert.ok(err instanceof MissingServiceAccountError);
        assert.match(err.message, /ServiceAccount linkerd-multicluster\/linkerd-service-mirror-remote-access-default not found in context "fake": run "multicluster install"/);
        return true;
      });
    } finally {
      await api.close();
    }
  });

  it('requires domains when linkerd-config is absent, unless given', async () => {
    const routes = baseRoutes();
    delete routes['GET /api/v1/namespaces/linkerd/configmaps/linkerd-config'];
    const api = await startFakeApiServer({ ...routes, [`POST /api/v1/namespaces/${NS}/serviceaccounts/${SA}/token`]: tokenRequestOk });
    try {
      const access = loadKubeAccess({ kubeconfig: api.kubeconfig() }, {});
      await assert.rejects(readTargetCluster(access, options()), /pass --trust-domain and --cluster-domain/);
      const facts = await readTargetCluster(access, options({ trustDomain: 't.example', clusterDomain: 'c.example' }));
      assert.deepEqual([facts.trustDomain, facts.clusterDomain], ['t.example', 'c.example']);
    } finally {
      await api.close();
    }
  });

  it('pod-to-pod links never read the gateway', async () => {
    const api = await startFakeApiServer({ ...baseRoutes(), [`POST /api/v1/namespaces/${NS}/serviceaccounts/${SA}/token`]: tokenRequestOk });
    try {
      const facts = await readTargetCluster(loadKubeAccess({ kubeconfig: api.kubeconfig() }, {}), options({ gateway: undefined }));
      assert.equal(facts.gateway, undefined);
      assert.equal(api.requests.some((r) => r.includes('/services/')), false);
    } finally {
      await api.close();
    }
  });
});

describe('loadKubeAccess', () => {
  let api: Awaited<ReturnType<typeof startFakeApiServer>>;
  before(async () => (api = await startFakeApiServer({})));
  after(async () => api.close());

  it('names the available contexts when one is missing', () => {
    assert.throws(() => loadKubeAccess({ kubeconfig: api.kubeconfig(), context: 'nope' }, {}), (err: unknown) => {
      assert.ok(err instanceof ContextNotFoundError);
      assert.match(err.message, /context "nope" not found in kubeconfig .*: pass --context with one of: fake/);
      return true;
    });
  });

  it('never falls back to localhost:8080 without a kubeconfig', () => {
    assert.throws(() => loadKubeAccess({}, { HOME: '/nonexistent-home' }), /no kubeconfig found at \/nonexistent-home\/.kube\/config/);
  });

  it('reports an unreachable API server in one line', async () => {
    const closed = await startFakeApiServer({});
    const kubeconfig = closed.kubeconfig();
    await closed.close();
    await assert.rejects(readTargetCluster(loadKubeAccess({ kubeconfig }, {}), options()), (err: unknown) => {
      assert.ok(err instanceof ApiServerUnreachableError);
      assert.match(err.message, /^cannot reach the API server of context "fake" \(http:\/\/127\.0\.0\.1:\d+\) to read ServiceAccount .*ECONNREFUSED.*; check that the cluster is running/);
      assert.equal(err.message.includes('\n'), false);
      return true;
    });
  });
});
