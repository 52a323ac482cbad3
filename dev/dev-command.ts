// `multicluster dev up | down | status | network | agent`: two real local clusters for the
// demo and for users trying the extension without Docker.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cliEntrypoint } from '../project/paths.ts';
import { Command, Option } from 'commander';
import { CoreV1Api } from '@kubernetes/client-node';
import { UsageError } from '../cli/usage-error.ts';
import { loadKubeConfig } from '../kube/client.ts';
import { createLogger } from '../log/logger.ts';
import { ClusterPair, cleanStalePairs, destroySlot, setSlotOwner, slotDir } from './cluster-pair.ts';
import { ETCD_VERSION, KUBE_VERSION, ensureKubeBinaries } from './kube-binaries.ts';
import { run } from './exec.ts';
import { LoadBalancerController } from './load-balancer.ts';
import { ManagedProcess, isAlive } from './managed-process.ts';
import { isPodToPod, setPodToPod } from './pod-network.ts';
import { ClusterDns } from './cluster-dns.ts';
import { PodAgent } from './pod-agent.ts';
import { CLUSTER_NAMES, PodIpAllocator, nodeName, pairTopology } from './topology.ts';

const DEV_SLOT = 0;

/** Hidden `--slot`: lets tests drive the real commands on a pair of their own. */
const slotOption = () =>
  new Option('--slot <n>', 'pair slot (0 is the dev pair)')
    .default(DEV_SLOT)
    .argParser((v) => Number(v))
    .hideHelp();

export function devCommand(): Command {
  const dev = new Command('dev').description('two real local Kubernetes clusters (kube-apiserver, kube-controller-manager, etcd) without Docker');

  dev
    .command('up')
    .description('start cluster1 and cluster2 (contexts k3d-cluster1, k3d-cluster2); prints the kubeconfig path')
    .addOption(new Option('--pod-to-pod', 'route pod CIDRs between the clusters (default: gateway-only)').default(false))
    .addOption(slotOption())
    .action(async (opts: { podToPod: boolean; slot: number }) => {
      requireRoot();
      const started = Date.now();
      const progress = (msg: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}\n`);
      const pair = await ClusterPair.start({
        slot: opts.slot,
        detach: true,
        podToPod: opts.podToPod,
        loadBalancers: false,
        podAgents: false,
        clusterDns: false,
        progress,
      });
      progress('starting the dev agent (LoadBalancer controller, cluster DNS, pod agent)');
      const agent = await ManagedProcess.start({
        name: 'dev-agent',
        command: process.execPath,
        args: [cliEntrypoint(), 'dev', 'agent', '--slot', String(opts.slot)],
        stateDir: pair.stateDir,
        detach: true,
      });
      await setSlotOwner(opts.slot, agent.pid);
      progress(`ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
      process.stdout.write(`${pair.kubeconfigPath}\n`);
      process.stderr.write(`\n  export KUBECONFIG=${pair.kubeconfigPath}\n  kubectl --context k3d-cluster2 get ns\n\n`);
      // The children are detached; leave them running.
      process.exit(0);
    });

  dev
    .command('binaries')
    .description(
      `build (first use) or locate the cached kube-apiserver, kube-controller-manager, kubectl ${KUBE_VERSION} ` +
        `and etcd ${ETCD_VERSION}; prints their directory`,
    )
    .action(async () => {
      const bins = await ensureKubeBinaries((line) => process.stderr.write(`${line}\n`));
      process.stdout.write(`${bins.dir}\n`);
    });

  dev
    .command('down')
    .description('stop both clusters and remove every process, network namespace and file they used')
    .addOption(slotOption())
    .action(async (opts: { slot: number }) => {
      requireRoot();
      await destroySlot(opts.slot);
      const stale = await cleanStalePairs();
      await releaseNetnsMount();
      process.stderr.write(`dev clusters removed${stale.length ? ` (also cleaned stale test pairs: ${stale.join(', ')})` : ''}\n`);
    });

  dev
    .command('status')
    .description('show whether the dev clusters are up and reachable')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .addOption(slotOption())
    .action(async (opts: { output: 'table' | 'json'; slot: number }) => {
      const status = await devStatus(opts.slot);
      if (opts.output === 'json') process.stdout.write(JSON.stringify(status, null, 2) + '\n');
      else {
        const network = status.podToPod === undefined ? '-' : status.podToPod ? 'pod-to-pod' : 'gateway-only';
        process.stdout.write(
          `kubeconfig: ${status.kubeconfig ?? '-'}\nagent: ${status.agentAlive ? 'running' : 'not running'}\nnetwork: ${network}\n`,
        );
        for (const c of status.clusters)
          process.stdout.write(`${c.context}: ${c.reachable ? `up (${c.namespaces} namespaces)` : `down${c.error ? `: ${c.error}` : ''}`}\n`);
      }
      if (!status.clusters.every((c) => c.reachable)) process.exitCode = 1;
    });

  dev
    .command('network')
    .description('switch cross-cluster routing between pod-to-pod and gateway-only')
    .argument('<mode>', 'pod-to-pod | gateway-only')
    .action(async (mode: string) => {
      requireRoot();
      if (mode !== 'pod-to-pod' && mode !== 'gateway-only') throw new UsageError(`unknown network mode "${mode}": use pod-to-pod or gateway-only`);
      await setPodToPod(pairTopology(DEV_SLOT), mode === 'pod-to-pod');
      process.stderr.write(`network: ${mode}\n`);
    });

  dev
    .command('agent', { hidden: true })
    .description('runs the LoadBalancer controllers, cluster DNS and pod agents of a dev pair (started by `dev up`)')
    .requiredOption('--slot <n>', 'pair slot', (v) => Number(v))
    .action(async (opts: { slot: number }) => {
      const log = createLogger();
      const kubeconfig = join(slotDir(opts.slot), 'kubeconfig');
      const topology = pairTopology(opts.slot);
      const lbs: LoadBalancerController[] = [];
      const agents: PodAgent[] = [];
      const dns: ClusterDns[] = [];
      for (const n of CLUSTER_NAMES) {
        const cluster = topology.clusters[n];
        const kubeConfig = loadKubeConfig({ kubeconfig, context: cluster.context });
        lbs.push(new LoadBalancerController(cluster, kubeConfig, log));
        dns.push(new ClusterDns(cluster, kubeConfig, log));
        // dev up started no pod in this pair, so this agent's allocator is the only one.
        const alloc = new PodIpAllocator(cluster);
        agents.push(new PodAgent({ topology, cluster, kubeConfig, nodeName: nodeName(cluster), alloc, stateDir: join(slotDir(opts.slot), n), log }));
      }
      for (const d of dns) await d.start();
      for (const x of [...lbs, ...agents]) x.start();
      log.info('dev agent running', { slot: opts.slot });
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      await Promise.all([...lbs.map((lb) => lb.stop()), ...agents.map((a) => a.stop()), ...dns.map((d) => d.stop())]);
    });

  return dev;
}

