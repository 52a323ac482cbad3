import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { KubeConfig, type KubernetesListObject, type V1ConfigMap } from '@kubernetes/client-node';
import { Reflector, type ListQuery, type ReflectorEvent } from './reflector.ts';

// The list side is injected; the watch goes to a local HTTP server that holds it open.
async function withWatchServer(watch: 'hold' | 'expire' | 'forbid', fn: (kc: KubeConfig) => Promise<void>): Promise<void> {
  const open: ServerResponse[] = [];
  const server = createServer((_req, res) => {
    if (watch === 'forbid') {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403, message: 'forbidden: no watch for you' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    if (watch === 'expire') {
      res.end(
        JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410 } }) + '\n',
      );
      return;
    }
    res.flushHeaders();
    open.push(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  try {
    await fn(kc);
  } finally {
    for (const res of open) res.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

const cm = (name: string): V1ConfigMap => ({
  metadata: { name, namespace: 'ns', resourceVersion: '7', managedFields: [{ manager: 'kubectl', operation: 'Apply' }] },
});

test('a relist reads every page, keeps no managedFields, and infers deletions only from a complete list', async () => {
  await withWatchServer('hold', async (kubeConfig) => {
    const pages: Record<string, KubernetesListObject<V1ConfigMap>> = {
      '': { items: [cm('a'), cm('b')], metadata: { resourceVersion: '7', _continue: 'p2' } },
      p2: { items: [cm('c')], metadata: { resourceVersion: '7', _continue: 'p3' } },
      p3: { items: [cm('d')], metadata: { resourceVersion: '7' } },
    };
    const queries: ListQuery[] = [];
    const events: Array<ReflectorEvent<V1ConfigMap>['type']> = [];
    const r = new Reflector<V1ConfigMap>({
      kubeConfig,
      path: '/api/v1/configmaps',
      labelSelector: 'app=x',
      list: (q) => {
        queries.push(q);
        const page = pages[q._continue ?? ''];
        if (!page) return Promise.reject(new Error(`no page ${q._continue}`));
        return Promise.resolve(page);
      },
      onEvent: (e) => events.push(e.type),
    });
    r.start();
    await r.listed();
    await r.stop();
    assert.deepEqual(
      queries.map((q) => q._continue),
      [undefined, 'p2', 'p3'],
    );
    assert.ok(queries.every((q) => q.labelSelector === 'app=x' && q.limit > 0));
    assert.deepEqual(
      r
        .list()
        .map((o) => o.metadata?.name)
        .sort(),
      ['a', 'b', 'c', 'd'],
    );
    assert.ok(r.list().every((o) => o.metadata?.managedFields === undefined));
    assert.deepEqual(events, ['added', 'added', 'added', 'added', 'listed']);
  });
});

test('a relist that fails on a later page removes nothing it did not see', async () => {
  await withWatchServer('expire', async (kubeConfig) => {
    let calls = 0;
    const events: Array<ReflectorEvent<V1ConfigMap>> = [];
    let failed!: () => void;
    const failure = new Promise<void>((r) => (failed = r));
    const r = new Reflector<V1ConfigMap>({
      kubeConfig,
      path: '/api/v1/configmaps',
      minBackoffMs: 60_000,
      list: (q) => {
        calls++;
        if (calls === 1) return Promise.resolve({ items: [cm('a'), cm('b')], metadata: { resourceVersion: '7' } });
        if (!q._continue) return Promise.resolve({ items: [cm('a')], metadata: { resourceVersion: '9', _continue: 'p2' } });
        return Promise.reject(new Error('connection reset'));
      },
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'error') failed();
      },
    });
    // First a complete list with a and b; the watch then expires (410), forcing a relist
    // whose second page fails.
    r.start();
    await r.listed();
    assert.deepEqual(
      r
        .list()
        .map((o) => o.metadata?.name)
        .sort(),
      ['a', 'b'],
    );
    await failure;
    await r.stop();
    assert.deepEqual(
      r
        .list()
        .map((o) => o.metadata?.name)
        .sort(),
      ['a', 'b'],
    );
    assert.equal(events.filter((e) => e.type === 'deleted').length, 0);
    assert.equal(calls, 3);
  });
});

test('a projected cache holds what the projection returns, and a projection is required for it', async () => {
  await withWatchServer('hold', async (kubeConfig) => {
    type Slim = { metadata: { name?: string; namespace?: string; resourceVersion?: string }; keys: number };
    const list = (): Promise<KubernetesListObject<V1ConfigMap>> =>
      Promise.resolve({
        items: [{ ...cm('a'), data: { x: '1', y: '2' } }],
        metadata: { resourceVersion: '3' },
      });
    const r = new Reflector<V1ConfigMap, Slim>({
      kubeConfig,
      path: '/api/v1/configmaps',
      list,
      project: (o) => ({
        metadata: { name: o.metadata?.name, namespace: o.metadata?.namespace, resourceVersion: o.metadata?.resourceVersion },
        keys: Object.keys(o.data ?? {}).length,
      }),
      onEvent: () => undefined,
    });
    r.start();
    await r.listed();
    await r.stop();
    assert.deepEqual(
      r.list().map((o) => [o.metadata.name, o.keys]),
      [['a', 2]],
    );
    // Without a projection the cache would hold ConfigMaps typed as Slim: the typecheck refuses it.
    // @ts-expect-error project is required when the cached type is not the listed one
    const unsound = new Reflector<V1ConfigMap, Slim>({ kubeConfig, path: '/api/v1/configmaps', list, onEvent: () => undefined });
    assert.equal(unsound.hasListed, false);
  });
});

test('a refused watch keeps the API status code, so a 403 is known to be about the credentials', async () => {
  await withWatchServer('forbid', async (kubeConfig) => {
    let reported!: (e: ReflectorEvent<V1ConfigMap>) => void;
    const error = new Promise<ReflectorEvent<V1ConfigMap>>((r) => (reported = r));
    const r = new Reflector<V1ConfigMap>({
      kubeConfig,
      path: '/api/v1/configmaps',
      minBackoffMs: 60_000,
      list: () => Promise.resolve({ items: [cm('a')], metadata: { resourceVersion: '7' } }),
      onEvent: (e) => {
        if (e.type === 'error') reported(e);
      },
    });
    r.start();
    const e = await error;
    await r.stop();
    assert.equal(e.type, 'error');
    assert.equal(e.type === 'error' ? e.status : undefined, 403);
    assert.equal(r.get('a', 'ns')?.metadata?.name, 'a', 'the cache keeps what it had');
  });
});
