// The pod agent on a real dev pair: a Deployment of the project's image runs as the real
// `multicluster mirror` process at its Pod IP, with env, Secret and projected token volumes;
// probes, restarts, deletion with a ReplicaSet replacement, foreign images left Pending, and
// no process left behind, even one whose pair vanished without killing it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppsV1Api,
  AuthenticationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  RbacAuthorizationV1Api,
  type V1Deployment,
  type V1Pod,
} from '@kubernetes/client-node';
import { isNotFound } from '../kube/client.ts';
import { DEFAULT_IMAGE } from '../link/version.ts';
import { ClusterPair, cleanStalePairs } from './cluster-pair.ts';
import { run } from './exec.ts';
import { ROOT_MARKER, markedProcesses, markerEnv } from './harness-marker.ts';
import { isAlive, waitFor } from './managed-process.ts';

const NS = 'agent';

function environ(pid: number): Promise<Map<string, string>> {
  return readFile(`/proc/${pid}/environ`, 'utf8').then(
    (t) => new Map(t.split('\0').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as [string, string])),
  );
}

function deployment(name: string, extra: { livenessPath?: string; replicas?: number; link?: string } = {}): V1Deployment {
  const labels = { app: name };
  const probe = (path: string) => ({ httpGet: { path, port: 'admin' }, periodSeconds: 1, failureThreshold: 2, timeoutSeconds: 1 });
  return {
    metadata: { name, namespace: NS },
    spec: {
      replicas: extra.replicas ?? 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: 'agent-sa',
          terminationGracePeriodSeconds: 5,
          containers: [
            {
              name: 'main',
              image: DEFAULT_IMAGE,
              // A real subcommand that serves HTTP without any setup: the mirror's admin server answers /live
              // while it waits for a Link that does not exist.
              args: [
                ...['mirror', '--link', extra.link ?? 'absent', '--namespace', NS, '--metrics-addr', ':9999', '--identity', '$(POD_NAME)'],
                ...['--lease-duration', '4s', '--lease-renew', '1s', '--lease-retry', '500ms'],
              ],
              env: [
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                { name: 'SA_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
                { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 'agent-secret', key: 'env-key' } } },
                { name: 'FROM_CONFIG', valueFrom: { configMapKeyRef: { name: 'agent-config', key: 'mode' } } },
                { name: 'LITERAL', value: 'plain-$(POD_NAMESPACE)' },
              ],
              ports: [{ name: 'admin', containerPort: 9999 }],
              // Liveness counts only once the process is up (node start-up takes seconds on a busy machine).
              startupProbe: { httpGet: { path: '/live', port: 'admin' }, periodSeconds: 1, failureThreshold: 120 },
              readinessProbe: probe('/live'),
              livenessProbe: probe(extra.livenessPath ?? '/live'),
              volumeMounts: [
                { name: 'secret-vol', mountPath: '/etc/agent-test/secret', readOnly: true },
                { name: 'tokens', mountPath: '/var/run/secrets/tokens' },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            { name: 'secret-vol', secret: { secretName: 'agent-secret' } },
            {
              name: 'tokens',
              projected: {
                sources: [
                  { serviceAccountToken: { audience: 'agent-test', expirationSeconds: 600, path: 'agent-token' } },
                  { configMap: { name: 'agent-config', items: [{ key: 'mode', path: 'mode.txt' }] } },
                ],
              },
            },
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    },
  };
}

// The agent is part of the dev clusters; real clusters (E2E_CONTEXTS) have kubelets of their own.
const skip = process.env['E2E_CONTEXTS'] ? `E2E_CONTEXTS=${process.env['E2E_CONTEXTS']}: the pod agent exists only in the dev clusters` : false;

test('the pod agent runs Deployments of the project image as real processes, like a kubelet', { timeout: 300_000, skip }, async () => {
  const pair = await ClusterPair.start({ podAgents: true, progress: (m) => process.stderr.write(`  harness: ${m}\n`) });
  const c1 = pair.cluster1;
  const core = c1.kubeConfig.makeApiClient(CoreV1Api);
  const apps = c1.kubeConfig.makeApiClient(AppsV1Api);
  const agent = c1.agent;
  assert.ok(agent, 'ClusterPair runs the pod agents when asked');
  const pids = new Set<number>();
  const podOf = async (app: string, pred: (p: V1Pod) => boolean = () => true): Promise<V1Pod | undefined> =>
    (await core.listNamespacedPod({ namespace: NS, labelSelector: `app=${app}` })).items.find((p) => !p.metadata?.deletionTimestamp && pred(p));
  const readyPod = (app: string, pred: (p: V1Pod) => boolean = () => true) =>
    waitFor(
      `a Running and Ready ${app} pod`,
      async () =>
        podOf(
          app,
          (p) => pred(p) && p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true,
        ),
      { timeoutMs: 90_000, onTimeout: async () => JSON.stringify((await podOf(app))?.status ?? {}) },
    );
  const mainPid = (p: V1Pod): number => {
    const pid = agent.worker(NS, p.metadata?.name ?? '')?.pids()['main'];
    assert.ok(pid, `the agent runs a process for ${p.metadata?.name}`);
    pids.add(pid);
    return pid;
  };
  try {
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: 'agent-sa' } } });
    await core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: 'agent-secret' }, stringData: { 'env-key': 'from-secret', 'token-file': 's3cr3t' } },
    });
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'agent-config' }, data: { mode: 'from-configmap' } } });
    await core.createNamespacedService({
      namespace: NS,
      body: { metadata: { name: 'probe-me' }, spec: { selector: { app: 'probe-me' }, ports: [{ port: 9999 }] } },
    });
    await apps.createNamespacedDeployment({ namespace: NS, body: deployment('probe-me') });

    // Scheduled by the agent, Running and Ready at an IP of cluster1's pod network.
    const pod = await readyPod('probe-me');
    const name = pod.metadata?.name ?? '';
    const ip = pod.status?.podIP ?? '';
    assert.equal(pod.spec?.nodeName, 'cluster1-node');
    assert.match(ip, new RegExp(`^10\\.${c1.addressing.podOctet}\\.`));
    assert.equal(pod.status?.containerStatuses?.[0]?.ready, true);
    assert.equal(pod.status?.containerStatuses?.[0]?.restartCount, 0);
    const discovery = c1.kubeConfig.makeApiClient(DiscoveryV1Api);
    await waitFor(
      'the EndpointSlice of probe-me to list the pod ready',
      async () => {
        const slices = await discovery.listNamespacedEndpointSlice({ namespace: NS, labelSelector: 'kubernetes.io/service-name=probe-me' });
        return slices.items.some((s) => s.endpoints.some((e) => e.addresses.includes(ip) && e.conditions?.ready)) ? true : undefined;
      },
      { timeoutMs: 30_000 },
    );
    assert.equal((await fetch(`http://${ip}:9999/live`)).status, 200, 'the mirror admin server answers at the pod IP');

    // The process: the mirror subcommand, in the pod's network namespace, with the container's env.
    const pid = mainPid(pod);
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    assert.ok(cmdline.includes('mirror'), cmdline.join(' '));
    assert.equal(cmdline[cmdline.indexOf('--identity') + 1], name, '$(POD_NAME) is expanded in args');
    assert.equal((await run('ip', ['netns', 'identify', String(pid)])).trim(), agent.worker(NS, name)?.netns);
    const env = await environ(pid);
    assert.equal(env.get('POD_NAME'), name);
    assert.equal(env.get('POD_NAMESPACE'), NS);
    assert.equal(env.get('POD_IP'), ip);
    assert.equal(env.get('SA_NAME'), 'agent-sa');
    assert.equal(env.get('NODE_NAME'), 'cluster1-node');
    assert.equal(env.get('FROM_SECRET'), 'from-secret');
    assert.equal(env.get('FROM_CONFIG'), 'from-configmap');
    assert.equal(env.get('LITERAL'), `plain-${NS}`);
    assert.equal(env.get('KUBERNETES_SERVICE_HOST'), c1.addressing.apiServerIp);
    assert.equal(env.get('KUBERNETES_SERVICE_PORT'), '6443');
    assert.equal(env.get('MULTICLUSTER_HARNESS_SLOT'), String(pair.topology.slot));

    // The volumes, seen from the process's own mount namespace; the host has none of them.
    const inPod = (path: string) => run('nsenter', ['-t', String(pid), '-m', 'cat', path]);
    assert.equal(await inPod('/etc/agent-test/secret/token-file'), 's3cr3t');
    assert.equal(await inPod('/var/run/secrets/tokens/mode.txt'), 'from-configmap');
    assert.match(await inPod('/etc/resolv.conf'), new RegExp(`^nameserver ${c1.addressing.apiServerIp.replaceAll('.', '\\.')}\nsearch ${NS}\\.svc`));
    assert.doesNotMatch(await readFile('/etc/resolv.conf', 'utf8'), new RegExp(c1.addressing.apiServerIp.replaceAll('.', '\\.')));
    assert.equal(existsSync('/etc/agent-test'), false, 'mounts stay private to the pod');
    await assert.rejects(run('nsenter', ['-t', String(pid), '-m', 'touch', '/etc/agent-test/secret/x']), /Read-only/);
    const auth = c1.kubeConfig.makeApiClient(AuthenticationV1Api);
    const review = async (path: string, audiences?: string[]) =>
      (await auth.createTokenReview({ body: { spec: { token: (await inPod(path)).trim(), ...(audiences ? { audiences } : {}) } } })).status;
    const projected = await review('/var/run/secrets/tokens/agent-token', ['agent-test']);
    assert.equal(projected?.authenticated, true, projected?.error);
    assert.equal(projected?.user?.username, `system:serviceaccount:${NS}:agent-sa`);
    assert.deepEqual(projected?.user?.extra?.['authentication.kubernetes.io/pod-name'], [name]);
    // The ServiceAccount admission plugin's kube-api-access volume, which in-cluster clients read.
    const defaultToken = await review('/var/run/secrets/kubernetes.io/serviceaccount/token');
    assert.equal(defaultToken?.authenticated, true, defaultToken?.error);
    assert.equal(await inPod('/var/run/secrets/kubernetes.io/serviceaccount/namespace'), NS);

    // A crash: the container is restarted and the restart counted.
    process.kill(pid, 'SIGKILL');
    const restarted = await readyPod('probe-me', (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1);
    assert.equal(restarted.metadata?.name, name, 'the same Pod, restarted in place');
    assert.equal(restarted.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode, 137);
    const pid2 = mainPid(restarted);
    assert.notEqual(pid2, pid);
    assert.equal(isAlive(pid), false);

    // Deleting the Pod stops its process within the grace period, and the ReplicaSet replaces it.
    await core.deleteNamespacedPod({ name, namespace: NS });
    // Without a kubelet's confirmation the object would stay, terminating, forever.
    await waitFor(
      'the agent to confirm the deletion',
      () =>
        core.readNamespacedPod({ name, namespace: NS }).then(
          () => undefined,
          (err: unknown) => (isNotFound(err) ? true : undefined),
        ),
      { timeoutMs: 30_000 },
    );
    assert.equal(isAlive(pid2), false, 'the process ended with its pod');
    const replacement = await readyPod('probe-me', (p) => p.metadata?.name !== name);
    const replacementPid = mainPid(replacement);

    // A rolling update: a new template brings a new Pod up, then the old one goes.
    const d = await apps.readNamespacedDeployment({ name: 'probe-me', namespace: NS });
    const literal = d.spec?.template.spec?.containers[0]?.env?.find((e) => e.name === 'LITERAL');
    assert.ok(literal);
    literal.value = 'rolled';
    await apps.replaceNamespacedDeployment({ name: 'probe-me', namespace: NS, body: d });
    const rolled = await waitFor(
      'the rolling update to finish',
      async () => {
        const dep = await apps.readNamespacedDeployment({ name: 'probe-me', namespace: NS });
        const s = dep.status;
        const done = s?.observedGeneration === dep.metadata?.generation && s?.updatedReplicas === 1 && s.replicas === 1 && s.availableReplicas === 1;
        return done ? podOf('probe-me', (p) => p.metadata?.name !== replacement.metadata?.name) : undefined;
      },
      { timeoutMs: 60_000 },
    );
    assert.equal((await environ(mainPid(rolled))).get('LITERAL'), 'rolled');
    assert.equal(isAlive(replacementPid), false, 'the process of the old Pod ended');

    // A failing liveness probe gets the container killed and restarted.
    await apps.createNamespacedDeployment({ namespace: NS, body: deployment('unhealthy', { livenessPath: '/no-such-path' }) });
    const unhealthy = await waitFor(
      'the unhealthy pod to be restarted by its liveness probe',
      async () => {
        const p = await podOf('unhealthy');
        const upid = p && agent.worker(NS, p.metadata?.name ?? '')?.pids()['main'];
        if (upid) pids.add(upid);
        return (p?.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? p : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const events = await core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${unhealthy.metadata?.name}` });
    assert.ok(
      events.items.some((e) => e.reason === 'Unhealthy' && /Liveness probe failed: HTTP probe failed with statuscode: 404/.test(e.message ?? '')),
      events.items.map((e) => `${e.reason}: ${e.message}`).join('\n'),
    );

    // Leader election between two replicas: one holds the Lease; deleting it hands the Lease to the other.
    const rbac = c1.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    const leaseRules = [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] }];
    await rbac.createNamespacedRole({ namespace: NS, body: { metadata: { name: 'leases' }, rules: leaseRules } });
    await rbac.createNamespacedRoleBinding({
      namespace: NS,
      body: {
        metadata: { name: 'leases' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'leases' },
        subjects: [{ kind: 'ServiceAccount', name: 'agent-sa', namespace: NS }],
      },
    });
    await apps.createNamespacedDeployment({ namespace: NS, body: deployment('elect', { replicas: 2, link: 'elected' }) });
    const coordination = c1.kubeConfig.makeApiClient(CoordinationV1Api);
    const running = async () =>
      (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=elect' })).items.filter((p) => !p.metadata?.deletionTimestamp);
    const holder = (exclude?: string) =>
      waitFor(
        `a running elect replica${exclude ? ` other than ${exclude}` : ''} to hold the Lease`,
        async () => {
          const lease = await coordination.readNamespacedLease({ name: 'service-mirror-write-elected', namespace: NS }).catch(() => undefined);
          const names = (await running()).map((p) => p.metadata?.name);
          const h = lease?.spec?.holderIdentity;
          return h && h !== exclude && names.includes(h) && names.length === 2 ? h : undefined;
        },
        { timeoutMs: 60_000 },
      );
    const leader = await holder();
    for (const p of await running()) {
      const pid = agent.worker(NS, p.metadata?.name ?? '')?.pids()['main'];
      if (pid) pids.add(pid);
    }
    await core.deleteNamespacedPod({ name: leader, namespace: NS });
    const successor = await holder(leader);
    assert.notEqual(successor, leader);

    // Another image stays Pending, unscheduled, with an Event that says why.
    await core.createNamespacedPod({
      namespace: NS,
      body: { metadata: { name: 'foreign' }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
    });
    const event = await waitFor(
      'an ImageNotRunnable event for the foreign pod',
      async () =>
        (await core.listNamespacedEvent({ namespace: NS, fieldSelector: 'involvedObject.name=foreign' })).items.find(
          (e) => e.reason === 'ImageNotRunnable',
        ),
      { timeoutMs: 30_000 },
    );
    assert.match(event.message ?? '', /image "nginx:1\.27".*only.*ghcr\.io\/linkerd-multicluster-ts\/multicluster/);
    const foreign = await core.readNamespacedPod({ name: 'foreign', namespace: NS });
    assert.equal(foreign.status?.phase, 'Pending');
    assert.equal(foreign.spec?.nodeName, undefined);
    assert.equal(foreign.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status, 'False');
  } finally {
    await pair.stop();
  }
  assert.deepEqual(
    [...pids].filter((p) => isAlive(p)),
    [],
    'no pod process survives the pair',
  );
  assert.deepEqual(
    (await markedProcesses()).filter((p) => p.slot === pair.topology.slot),
    [],
    'no process carries the slot marker any more',
  );

  // An orphan of a pair whose state is gone (a run killed mid-teardown): the next start finds it by its
  // marker. A state root of its own keeps other pairs on this machine out of it.
  const root = await mkdtemp(join(tmpdir(), 'mc-orphan-root-'));
  const savedRoot = process.env[ROOT_MARKER];
  process.env[ROOT_MARKER] = root;
  try {
    const orphan = spawn('sleep', ['300'], { env: { ...process.env, ...markerEnv(pair.topology.slot) }, detached: true, stdio: 'ignore' });
    const orphanPid = orphan.pid ?? 0;
    orphan.unref();
    assert.ok(isAlive(orphanPid));
    await cleanStalePairs();
    await waitFor('the orphan to be killed', () => Promise.resolve(isAlive(orphanPid) ? undefined : true), { timeoutMs: 5000 });
  } finally {
    if (savedRoot === undefined) delete process.env[ROOT_MARKER];
    else process.env[ROOT_MARKER] = savedRoot;
    await rm(root, { recursive: true, force: true });
  }
});
