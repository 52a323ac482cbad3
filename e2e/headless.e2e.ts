// Headless remote Services (the StatefulSet scenario) with --enable-headless-services:
// a headless root mirror plus one ClusterIP endpoint mirror per remote pod hostname.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Endpoints, V1Service } from '@kubernetes/client-node';
import { readIfExists as read } from '../kube/client.ts';
import { waitFor } from '../dev/managed-process.ts';
import type { RunningPod } from '../dev/pod-runner.ts';
import { linkedPair, type LinkedPair } from './fixtures/linked-pair.ts';
import { workloadCommand } from './workloads/launch.ts';

const WAIT = { timeoutMs: 30_000, intervalMs: 100 };
let env: LinkedPair;
const pods: RunningPod[] = [];

const svc1 = (name: string) => read(() => env.core1.readNamespacedService({ name, namespace: 'db' }));
const ep1 = (name: string) => read(() => env.core1.readNamespacedEndpoints({ name, namespace: 'db' }));

function until<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  return waitFor(what, fn, WAIT);
}

describe('headless mirroring and namespace creation', { concurrency: false }, () => {
  before(async () => {
    env = await linkedPair();
    for (const core of [env.core1, env.core2]) await core.createNamespace({ body: { metadata: { name: 'db' } } });
    await env.core2.createNamespacedService({
      namespace: 'db',
      body: {
        metadata: { name: 'nginx', labels: { 'mirror.linkerd.io/exported': 'true' } },
        spec: { clusterIP: 'None', selector: { app: 'nginx' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      },
    });
    for (const i of [0, 1]) {
      pods.push(
        await env.pair.cluster2.pods.start({
          namespace: 'db',
          name: `nginx-${i}`,
          labels: { app: 'nginx' },
          hostname: `nginx-${i}`,
          subdomain: 'nginx',
          command: workloadCommand('http-server.ts'),
          env: { PORT: '8080', CLUSTER: 'cluster2' },
          ports: [{ name: 'http', containerPort: 8080 }],
          readinessPort: 8080,
        }),
      );
    }
    await env.startMirror('mirror-a', ['--enable-headless-services', '--enable-namespace-creation']);
  });
  after(async () => {
    await env?.stop();
  });

  test('each remote pod hostname gets a ClusterIP endpoint mirror behind a headless root', async () => {
    const root = await until('headless root mirror', async () => {
      const s = await svc1('nginx-cluster2');
      return s?.spec?.clusterIP === 'None' ? s : undefined;
    });
    assert.equal(root.metadata?.labels?.['mirror.linkerd.io/cluster-name'], 'cluster2');
    const mirrors: V1Service[] = [];
    for (const i of [0, 1]) {
      const m = await until(`endpoint mirror nginx-${i}-cluster2`, () => svc1(`nginx-${i}-cluster2`));
      assert.notEqual(m.spec?.clusterIP, 'None');
      assert.equal(m.metadata?.labels?.['mirror.linkerd.io/headless-mirror-svc-name'], 'nginx-cluster2');
      assert.equal(m.metadata?.annotations?.['mirror.linkerd.io/remote-svc-fq-name'], `nginx-${i}.nginx.db.svc.cluster.local`);
      const ep = await until(`gateway Endpoints of nginx-${i}-cluster2`, async () => {
        const e = await ep1(`nginx-${i}-cluster2`);
        return e?.subsets?.[0]?.addresses?.length ? e : undefined;
      });
      assert.deepEqual(
        ep.subsets?.[0]?.addresses?.map((a) => a.ip),
        [env.gateway.ip],
      );
      assert.equal(ep.subsets?.[0]?.ports?.[0]?.port, 4143);
      mirrors.push(m);
    }
    const rootEp = await until('root Endpoints listing both hostnames', async () => {
      const e: V1Endpoints | undefined = await ep1('nginx-cluster2');
      return (e?.subsets?.[0]?.addresses?.length ?? 0) === 2 ? e : undefined;
    });
    const byHost = Object.fromEntries((rootEp.subsets?.[0]?.addresses ?? []).map((a): [string, string] => [a.hostname ?? '', a.ip]));
    assert.deepEqual(byHost, { 'nginx-0': mirrors[0]?.spec?.clusterIP, 'nginx-1': mirrors[1]?.spec?.clusterIP });
    assert.equal(rootEp.subsets?.[0]?.ports?.[0]?.port, 80, 'the root keeps the remote port');
  });

  test('a remote pod that goes away takes its endpoint mirror with it', async () => {
    await pods[1]?.delete();
    await until('nginx-1-cluster2 removed', async () => ((await svc1('nginx-1-cluster2')) ? undefined : true));
    assert.ok(await svc1('nginx-0-cluster2'));
  });

  test('unexporting the headless Service removes the root and every endpoint mirror', async () => {
    await env.core2.patchNamespacedService({
      name: 'nginx',
      namespace: 'db',
      body: [{ op: 'remove', path: '/metadata/labels/mirror.linkerd.io~1exported' }],
    });
    await until('all headless mirrors removed', async () => ((await svc1('nginx-cluster2')) || (await svc1('nginx-0-cluster2')) ? undefined : true));
  });

  test('a selector-less headless Service with hand-written Endpoints (hostnames) is mirrored as headless', async () => {
    // Its slices come from the EndpointSlice mirroring controller and carry no export label.
    await env.core2.createNamespacedService({
      namespace: 'db',
      body: {
        metadata: { name: 'ext', labels: { 'mirror.linkerd.io/exported': 'true' } },
        spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] },
      },
    });
    await env.core2.createNamespacedEndpoints({
      namespace: 'db',
      body: {
        metadata: { name: 'ext' },
        subsets: [
          {
            addresses: [
              { ip: '192.0.2.60', hostname: 'ext-0' },
              { ip: '192.0.2.61', hostname: 'ext-1' },
            ],
            ports: [{ name: 'pg', port: 5432 }],
          },
        ],
      },
    });
    const root = await until('headless root mirror of ext', async () => {
      const s = await svc1('ext-cluster2');
      return s?.spec?.clusterIP === 'None' ? s : undefined;
    });
    assert.equal(root.metadata?.labels?.['mirror.linkerd.io/cluster-name'], 'cluster2');
    for (const host of ['ext-0', 'ext-1']) {
      await until(`gateway Endpoints of ${host}-cluster2`, async () => {
        const e = await ep1(`${host}-cluster2`);
        return e?.subsets?.[0]?.addresses?.some((a) => a.ip === env.gateway.ip) ? e : undefined;
      });
    }
  });

  test('--enable-namespace-creation creates a missing namespace, labelled as the mirror made it', async () => {
    await env.core2.createNamespace({ body: { metadata: { name: 'fresh' } } });
    await env.core2.createNamespacedService({
      namespace: 'fresh',
      body: { metadata: { name: 'api', labels: { 'mirror.linkerd.io/exported': 'true' } }, spec: { ports: [{ name: 'http', port: 80 }] } },
    });
    await until('mirror in the created namespace', () => read(() => env.core1.readNamespacedService({ name: 'api-cluster2', namespace: 'fresh' })));
    const ns = await env.core1.readNamespace({ name: 'fresh' });
    assert.equal(ns.metadata?.labels?.['mirror.linkerd.io/mirrored-service'], 'true');
    assert.equal(ns.metadata?.labels?.['mirror.linkerd.io/cluster-name'], 'cluster2');
  });
});
