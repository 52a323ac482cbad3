// Smoke test of the foundation: two real control planes, a real workload at a pod IP,
// the real endpoints controller publishing it, and a clean teardown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, readdir } from 'node:fs/promises';
import { CoreV1Api, DiscoveryV1Api } from '@kubernetes/client-node';
import { ClusterPair } from '../dev/cluster-pair.ts';
import { compactEtcd } from '../dev/etcd-maintenance.ts';
import { run } from '../dev/exec.ts';
import { isAlive, waitFor } from '../dev/managed-process.ts';
import { workloadCommand } from './workloads/launch.ts';

test('two clusters come up, a cluster2 pod is published and reachable, and teardown leaves nothing', async () => {
  const pair = await ClusterPair.start({ progress: (m) => process.stderr.write(`  harness: ${m}\n`) });
  const prefix = pair.topology.prefix;
  const pids: number[] = [];
  try {
    // Both API servers are independent: a namespace in one does not appear in the other.
    const core1 = pair.cluster1.kubeConfig.makeApiClient(CoreV1Api);
    const core2 = pair.cluster2.kubeConfig.makeApiClient(CoreV1Api);
    await core2.createNamespace({ body: { metadata: { name: 'smoke' } } });
    await assert.rejects(core1.readNamespace({ name: 'smoke' }), /404|not found/i);

    await core2.createNamespacedService({
      namespace: 'smoke',
      body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } },
    });
    const pod = await pair.cluster2.pods.start({
      namespace: 'smoke',
      name: 'web-0',
      labels: { app: 'web' },
      command: workloadCommand('http-server.ts'),
      env: { PORT: '8080', CLUSTER: 'cluster2' },
      ports: [{ name: 'http', containerPort: 8080 }],
      readinessPort: 8080,
    });
    pids.push(
      ...pair.cluster1.controlPlane.processes().map((p) => p.pid),
      ...pair.cluster2.controlPlane.processes().map((p) => p.pid),
      pod.process.pid,
    );
    assert.match(pod.ip, new RegExp(`^10\\.${pair.cluster2.addressing.podOctet}\\.`), 'pod IP is in cluster2 pod CIDR');

    // The real endpoints and endpointslice controllers publish the pod IP.
    const discovery2 = pair.cluster2.kubeConfig.makeApiClient(DiscoveryV1Api);
    await waitFor(
      'EndpointSlice for smoke/web to list the pod IP',
      async () => {
        const slices = await discovery2.listNamespacedEndpointSlice({ namespace: 'smoke', labelSelector: 'kubernetes.io/service-name=web' });
        return slices.items.some((s) => s.endpoints.some((e) => e.addresses.includes(pod.ip) && e.conditions?.ready)) ? true : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const endpoints = await core2.readNamespacedEndpoints({ name: 'web', namespace: 'smoke' });
    assert.deepEqual(
      endpoints.subsets?.[0]?.addresses?.map((a) => a.ip),
      [pod.ip],
    );
    assert.equal(endpoints.subsets?.[0]?.ports?.[0]?.port, 8080);

    // etcd maintenance (the benchmarks compact before each phase): the store keeps its data.
    const compaction = await compactEtcd(pair.cluster2.controlPlane.etcdClientUrl);
    assert.ok(compaction.revision > 1, `a revision after the writes above (got ${compaction.revision})`);
    assert.ok(compaction.dbSizeAfterMb > 0);
    await core2.readNamespace({ name: 'smoke' });

    // Fetch from inside cluster2's pod network: a client pod next to the server.
    const client = await pair.cluster2.pods.start({ namespace: 'smoke', name: 'client', command: ['sleep', 'infinity'] });
    pids.push(client.process.pid);
    const body = await client.exec('curl', ['-sS', '--max-time', '5', `http://${pod.ip}:8080/hello`]);
    const answer = JSON.parse(body) as { pod: string; cluster: string; path: string };
    assert.deepEqual([answer.pod, answer.cluster, answer.path], ['web-0', 'cluster2', '/hello']);

    // The cluster DNS stand-in answers from the pod network: a Service name gives its ready pod IPs.
    const lookup = (name: string) =>
      client.exec('node', [
        '-e',
        `const r = new (require('node:dns').promises.Resolver)(); r.setServers(['${pair.cluster2.addressing.apiServerIp}']);` +
          `r.resolve4('${name}').then((a) => console.log(JSON.stringify(a)), (e) => console.log(JSON.stringify(e.code)));`,
      ]);
    assert.deepEqual(JSON.parse(await lookup('web.smoke.svc.cluster.local')), [pod.ip]);
    assert.equal(JSON.parse(await lookup('nothing.smoke.svc.cluster.local')), 'ENOTFOUND');

    // Gateway-only by default: a cluster1 pod cannot reach cluster2's pod IPs.
    const outsider = await pair.cluster1.pods.start({ namespace: 'default', name: 'outsider', command: ['sleep', 'infinity'] });
    await assert.rejects(outsider.exec('curl', ['-sS', '--max-time', '3', `http://${pod.ip}:8080/`]));
    await pair.setPodToPod(true);
    // The LoadBalancer stand-in gives a LoadBalancer Service the address of a ready gateway-range endpoint.
    await core2.createNamespacedService({
      namespace: 'smoke',
      body: { metadata: { name: 'edge' }, spec: { type: 'LoadBalancer', selector: { app: 'edge' }, ports: [{ name: 'http', port: 8080 }] } },
    });
    const edge = await pair.cluster2.pods.start({
      namespace: 'smoke',
      name: 'edge-0',
      labels: { app: 'edge' },
      gatewayAddress: true,
      command: workloadCommand('http-server.ts'),
      env: { PORT: '8080', CLUSTER: 'cluster2' },
      readinessPort: 8080,
    });
    pids.push(edge.process.pid);
    const lbIp = await waitFor(
      'LoadBalancer ingress for smoke/edge',
      async () => {
        const svc = await core2.readNamespacedService({ name: 'edge', namespace: 'smoke' });
        return svc.status?.loadBalancer?.ingress?.[0]?.ip;
      },
      { timeoutMs: 30_000 },
    );
    assert.equal(lbIp, edge.ip);
    // Gateway-range addresses stay reachable from the other cluster in gateway-only mode.
    assert.equal((JSON.parse(await outsider.exec('curl', ['-sS', '--max-time', '5', `http://${lbIp}:8080/`])) as { pod: string }).pod, 'edge-0');

    const crossed = JSON.parse(await outsider.exec('curl', ['-sS', '--max-time', '5', `http://${pod.ip}:8080/x`])) as { pod: string };
    assert.equal(crossed.pod, 'web-0');
  } finally {
    await pair.stop();
  }

  // Nothing is left: processes, network namespaces, links, routes, state directory.
  assert.deepEqual(
    pids.filter((p) => isAlive(p)),
    [],
    'no harness process survives',
  );
  assert.deepEqual(
    (await readdir('/run/netns').catch(() => [])).filter((n) => n.startsWith(prefix)),
    [],
    'no network namespace survives',
  );
  assert.equal((await run('ip', ['-o', 'link', 'show'])).includes(`${prefix}host`), false, 'no host link survives');
  assert.equal((await run('ip', ['route', 'show'])).includes(`${prefix}host`), false, 'no route survives');
  assert.equal((await run('cat', ['/proc/self/mountinfo'])).includes(`/run/netns/${prefix}`), false, 'no netns mount survives');
  await assert.rejects(access(pair.stateDir), 'state directory removed');
});
