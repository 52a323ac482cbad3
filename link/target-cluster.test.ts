import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Service } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { createLogger } from '../log/logger.ts';
import { ApiServerUnreachableError, ContextNotFoundError, loadKubeAccess } from './kube-access.ts';
import type { TargetReadOptions } from './target-cluster.ts';
import { GatewayNotReadyError, gatewayFromService, readTargetCluster } from './target-cluster.ts';

const NS = 'linkerd-multicluster';
const SA = 'linkerd-service-mirror-remote-access-default';

function gatewayService(
  patch: { type?: string; ingress?: Array<{ ip?: string; hostname?: string }>; annotations?: Record<string, string> } = {},
): V1Service {
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
    assert.throws(
      () => gatewayFromService(gatewayService({ ingress: [] }), lookup),
      (err: unknown) => {
        assert.ok(err instanceof GatewayNotReadyError);
        assert.match(err.message, /has no external address yet .* pass --gateway-addresses/);
        return true;
      },
    );
  });
  it('fails without the identity annotation or with a bad period', () => {
    assert.throws(
      () => gatewayFromService(gatewayService({ annotations: { 'mirror.linkerd.io/probe-path': '/ready' } }), lookup),
      /gateway-identity annotation/,
    );
    assert.throws(
      () =>
        gatewayFromService(
          gatewayService({
            annotations: {
              'mirror.linkerd.io/gateway-identity': 'x',
              'mirror.linkerd.io/probe-path': '/ready',
              'mirror.linkerd.io/probe-period': 'often',
            },
          }),
          lookup,
        ),
      /invalid mirror.linkerd.io\/probe-period annotation "often"/,
    );
  });
});

/** A kubeconfig file with one context `local` whose API server port nothing listens on. */
async function closedKubeconfig(): Promise<string> {
  const port = await new Promise<number>((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
  const path = join(mkdtempSync(join(tmpdir(), 'mc-link-test-')), 'kubeconfig');
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'local-cluster', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
      contexts: [{ name: 'local', context: { cluster: 'local-cluster', user: 'admin' } }],
      'current-context': 'local',
      users: [{ name: 'admin', user: { token: 'admin-token' } }],
    }),
  );
  return path;
}

// readTargetCluster's API paths run against a real cluster in target-cluster.e2e.ts.
describe('loadKubeAccess', () => {
  let kubeconfig: string;
  before(async () => (kubeconfig = await closedKubeconfig()));

  it('names the available contexts when one is missing', () => {
    assert.throws(
      () => loadKubeAccess({ kubeconfig, context: 'nope' }, {}),
      (err: unknown) => {
        assert.ok(err instanceof ContextNotFoundError);
        assert.match(err.message, /context "nope" not found in kubeconfig .*: pass --context with one of: local/);
        return true;
      },
    );
  });

  it('never falls back to localhost:8080 without a kubeconfig', () => {
    assert.throws(() => loadKubeAccess({}, { HOME: '/nonexistent-home' }), /no kubeconfig found at \/nonexistent-home\/.kube\/config/);
  });

  it('reports an unreachable API server in one line', async () => {
    const options: TargetReadOptions = {
      clusterName: 'east',
      namespace: NS,
      serviceAccountName: SA,
      linkerdNamespace: 'linkerd',
      gateway: undefined,
      tokenLifetimeSeconds: 3600,
      createCredentials: false,
      log: createLogger({ write: () => {} }),
    };
    await assert.rejects(readTargetCluster(loadKubeAccess({ kubeconfig }, {}), options), (err: unknown) => {
      assert.ok(err instanceof ApiServerUnreachableError);
      assert.match(
        err.message,
        /^cannot reach the API server of context "local" \(http:\/\/127\.0\.0\.1:\d+\) to read ServiceAccount .*ECONNREFUSED.*; check that the cluster is running/,
      );
      assert.equal(err.message.includes('\n'), false);
      return true;
    });
  });
});
