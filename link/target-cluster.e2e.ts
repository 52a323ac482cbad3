// readTargetCluster (what `link` reads from the TARGET) against a real kube-apiserver with
// real RBAC and the real token controller: bounded tokens, the token-Secret fallback when
// TokenRequest is forbidden, --create-credentials, and its one-line errors; then the `link`
// and `unlink` CLIs' cluster-dependent outcomes (output shape, errors with no stdout).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { BIN, cli } from '../e2e/fixtures/cli.ts';
import { apply } from '../e2e/fixtures/kubectl.ts';
import { ClusterPair } from '../dev/cluster-pair.ts';
import { waitFor } from '../dev/managed-process.ts';
import { createLogger } from '../log/logger.ts';
import { loadKubeAccess, type KubeAccess } from './kube-access.ts';
import { MissingCredentialsError, MissingServiceAccountError, readTargetCluster, type TargetReadOptions } from './target-cluster.ts';

const NS = 'linkerd-multicluster';
const SA = 'linkerd-service-mirror-remote-access-default';
let pair: ClusterPair;
let core: CoreV1Api;
let admin: KubeAccess;
/** A user who may read what link reads, but not request tokens or create Secrets. */
let limited: KubeAccess;

function options(patch: Partial<TargetReadOptions> = {}): TargetReadOptions {
  return {
    clusterName: 'cluster2',
    namespace: NS,
    serviceAccountName: SA,
    linkerdNamespace: 'linkerd',
    gateway: { name: 'linkerd-gateway', namespace: NS, addresses: ['10.0.0.5'] },
    tokenLifetimeSeconds: 3600,
    createCredentials: false,
    log: createLogger({ write: () => {} }),
    ...patch,
  };
}

async function secretNames(): Promise<string[]> {
  return (await core.listNamespacedSecret({ namespace: NS })).items.map((s) => s.metadata?.name ?? '').sort();
}

/** Services listed with the kubeconfig link produced: the credential works. */
async function listsServices(kubeconfig: string): Promise<boolean> {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig);
  // A token Secret the token controller has just filled may reach the API server's own
  // cache a moment later (401 until then): retry briefly rather than fail on that race.
  return waitFor(
    'the credential to be accepted',
    async () => {
      const list = await kc.makeApiClient(CoreV1Api).listNamespacedService({ namespace: NS });
      return list.items.some((s) => s.metadata?.name === 'linkerd-gateway');
    },
    { timeoutMs: 15_000, intervalMs: 250 },
  );
}

