// install, link and unlink against two real kube-apiservers (the lead's harness): every
// document must be accepted by `kubectl apply`, applying twice must change nothing, the
// credentials must work read-only against the target, and unlink must remove the Link.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { ClusterPair } from '../dev/cluster-pair.ts';
import { waitFor } from '../dev/managed-process.ts';
import { workloadCommand } from '../e2e/workloads/launch.ts';
import { parseLink } from '../model/link-parse.ts';

const BIN = fileURLToPath(new URL('../bin/multicluster.js', import.meta.url));

function sh(cmd: string, args: string[], input?: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${[cmd, ...args].join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

test('install, link and unlink on real clusters', { timeout: 300_000 }, async () => {
  const pair = await ClusterPair.start({ progress: (m) => process.stderr.write(`  harness: ${m}\n`) });
  try {
    const env = { ...process.env, KUBECONFIG: pair.kubeconfigPath };
    const mc = (args: string[]) => sh(process.execPath, [BIN, ...args], undefined, env);
    const kubectl = (context: string, args: string[], input?: string) => sh(pair.binaries.kubectl, ['--context', context, ...args], input, env);
    const c1 = pair.cluster1.context;
    const c2 = pair.cluster2.context;

    // install: cluster2 is the target (gateway), cluster1 only links to it.
    const install2 = await mc(['install']);
    const install1 = await mc(['install', '--gateway=false']);
    await kubectl(c2, ['apply', '-f', '-'], install2);
    await kubectl(c1, ['apply', '-f', '-'], install1);
    await kubectl(c2, ['wait', '--for=condition=Established', 'crd/links.multicluster.linkerd.io', '--timeout=30s']);
    await kubectl(c1, ['wait', '--for=condition=Established', 'crd/links.multicluster.linkerd.io', '--timeout=30s']);
    for (const line of (await kubectl(c2, ['apply', '-f', '-'], install2)).trim().split('\n')) {
      assert.match(line, /unchanged$/, `install is idempotent: ${line}`);
    }

    // The gateway Service gets its address from a ready pod in the gateway range.
    await pair.cluster2.pods.start({
      namespace: 'linkerd-multicluster',
      name: 'linkerd-gateway-0',
      labels: { app: 'linkerd-gateway', 'linkerd.io/extension': 'multicluster' },
      gatewayAddress: true,
      command: workloadCommand('http-server.ts'),
      env: { PORT: '4143', CLUSTER: 'cluster2' },
      ports: [
        { name: 'mc-gateway', containerPort: 4143 },
        { name: 'mc-probe', containerPort: 4191 },
      ],
      readinessPort: 4143,
    });
    const core2 = pair.cluster2.kubeConfig.makeApiClient(CoreV1Api);
    const gatewayIp = await waitFor(
      'gateway LoadBalancer address',
      async () => {
        const svc = await core2.readNamespacedService({ name: 'linkerd-gateway', namespace: 'linkerd-multicluster' });
        return svc.status?.loadBalancer?.ingress?.[0]?.ip;
      },
      { timeoutMs: 30_000 },
    );

    // link against cluster2, applied to cluster1 (no Linkerd here, so domains are given).
    await kubectl(c1, ['create', 'namespace', 'linkerd']);
    const linkArgs = [
      'link',
      '--context',
      c2,
      '--cluster-name',
      'cluster2',
      '--trust-domain',
      'cluster.local',
      '--cluster-domain',
      'cluster.local',
      '--excluded-labels',
      'evil.linkerd/*',
    ];
    const linkOut = await mc(linkArgs);
    await kubectl(c1, ['apply', '-f', '-'], linkOut);
    for (const line of (await kubectl(c1, ['apply', '-f', '-'], linkOut)).trim().split('\n')) {
      assert.match(line, /unchanged$/, `link output is idempotent: ${line}`);
    }
    const again = await mc(linkArgs);
    const maskToken = (s: string) => s.replace(/kubeconfig: \S+/g, 'kubeconfig: <masked>');
    assert.equal(maskToken(again), maskToken(linkOut), 'only the token changes between runs');

    // The Link is served in every version and parses.
    for (const v of ['v1alpha1', 'v1alpha2', 'v1alpha3']) {
      const json = await kubectl(c1, ['get', `links.${v}.multicluster.linkerd.io`, 'cluster2', '-n', 'linkerd-multicluster', '-o', 'json']);
      const link = parseLink(JSON.parse(json));
      assert.equal(link.spec.gatewayAddress, gatewayIp);
      assert.equal(link.spec.probeSpec?.timeout, '30s');
    }
    // The status subresource takes a condition and fills the ref defaults.
    const custom1 = pair.cluster1.kubeConfig.makeApiClient(CustomObjectsApi);
    await custom1.patchNamespacedCustomObjectStatus(
      {
        group: 'multicluster.linkerd.io',
        version: 'v1alpha3',
        namespace: 'linkerd-multicluster',
        plural: 'links',
        name: 'cluster2',
        body: {
          status: {
            mirrorServices: [
              {
                controllerName: 'linkerd.io/service-mirror',
                remoteRef: { name: 'web', namespace: 'app' },
                conditions: [{ type: 'Mirrored', status: 'True', reason: 'Mirrored', message: '', lastTransitionTime: '2025-01-01T00:00:00Z' }],
              },
            ],
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const withStatus = parseLink(JSON.parse(await kubectl(c1, ['get', 'link', 'cluster2', '-n', 'linkerd-multicluster', '-o', 'json'])));
    assert.equal(withStatus.status?.mirrorServices?.[0]?.remoteRef.kind, 'Service', 'status defaults apply');

    // The embedded kubeconfig reads cluster2 and cannot write to it.
    const secretDocs = parseAllDocuments(linkOut).map((d) => d.toJS() as { kind: string; data?: { kubeconfig?: string } });
    const remote = new KubeConfig();
    remote.loadFromString(Buffer.from(secretDocs[0]?.data?.kubeconfig ?? '', 'base64').toString('utf8'));
    const remoteCore = remote.makeApiClient(CoreV1Api);
    const svcs = await remoteCore.listServiceForAllNamespaces();
    assert.ok(svcs.items.some((s) => s.metadata?.name === 'linkerd-gateway'));
    await assert.rejects(remoteCore.createNamespace({ body: { metadata: { name: 'nope' } } }), /403|forbidden/i);

    // Pod-to-pod the other way: cluster1 has no gateway.
    await mc(['allow', '--service-account-name', 'linkerd-service-mirror-remote-access-default']).then((o) => kubectl(c1, ['apply', '-f', '-'], o));
    const flat = await mc([
      'link',
      '--context',
      c1,
      '--cluster-name',
      'cluster1',
      '--gateway=false',
      '--trust-domain',
      'cluster.local',
      '--cluster-domain',
      'cluster.local',
    ]);
    await kubectl(c2, ['create', 'namespace', 'linkerd']);
    await kubectl(c2, ['apply', '-f', '-'], flat);

    // unlink removes the Link and the controller.
    const unlink = await mc(['unlink', '--context', c1, '--cluster-name', 'cluster2']);
    await kubectl(c1, ['delete', '--ignore-not-found', '-f', '-'], unlink);
    await assert.rejects(kubectl(c1, ['get', 'link', 'cluster2', '-n', 'linkerd-multicluster']), /NotFound|not found/);
    await assert.rejects(kubectl(c1, ['get', 'deployment', 'controller-cluster2', '-n', 'linkerd-multicluster']), /NotFound|not found/);
  } finally {
    await pair.stop();
  }
});
