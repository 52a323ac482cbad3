// The e2e `linkedPair` set-up (extension installed on both clusters, a gateway pod in
// cluster2, `multicluster link` output applied to cluster1), minus one harness cost that
// would swamp the figures: the LoadBalancer stand-in lists every Service of both clusters
// every 300 ms, which at 10,000 Services is a full list of megabytes three times a second.
// Here it runs only until the gateway has its address, then stops.
import { CONTROLLER_NODE_OPTIONS } from '../model/controller-node-options.ts';
import { copyFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { createLogger } from '../log/logger.ts';
import { ClusterPair } from '../dev/cluster-pair.ts';
import { freePort } from '../dev/control-plane.ts';
import { LoadBalancerController } from '../dev/load-balancer.ts';
import { ManagedProcess, waitFor } from '../dev/managed-process.ts';
import type { RunningPod } from '../dev/pod-runner.ts';
import { BIN, cli, cliBundle } from '../e2e/fixtures/cli.ts';
import { apply } from '../e2e/fixtures/kubectl.ts';
import { MC_NS, startGatewayPod } from '../e2e/fixtures/linked-pair.ts';
import { parsePrometheusText, type Sample } from './prom-text.ts';

export { MC_NS };

export interface BenchPair {
  pair: ClusterPair;
  gateway: RunningPod;
  core1: CoreV1Api;
  core2: CoreV1Api;
  custom1: CustomObjectsApi;
  /** Starts `multicluster mirror` for the Link `cluster2` with the shipped defaults plus `extraArgs`. */
  /** `heapSnapshotDir`: the controller writes a heap snapshot there on SIGUSR2. */
  startMirror(identity: string, extraArgs: readonly string[], heapSnapshotDir?: string): Promise<BenchMirror>;
  stop(): Promise<void>;
}

export interface BenchMirror {
  proc: ManagedProcess;
  /** How the controller was loaded (it moves the RSS baseline): 'esbuild-bundle' or 'tsx'. */
  launcher: string;
  /** The script the controller process runs. */
  script: string;
  metrics(): Promise<string>;
  /** The parsed /metrics, or no samples when the scrape fails. */
  samples(): Promise<Sample[]>;
}

/**
 * A private copy of the CLI bundle for the sources as they are now. bin/multicluster.js
 * rebuilds its bundle whenever a source changes, inside the process that starts next: a
 * controller started after an edit in the same checkout would build it in-process and carry
 * esbuild's memory into the figures, and measure other code than the run recorded.
 * Falls back to bin/multicluster.js when there is no bundle (the tsx path).
 */
async function pinnedBundle(stateDir: string): Promise<string> {
  const bundle = await cliBundle();
  if (!bundle) return BIN;
  // Same file names, so the bundle's sourceMappingURL still finds its map.
  const copy = join(stateDir, basename(bundle));
  await copyFile(bundle, copy);
  await copyFile(`${bundle}.map`, `${copy}.map`).catch(() => undefined);
  return copy;
}

export async function benchPair(progress: (msg: string) => void): Promise<BenchPair> {
  const pair = await ClusterPair.start({ progress: (m) => progress(`harness: ${m}`), loadBalancers: false });
  const mirrors: ManagedProcess[] = [];
  const stop = async () => {
    for (const m of mirrors) await m.stop();
    await pair.stop();
  };
  try {
    const controllerScript = await pinnedBundle(pair.stateDir);
    // Linkerd's own control plane is not part of the benchmark, but its namespace receives a Secret.
    for (const c of [pair.cluster1, pair.cluster2]) await apply(pair, c, 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: linkerd\n');
    const install = await cli(['install']);
    await apply(pair, pair.cluster1, install);
    await apply(pair, pair.cluster2, install);
    const gateway = await startGatewayPod(pair);
    const core1 = pair.cluster1.kubeConfig.makeApiClient(CoreV1Api);
    const core2 = pair.cluster2.kubeConfig.makeApiClient(CoreV1Api);
    const lb = new LoadBalancerController(pair.cluster2.addressing, pair.cluster2.kubeConfig, createLogger({ level: 'warn' }));
    lb.start();
    try {
      await waitFor(
        'gateway LoadBalancer address',
        async () => {
          const svc = await core2.readNamespacedService({ name: 'linkerd-gateway', namespace: MC_NS });
          return svc.status?.loadBalancer?.ingress?.[0]?.ip;
        },
        { timeoutMs: 30_000 },
      );
    } finally {
      await lb.stop();
    }
    const linkYaml = await cli([
      'link',
      '--kubeconfig',
      pair.kubeconfigPath,
      '--context',
      pair.cluster2.context,
      '--cluster-name',
      'cluster2',
      '--trust-domain',
      'cluster.local',
      '--cluster-domain',
      'cluster.local',
      '--controller=false',
    ]);
    await apply(pair, pair.cluster1, linkYaml);
    const startMirror = async (identity: string, extraArgs: readonly string[], heapSnapshotDir?: string): Promise<BenchMirror> => {
      const metricsPort = await freePort();
      const launcher = controllerScript === BIN ? 'tsx' : 'esbuild-bundle';
      const proc = await ManagedProcess.start({
        name: `service-mirror-${identity}`,
        command: process.execPath,
        args: [
          // e.g. `--cpu-prof --cpu-prof-dir=DIR` (not allowed in NODE_OPTIONS) to profile the controller.
          ...(process.env['BENCH_CONTROLLER_NODE_ARGS'] ?? '').split(' ').filter(Boolean),
          controllerScript,
          'mirror',
          '--link',
          'cluster2',
          '--namespace',
          MC_NS,
          '--kubeconfig',
          pair.kubeconfigPath,
          '--context',
          pair.cluster1.context,
          '--metrics-addr',
          `127.0.0.1:${metricsPort}`,
          '--identity',
          identity,
          ...extraArgs,
        ],
        stateDir: pair.stateDir,
        // As its Deployment runs it.
        env: {
          ...process.env,
          NODE_OPTIONS: heapSnapshotDir
            ? `${CONTROLLER_NODE_OPTIONS} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${heapSnapshotDir}`
            : CONTROLLER_NODE_OPTIONS,
        },
      });
      mirrors.push(proc);
      const metrics = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      await waitFor('mirror admin server', async () => ((await fetch(`http://127.0.0.1:${metricsPort}/live`)).ok ? true : undefined), {
        timeoutMs: 20_000,
        onTimeout: () => proc.lastLog(),
      });
      const samples = async () => {
        try {
          return parsePrometheusText(await metrics());
        } catch {
          return [];
        }
      };
      return { proc, launcher, script: controllerScript, metrics, samples };
    };
    return { pair, gateway, core1, core2, custom1: pair.cluster1.kubeConfig.makeApiClient(CustomObjectsApi), startMirror, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
