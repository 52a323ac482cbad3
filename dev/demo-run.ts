// `multicluster demo`: two dev clusters running exactly what `install` and `link` output, the
// demo's applications, and traffic between them. Every step goes through the same commands a
// user types (the `multicluster` binary, then kubectl apply), so the demo proves the manifests.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { sourceApps, targetApps, type DemoAppsOptions } from '../demo/app-manifests.ts';
import { createIdentityIssuer } from '../identity/issuer.ts';
import { createTrustAnchor } from '../identity/trust-anchor.ts';
import { DEFAULT_IMAGE } from '../link/version.ts';
import { Labels } from '../model/linkerd-names.ts';
import { cliEntrypoint } from '../project/paths.ts';
import { ClusterPair, type DevCluster } from './cluster-pair.ts';
import { run } from './exec.ts';
import { waitFor } from './managed-process.ts';

export interface DemoStep {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

export interface DemoEnvironment {
  pair: ClusterPair;
  pkiDir: string;
  steps: DemoStep[];
}

export type Progress = (line: string) => void;

const SOURCE = 'cluster1';
const TARGET = 'cluster2';
const READY_TIMEOUT_MS = 180_000;

export class DemoStepError extends Error {
  override readonly name = 'DemoStepError';
}

function kubectl(pair: ClusterPair, c: DevCluster, args: readonly string[], input?: string): Promise<string> {
  return run(pair.binaries.kubectl, ['--kubeconfig', pair.kubeconfigPath, '--context', c.context, ...args], input === undefined ? {} : { input });
}

function cli(args: readonly string[]): Promise<string> {
  return run(process.execPath, [cliEntrypoint(), ...args]);
}

async function step<T>(env: DemoEnvironment, progress: Progress, name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  progress(`${name}...`);
  try {
    const out = await fn();
    env.steps.push({ name, ok: true, ms: Math.round(performance.now() - t0) });
    return out;
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    env.steps.push({ name, ok: false, ms: Math.round(performance.now() - t0), error });
    throw new DemoStepError(`${name}: ${error}`, { cause: err });
  }
}

async function waitDeployments(pair: ClusterPair, c: DevCluster, ns: string, names: readonly string[]): Promise<void> {
  for (const name of names) {
    await kubectl(pair, c, ['-n', ns, 'wait', '--for=condition=Available', `deployment/${name}`, `--timeout=${READY_TIMEOUT_MS / 1000}s`]);
  }
}

/** Brings up everything and leaves it running; the caller tears it down with `pair.stop()`. */
export async function bringUpDemo(progress: Progress): Promise<DemoEnvironment> {
  const pair = await ClusterPair.start({ podAgents: true, podToPod: true, progress: (m) => progress(`  ${m}`) });
  const env: DemoEnvironment = { pair, pkiDir: await mkdtemp(join(tmpdir(), 'multicluster-demo-')), steps: [] };
  try {
    await step(env, progress, 'trust anchor and one issuer per cluster', async () => {
      const anchor = await createTrustAnchor();
      await writeFile(join(env.pkiDir, 'ca.crt'), anchor.certPem);
      for (const c of [SOURCE, TARGET]) {
        const issuer = await createIdentityIssuer(anchor);
        await writeFile(join(env.pkiDir, `${c}-issuer.crt`), issuer.certPem);
        await writeFile(join(env.pkiDir, `${c}-issuer.key`), issuer.keyPem, { mode: 0o600 });
      }
    });
    for (const c of [pair.cluster1, pair.cluster2]) {
      await step(env, progress, `install --control-plane on ${c.name}`, async () => {
        const yaml = await cli([
          'install',
          '--control-plane',
          '--identity-trust-anchors-file',
          join(env.pkiDir, 'ca.crt'),
          '--identity-issuer-certificate-file',
          join(env.pkiDir, `${c.name}-issuer.crt`),
          '--identity-issuer-key-file',
          join(env.pkiDir, `${c.name}-issuer.key`),
        ]);
        await kubectl(pair, c, ['apply', '-f', '-'], yaml);
      });
    }
    for (const c of [pair.cluster1, pair.cluster2]) {
      await step(env, progress, `control plane and gateway Ready on ${c.name}`, async () => {
        await waitDeployments(pair, c, 'linkerd', ['linkerd-identity', 'linkerd-destination']);
        await waitDeployments(pair, c, 'linkerd-multicluster', ['linkerd-gateway']);
        const core = c.kubeConfig.makeApiClient(CoreV1Api);
        await waitFor(
          `an external address for ${c.name}'s gateway Service`,
          async () =>
            (await core.readNamespacedService({ name: 'linkerd-gateway', namespace: 'linkerd-multicluster' })).status?.loadBalancer?.ingress?.[0]?.ip,
          { timeoutMs: READY_TIMEOUT_MS },
        );
      });
    }
    for (const [target, source] of [
      [pair.cluster2, pair.cluster1],
      [pair.cluster1, pair.cluster2],
    ] as const) {
      await step(env, progress, `link ${target.name} into ${source.name}`, async () => {
        const yaml = await cli(['link', '--kubeconfig', pair.kubeconfigPath, '--context', target.context, '--cluster-name', target.name]);
        await kubectl(pair, source, ['apply', '-f', '-'], yaml);
        await waitDeployments(pair, source, 'linkerd-multicluster', [`controller-${target.name}`]);
      });
    }
    const apps = (c: DevCluster, remote: DevCluster): DemoAppsOptions => ({
      image: DEFAULT_IMAGE,
      cluster: c.name,
      remoteCluster: remote.name,
      linkerdNamespace: 'linkerd',
      trustDomain: 'cluster.local',
      clusterDomain: 'cluster.local',
    });
    await step(env, progress, `deploy world, emoji-svc, voting-svc on ${TARGET} (exported)`, async () => {
      await kubectl(
        pair,
        pair.cluster2,
        ['apply', '-f', '-'],
        JSON.stringify({ apiVersion: 'v1', kind: 'List', items: targetApps(apps(pair.cluster2, pair.cluster1)) }),
      );
      await waitDeployments(pair, pair.cluster2, 'demo', ['world']);
      await waitDeployments(pair, pair.cluster2, 'emojivoto', ['emoji-svc', 'voting-svc']);
    });
    // The mirrors land in namespaces of the same name, so the source's namespaces come first.
    await step(env, progress, `deploy hello, web and the traffic generator on ${SOURCE}`, async () => {
      const anchors = await readFile(join(env.pkiDir, 'ca.crt'), 'utf8');
      const objects = sourceApps(apps(pair.cluster1, pair.cluster2), anchors);
      await kubectl(pair, pair.cluster1, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
      await waitDeployments(pair, pair.cluster1, 'demo', ['hello', 'traffic']);
      await waitDeployments(pair, pair.cluster1, 'emojivoto', ['web']);
    });
    await step(env, progress, `mirrors of the exported Services appear in ${SOURCE}`, () =>
      waitFor(
        'world-cluster2, emoji-svc-cluster2 and voting-svc-cluster2',
        async () => ((await mirrors(pair.cluster1)).length >= 3 ? true : undefined),
        { timeoutMs: READY_TIMEOUT_MS },
      ),
    );
    return env;
  } catch (err) {
    await tearDownDemo(env);
    throw err;
  }
}

export async function tearDownDemo(env: DemoEnvironment): Promise<void> {
  await env.pair.stop();
  await rm(env.pkiDir, { recursive: true, force: true });
}

/** Mirror Services in `c`, as `ns/name`. */
export async function mirrors(c: DevCluster): Promise<string[]> {
  const core = c.kubeConfig.makeApiClient(CoreV1Api);
  const list = await core.listServiceForAllNamespaces({ labelSelector: `${Labels.mirroredService}=true` });
  return list.items.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`).sort();
}