/** `ip netns` bind-mounts /run/netns on first use; drop it again once no namespace is left. */
async function releaseNetnsMount(): Promise<void> {
  const left = await readdir('/run/netns').catch(() => ['?']);
  const mounted = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').some((l) => l.split(' ')[4] === '/run/netns');
  if (left.length === 0 && mounted) await run('umount', ['/run/netns'], { allowFailure: true });
}

export function requireRoot(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new UsageError('the dev clusters create network namespaces and veth links, which needs root: run as root (e.g. sudo -E)');
  }
}

export interface DevStatus {
  kubeconfig?: string;
  agentAlive: boolean;
  podToPod?: boolean;
  clusters: Array<{ context: string; reachable: boolean; namespaces?: number; error?: string }>;
}

export async function devStatus(slot = DEV_SLOT): Promise<DevStatus> {
  const dir = slotDir(slot);
  const kubeconfig = join(dir, 'kubeconfig');
  const owner = Number(await readFile(join(dir, 'owner.pid'), 'utf8').catch(() => ''));
  const exists = await readFile(kubeconfig, 'utf8').then(
    () => true,
    () => false,
  );
  const topology = pairTopology(slot);
  const clusters: DevStatus['clusters'] = [];
  for (const n of CLUSTER_NAMES) {
    const context = topology.clusters[n].context;
    if (!exists) {
      clusters.push({ context, reachable: false, error: 'not started (run `multicluster dev up`)' });
      continue;
    }
    try {
      const core = loadKubeConfig({ kubeconfig, context }).makeApiClient(CoreV1Api);
      const ns = await core.listNamespace();
      clusters.push({ context, reachable: true, namespaces: ns.items.length });
    } catch (err) {
      clusters.push({ context, reachable: false, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return {
    kubeconfig: exists ? kubeconfig : undefined,
    agentAlive: Number.isInteger(owner) && owner > 0 && isAlive(owner),
    podToPod: exists ? await isPodToPod(topology).catch(() => undefined) : undefined,
    clusters,
  };
}