describe('readTargetCluster on a real cluster', { concurrency: false, timeout: 180_000 }, () => {
  before(async () => {
    pair = await ClusterPair.start({ progress: (m) => process.stderr.write(`  harness: ${m}\n`) });
    const c2 = pair.cluster2;
    await apply(pair, c2, await cli(['install']));
    await apply(
      pair,
      c2,
      [
        'apiVersion: v1',
        'kind: Namespace',
        'metadata: {name: linkerd}',
        '---',
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata: {name: linkerd-config, namespace: linkerd}',
        'data:',
        '  values: "identityTrustDomain: example.org\\nclusterDomain: cluster.example\\n"',
        '---',
        'apiVersion: v1',
        'kind: ServiceAccount',
        'metadata: {name: bare, namespace: linkerd-multicluster}',
        '---',
        'apiVersion: v1',
        'kind: ServiceAccount',
        'metadata: {name: linker, namespace: default}',
      ].join('\n'),
    );
    core = c2.kubeConfig.makeApiClient(CoreV1Api);
    const kubeconfigPath = pair.kubeconfigPath;
    admin = loadKubeAccess({ kubeconfig: kubeconfigPath, context: c2.context, timeoutMs: 10_000 }, {});

    const rbac = c2.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createClusterRole({
      body: {
        metadata: { name: 'linker' },
        rules: [
          { apiGroups: [''], resources: ['serviceaccounts', 'configmaps'], verbs: ['get'] },
          { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] },
        ],
      },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: 'linker' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'linker' },
        subjects: [{ kind: 'ServiceAccount', name: 'linker', namespace: 'default' }],
      },
    });
    const tr = await core.createNamespacedServiceAccountToken({
      name: 'linker',
      namespace: 'default',
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const cluster = c2.kubeConfig.getCurrentCluster();
    assert.ok(cluster && tr.status?.token);
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [cluster],
      users: [{ name: 'linker', token: tr.status.token }],
      contexts: [{ name: 'linker', cluster: cluster.name, user: 'linker' }],
      currentContext: 'linker',
    });
    const limitedPath = join(pair.stateDir, 'linker.kubeconfig');
    writeFileSync(limitedPath, kc.exportConfig(), { mode: 0o600 });
    limited = loadKubeAccess({ kubeconfig: limitedPath, timeoutMs: 10_000 }, {});
  });
  after(async () => {
    await pair?.stop();
  });

  test('uses a bounded TokenRequest token in a one-cluster kubeconfig, writing nothing else', async () => {
    const secretsBefore = await secretNames();
    const facts = await readTargetCluster(admin, options({ apiServerAddress: 'https://10.0.0.1:6443' }));
    assert.equal(facts.credential.kind, 'token-request');
    assert.deepEqual([facts.trustDomain, facts.clusterDomain], ['example.org', 'cluster.example']);
    assert.deepEqual(facts.gateway?.addresses, ['10.0.0.5']);
    const kc = parseYaml(facts.kubeconfig) as { clusters: Array<{ cluster: Record<string, unknown> }> };
    assert.equal(kc.clusters.length, 1);
    assert.equal(kc.clusters[0]?.cluster.server, 'https://10.0.0.1:6443');
    assert.deepEqual(await secretNames(), secretsBefore, 'no Secret is created');
    const local = await readTargetCluster(admin, options());
    assert.ok(await listsServices(local.kubeconfig), 'the bounded token reads the target');
  });

  test('falls back to the token Secret when TokenRequest is forbidden', async () => {
    const facts = await readTargetCluster(limited, options({ gateway: undefined }));
    assert.deepEqual(facts.credential, { kind: 'secret', secretName: `${SA}-token` });
    assert.ok(await listsServices(facts.kubeconfig), 'the Secret token reads the target');
  });

  test('without --create-credentials, names the Secret to create and writes nothing', async () => {
    const secretsBefore = await secretNames();
    await assert.rejects(readTargetCluster(admin, options({ serviceAccountName: 'bare', tokenLifetimeSeconds: 0 })), (err: unknown) => {
      assert.ok(err instanceof MissingCredentialsError);
      assert.match(
        err.message,
        /^ServiceAccount linkerd-multicluster\/bare has no token Secret: create Secret linkerd-multicluster\/bare-token .* or re-run with --create-credentials$/,
      );
      return true;
    });
    assert.deepEqual(await secretNames(), secretsBefore);
  });

  test('with --create-credentials, creates the token Secret and waits for the token controller', async () => {
    const facts = await readTargetCluster(
      admin,
      options({ serviceAccountName: 'bare', tokenLifetimeSeconds: 0, createCredentials: true, tokenWaitMs: 20_000 }),
    );
    assert.deepEqual(facts.credential, { kind: 'secret', secretName: 'bare-token' });
    assert.ok((await secretNames()).includes('bare-token'));
  });

  test('reports a missing remote-access ServiceAccount', async () => {
    await assert.rejects(readTargetCluster(admin, options({ serviceAccountName: 'nobody' })), (err: unknown) => {
      assert.ok(err instanceof MissingServiceAccountError);
      assert.match(err.message, /^ServiceAccount linkerd-multicluster\/nobody not found in context "k3d-cluster2": run "multicluster install"/);
      return true;
    });
  });

  test('requires the domains when linkerd-config is absent, unless given', async () => {
    await assert.rejects(
      readTargetCluster(admin, options({ linkerdNamespace: 'no-linkerd' })),
      /ConfigMap no-linkerd\/linkerd-config does not exist .* pass --trust-domain and --cluster-domain/,
    );
    const facts = await readTargetCluster(admin, options({ linkerdNamespace: 'no-linkerd', trustDomain: 't.example', clusterDomain: 'c.example' }));
    assert.deepEqual([facts.trustDomain, facts.clusterDomain], ['t.example', 'c.example']);
  });

  test('pod-to-pod links never read the gateway Service', async () => {
    // The limited user may not read Services: gateway mode fails, pod-to-pod does not.
    await assert.rejects(
      readTargetCluster(limited, options()),
      /cannot read gateway Service linkerd-multicluster\/linkerd-gateway in context "linker" .*forbidden/,
    );
    const facts = await readTargetCluster(limited, options({ gateway: undefined }));
    assert.equal(facts.gateway, undefined);
  });

  // === the CLI on the same cluster ===

  function mc(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, [BIN, ...args, '--kubeconfig', pair.kubeconfigPath, '--context', pair.cluster2.context], (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      });
    });
  }

  function assertRefused(r: { code: number; stdout: string; stderr: string }, message: RegExp): void {
    assert.deepEqual([r.code, r.stdout], [2, ''], r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }

  test('link refuses a gateway without an address and a missing ServiceAccount, printing nothing', async () => {
    // No gateway pod runs, so the LoadBalancer stand-in has given the Service no address.
    assertRefused(
      await mc(['link', '--cluster-name', 'east']),
      /^Error: gateway Service linkerd-multicluster\/linkerd-gateway \(type LoadBalancer\) has no external address yet/,
    );
    assertRefused(
      await mc(['link', '--cluster-name', 'east', '--service-account-name', 'nobody']),
      /^Error: ServiceAccount linkerd-multicluster\/nobody not found in context "k3d-cluster2"/,
    );
  });

  test('link prints credentials, Link and controller, identically on every run', async () => {
    const args = [
      'link',
      '--cluster-name',
      'east',
      '--gateway-addresses',
      '10.0.0.5',
      '--token-lifetime',
      '0',
      '--excluded-labels',
      'evil.linkerd/*,evil',
    ];
    const a = await mc(args);
    assert.equal(a.code, 0, a.stderr);
    const kinds = parseAllDocuments(a.stdout).map((d) => (d.toJS() as { kind: string }).kind);
    assert.deepEqual(kinds, ['Secret', 'Secret', 'Link', 'ServiceAccount', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Deployment', 'Service']);
    assert.equal((await mc(args)).stdout, a.stdout);

    const json = await mc(['link', '--cluster-name', 'east', '--gateway=false', '--controller=false', '-o', 'json']);
    assert.equal(json.code, 0, json.stderr);
    const list = JSON.parse(json.stdout) as { kind: string; items: Array<{ kind: string; spec?: { selector?: unknown } }> };
    assert.deepEqual([list.kind, list.items.map((i) => i.kind)], ['List', ['Secret', 'Secret', 'Link']]);
    assert.equal(list.items[2]?.spec?.selector, undefined, 'pod-to-pod links have a nil selector');
  });

  test('unlink reports a cluster with no Link and no mirrors, and lists the mirrors and Secrets it finds', async () => {
    assertRefused(
      await mc(['unlink', '--cluster-name', 'east']),
      /^Error: no Link linkerd-multicluster\/east and no mirrors of it in context "k3d-cluster2"/,
    );
    await core.createNamespace({ body: { metadata: { name: 'app' } } });
    await core.createNamespacedService({
      namespace: 'app',
      body: {
        metadata: { name: 'web-east', labels: { 'mirror.linkerd.io/mirrored-service': 'true', 'mirror.linkerd.io/cluster-name': 'east' } },
        spec: { ports: [{ port: 80 }] },
      },
    });
    await core.createNamespacedService({
      namespace: 'app',
      body: {
        metadata: { name: 'web-west', labels: { 'mirror.linkerd.io/mirrored-service': 'true', 'mirror.linkerd.io/cluster-name': 'west' } },
        spec: { ports: [{ port: 80 }] },
      },
    });
    // The destination's credentials copy, found by its label wherever it is.
    for (const cluster of ['east', 'west']) {
      await core.createNamespacedSecret({
        namespace: 'linkerd',
        body: { metadata: { name: `cluster-credentials-${cluster}`, labels: { 'multicluster.linkerd.io/cluster-name': cluster } } },
      });
    }
    const r = await mc(['unlink', '--cluster-name', 'east']);
    assert.equal(r.code, 0, r.stderr);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } });
    assert.deepEqual(
      docs.slice(0, 3).map((d) => `${d.kind}/${d.metadata.name}`),
      ['Link/east', 'Deployment/controller-east', 'Service/web-east'],
    );
    assert.ok(
      docs.some((d) => d.kind === 'Secret' && d.metadata.namespace === 'linkerd' && d.metadata.name === 'cluster-credentials-east'),
      'the labelled Secret is listed',
    );
    assert.ok(
      docs.some((d) => d.kind === 'Endpoints' && d.metadata.namespace === NS && d.metadata.name === 'probe-east'),
      'the probe Endpoints are listed',
    );
    assert.equal(
      docs.some((d) => d.metadata.name === 'web-west' || d.metadata.name === 'cluster-credentials-west'),
      false,
    );
  });
});
