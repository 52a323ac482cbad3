import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { reuseConnections } from './client.ts';

function kubeconfigFor(server: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters: [{name: c, cluster: {server: "' + server + '", insecure-skip-tls-verify: true}}]',
    'users: [{name: u, user: {token: t}}]',
    'contexts: [{name: x, context: {cluster: c, user: u}}]',
    'current-context: x',
  ].join('\n');
}

async function connectionsFor(configure: (kc: KubeConfig) => KubeConfig, requests: number): Promise<number> {
  let connections = 0;
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ kind: 'NamespaceList', apiVersion: 'v1', metadata: {}, items: [] }));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const kc = new KubeConfig();
    kc.loadFromString(kubeconfigFor(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
    const core = configure(kc).makeApiClient(CoreV1Api);
    for (let i = 0; i < requests; i++) {
      const list = await core.listNamespace();
      assert.deepEqual(list.items, []);
    }
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
  return connections;
}

test('sequential API calls share one connection once reuseConnections is applied', async () => {
  assert.equal(await connectionsFor(reuseConnections, 5), 1);
});

test('without it, client-node opens a connection per call (the cost being avoided)', async () => {
  assert.equal(await connectionsFor((kc) => kc, 3), 3);
});

test('the same TLS options give the same agent; different servers do not', async () => {
  const kc = reuseConnections(new KubeConfig());
  kc.loadFromString(kubeconfigFor('https://127.0.0.1:6443'));
  const a = await kc.applyToFetchOptions({});
  const b = await kc.applyToFetchOptions({});
  assert.ok(a.agent);
  assert.equal(a.agent, b.agent);
  const other = reuseConnections(new KubeConfig());
  other.loadFromString(kubeconfigFor('https://127.0.0.1:6444'));
  assert.notEqual((await other.applyToFetchOptions({})).agent, a.agent);
});
