// Fault scenarios on the project's own manifests (the demo's environment: `install` and `link`
// output run by the pod agent): the ReplicaSet replaces a deleted gateway Pod and traffic
// through it recovers; with two controller replicas, deleting the Lease holder hands the Link
// to the standby, which keeps mirroring.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { figures, snapshot, trafficUrl, type TrafficSnapshot } from '../dev/demo-report.ts';
import { bringUpDemo, mirrors, tearDownDemo, type DemoEnvironment } from '../dev/demo-run.ts';
import { waitFor } from '../dev/managed-process.ts';

const MC_NS = 'linkerd-multicluster';
const log = (m: string) => process.stderr.write(`  demo: ${m}\n`);

/** Waits until the traffic generator's `target` has had successful requests since `from`. */
async function trafficFlows(url: URL, target: string, what: string): Promise<void> {
  let from: TrafficSnapshot = await snapshot(url);
  await waitFor(
    what,
    async () => {
      const now = await snapshot(url);
      const row = figures(from, now).find((r) => r.target === target);
      from = now;
      return row && row.requests > 0 && row.successRate === 1 ? true : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 1500 },
  );
}

describe('fault scenarios on the real manifests', () => {
  let env: DemoEnvironment;
  before(async () => {
    env = await bringUpDemo(log);
  });
  after(async () => {
    await tearDownDemo(env);
  });

  it('a deleted gateway Pod is replaced by its ReplicaSet and traffic through the gateway recovers', async () => {
    const core2 = env.pair.cluster2.kubeConfig.makeApiClient(CoreV1Api);
    const url = await trafficUrl(env.pair.cluster1);
    await trafficFlows(url, 'hello-http', 'hello → world through the gateway');
    const pods = await core2.listNamespacedPod({ namespace: MC_NS, labelSelector: 'app=linkerd-gateway' });
    const old = pods.items[0]?.metadata?.name;
    assert.ok(old, 'a gateway Pod runs in cluster2');
    await core2.deleteNamespacedPod({ name: old, namespace: MC_NS });
    const replacement = await waitFor(
      'a new gateway Pod, Ready',
      async () => {
        const list = await core2.listNamespacedPod({ namespace: MC_NS, labelSelector: 'app=linkerd-gateway' });
        const ready = list.items.find(
          (p) => p.metadata?.name !== old && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return ready?.metadata?.name;
      },
      { timeoutMs: 90_000 },
    );
    assert.notEqual(replacement, old);
    await trafficFlows(url, 'hello-http', 'hello → world through the replacement gateway');
  });

  it('with two controller replicas, deleting the Lease holder hands mirroring to the standby', async () => {
    const apps1 = env.pair.cluster1.kubeConfig.makeApiClient(AppsV1Api);
    const core1 = env.pair.cluster1.kubeConfig.makeApiClient(CoreV1Api);
    const leases1 = env.pair.cluster1.kubeConfig.makeApiClient(CoordinationV1Api);
    const scale = await apps1.readNamespacedDeploymentScale({ name: 'controller-cluster2', namespace: MC_NS });
    await apps1.replaceNamespacedDeploymentScale({
      name: 'controller-cluster2',
      namespace: MC_NS,
      body: { ...scale, spec: { replicas: 2 } },
    });
    const replicas = async () =>
      (await core1.listNamespacedPod({ namespace: MC_NS, labelSelector: 'component=controller' })).items
        .filter((p) => p.metadata?.deletionTimestamp === undefined && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
        .map((p) => p.metadata?.name ?? '');
    await waitFor('two Ready controller replicas', async () => ((await replicas()).length === 2 ? true : undefined), { timeoutMs: 90_000 });
    const holder = async () => (await leases1.readNamespacedLease({ name: 'service-mirror-write-cluster2', namespace: MC_NS })).spec?.holderIdentity;
    const leader = await waitFor('a Lease holder', holder, { timeoutMs: 30_000 });
    assert.ok((await replicas()).includes(leader ?? ''), 'the holder is one of the replicas');
    await core1.deleteNamespacedPod({ name: leader ?? '', namespace: MC_NS });
    const next = await waitFor(
      'the standby to take the Lease',
      async () => {
        const h = await holder();
        return h && h !== leader ? h : undefined;
      },
      { timeoutMs: 90_000 },
    );
    assert.notEqual(next, leader);

    // The new leader mirrors what is exported from now on.
    const core2 = env.pair.cluster2.kubeConfig.makeApiClient(CoreV1Api);
    await core2.createNamespacedService({
      namespace: 'demo',
      body: {
        metadata: { name: 'after-failover', labels: { 'mirror.linkerd.io/exported': 'true' } },
        spec: { ports: [{ name: 'http', port: 8080 }] },
      },
    });
    await waitFor(
      'demo/after-failover-cluster2',
      async () => ((await mirrors(env.pair.cluster1)).includes('demo/after-failover-cluster2') ? true : undefined),
      {
        timeoutMs: 60_000,
      },
    );
  });
});
