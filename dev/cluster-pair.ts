// Two independent real Kubernetes control planes plus their pod networks: the environment
// every integration and e2e test runs on, and what `multicluster dev up` starts.
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from '../kube/client.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { ControlPlane, renderKubeconfig } from './control-plane.ts';
import { ensureKubeBinaries, type KubeBinaries } from './kube-binaries.ts';
import { ClusterDns } from './cluster-dns.ts';
import { LoadBalancerController } from './load-balancer.ts';
import { killMarked, slotDir, stateRoot } from './harness-marker.ts';
import { isAlive, killRecordedProcesses, waitFor } from './managed-process.ts';
import { createPairNetwork, destroyPairNetwork, isPodToPod, setPodToPod } from './pod-network.ts';
import { PodAgent } from './pod-agent.ts';
import { PodRunner } from './pod-runner.ts';
import {
  CLUSTER_NAMES,
  MAX_SLOT,
  PodIpAllocator,
  nodeName,
  pairTopology,
  type ClusterAddressing,
  type ClusterName,
  type PairTopology,
} from './topology.ts';

export { slotDir, stateRoot };

export interface DevCluster {
  name: ClusterName;
  context: string;
  addressing: ClusterAddressing;
  controlPlane: ControlPlane;
  kubeConfig: KubeConfig;
  /** Starts harness processes as pods (tests' own workloads). */
  pods: PodRunner;
  /** The kubelet for the project's image (Deployments from `install` and `link`), when this process runs it. */
  agent?: PodAgent;
  /** Shared by the PodRunner and the agent: pod addresses and sandbox numbers. */
  alloc: PodIpAllocator;
}

export interface StartOptions {
  /** 0 is `dev up`'s pair (book CIDRs); omitted picks the first free test slot. */
  slot?: number;
  podToPod?: boolean;
  /** Run the LoadBalancer controllers in this process (tests); dev up runs them in its agent. */
  loadBalancers?: boolean;
  /**
   * Run the pod agents (the kubelet for the project's image) in this process. Off by default
   * while test fixtures start stand-in gateways beside the installed gateway Deployment; dev up
   * always runs them, in its agent process.
   */
  podAgents?: boolean;
  /** Serve the cluster DNS stand-in from this process (default; dev up serves it from its agent). */
  clusterDns?: boolean;
  /** Leave the processes running after this process exits (dev up). */
  detach?: boolean;
  progress?: (msg: string) => void;
  log?: Logger;
}

export class ClusterPair {
  readonly #lbs: LoadBalancerController[] = [];
  readonly #dns: ClusterDns[] = [];

  private constructor(
    readonly topology: PairTopology,
    readonly stateDir: string,
    readonly binaries: KubeBinaries,
    readonly clusters: Record<ClusterName, DevCluster>,
    readonly kubeconfigPath: string,
  ) {}

  get cluster1(): DevCluster {
    return this.clusters.cluster1;
  }

  get cluster2(): DevCluster {
    return this.clusters.cluster2;
  }

  static async start(opts: StartOptions = {}): Promise<ClusterPair> {
    const progress = opts.progress ?? (() => {});
    const log = opts.log ?? createLogger({ level: 'warn' });
    const binaries = await ensureKubeBinaries(progress);
    await cleanStalePairs();
    const slot = opts.slot ?? (await claimTestSlot());
    if (opts.slot !== undefined) await claimSlot(opts.slot);
    const topology = pairTopology(slot);
    const stateDir = slotDir(slot);
    try {
      progress('creating pod networks');
      await destroyPairNetwork(topology);
      await createPairNetwork(topology);
      if (opts.podToPod) await setPodToPod(topology, true);
      const planes = CLUSTER_NAMES.map((n) => new ControlPlane(topology.clusters[n], join(stateDir, n), binaries, opts.detach ?? false));
      await Promise.all(planes.map((p) => p.start(progress)));
      const kubeconfigPath = join(stateDir, 'kubeconfig');
      await writeFile(
        kubeconfigPath,
        renderKubeconfig(
          planes.map((p) => ({ context: p.cluster.context, cluster: p.cluster.name, creds: p.credentials })),
          topology.clusters.cluster1.context,
        ),
        { mode: 0o600 },
      );
      const clusters = {} as Record<ClusterName, DevCluster>;
      for (const plane of planes) {
        const kubeConfig = loadKubeConfig({ kubeconfig: kubeconfigPath, context: plane.cluster.context });
        const alloc = new PodIpAllocator(plane.cluster);
        const pods = new PodRunner(topology, plane.cluster, kubeConfig, join(stateDir, plane.cluster.name, 'pods'), opts.detach ?? false, alloc);
        clusters[plane.cluster.name] = {
          name: plane.cluster.name,
          context: plane.cluster.context,
          addressing: plane.cluster,
          controlPlane: plane,
          kubeConfig,
          pods,
          alloc,
        };
      }
      const pair = new ClusterPair(topology, stateDir, binaries, clusters, kubeconfigPath);
      progress('waiting for controllers (default ServiceAccount)');
      await Promise.all(Object.values(clusters).map((c) => waitForDefaultServiceAccount(c)));
      await Promise.all(Object.values(clusters).map((c) => c.pods.registerNode()));
      if (opts.loadBalancers ?? true) pair.startLoadBalancers(log);
      if (opts.clusterDns ?? true) await pair.startClusterDns(log);
      if (opts.podAgents ?? false) await pair.startPodAgents(log);
      return pair;
    } catch (err) {
      await destroySlot(slot);
      throw err;
    }
  }

  startLoadBalancers(log: Logger): void {
    for (const c of Object.values(this.clusters)) {
      const lb = new LoadBalancerController(c.addressing, c.kubeConfig, log);
      lb.start();
      this.#lbs.push(lb);
    }
  }

  async startClusterDns(log: Logger): Promise<void> {
    for (const c of Object.values(this.clusters)) {
      const dns = new ClusterDns(c.addressing, c.kubeConfig, log);
      await dns.start();
      this.#dns.push(dns);
    }
  }

  async startPodAgents(log: Logger): Promise<void> {
    for (const c of Object.values(this.clusters)) {
      c.agent = new PodAgent({
        topology: this.topology,
        cluster: c.addressing,
        kubeConfig: c.kubeConfig,
        nodeName: nodeName(c.addressing),
        alloc: c.alloc,
        stateDir: join(this.stateDir, c.name),
        log,
      });
      c.agent.start();
    }
    await Promise.all(Object.values(this.clusters).flatMap((c) => (c.agent ? [c.agent.synced()] : [])));
  }

  setPodToPod(enabled: boolean): Promise<void> {
    return setPodToPod(this.topology, enabled);
  }

  isPodToPod(): Promise<boolean> {
    return isPodToPod(this.topology);
  }

  /** Stops everything and removes every trace: processes, namespaces, links, routes, files. */
  async stop(): Promise<void> {
    await Promise.all(this.#lbs.map((lb) => lb.stop()));
    await Promise.all(this.#dns.map((d) => d.stop()));
    await Promise.all(Object.values(this.clusters).flatMap((c) => (c.agent ? [c.agent.stop()] : [])));
    for (const c of Object.values(this.clusters)) await c.pods.stopAll();
    await Promise.all(Object.values(this.clusters).map((c) => c.controlPlane.stop()));
    await destroySlot(this.topology.slot);
  }
}

async function waitForDefaultServiceAccount(c: DevCluster): Promise<void> {
  const core = c.kubeConfig.makeApiClient(CoreV1Api);
  await waitFor(
    `${c.name}: ServiceAccount default/default (kube-controller-manager running)`,
    async () => {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
      return true;
    },
    {
      timeoutMs: 60_000,
      intervalMs: 250,
      onTimeout: async () =>
        (await c.controlPlane
          .processes()
          .find((p) => p.spec.name === 'kube-controller-manager')
          ?.lastLog()) ?? '',
    },
  );
}

const OWNER_FILE = 'owner.pid';

/** Records this process as the slot's owner; the slot is stale once the owner is dead. */
export async function setSlotOwner(slot: number, pid: number): Promise<void> {
  await writeFile(join(slotDir(slot), OWNER_FILE), `${pid}\n`);
}

async function slotOwner(slot: number): Promise<number | undefined> {
  const text = await readFile(join(slotDir(slot), OWNER_FILE), 'utf8').catch(() => undefined);
  const pid = Number(text);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

async function claimSlot(slot: number): Promise<void> {
  await mkdir(stateRoot(), { recursive: true });
  try {
    await mkdir(slotDir(slot));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const owner = await slotOwner(slot);
    // No owner file yet: another process may be between its mkdir and writing its pid.
    if (owner === undefined && (await isYoung(slotDir(slot)))) throw new Error(`cluster pair slot ${slot} is being claimed by another process`);
    if (owner !== undefined && isAlive(owner)) {
      throw new Error(
        `cluster pair slot ${slot} is in use by process ${owner}${slot === 0 ? ': the dev clusters are already up (run `multicluster dev down` first)' : ''}`,
      );
    }
    await destroySlot(slot);
    await mkdir(slotDir(slot));
  }
  await setSlotOwner(slot, process.pid);
}

async function claimTestSlot(): Promise<number> {
  for (let slot = 1; slot <= MAX_SLOT; slot++) {
    try {
      await claimSlot(slot);
      return slot;
    } catch {
      // In use; try the next.
    }
  }
  throw new Error(`all ${MAX_SLOT} test cluster-pair slots are in use under ${stateRoot()}`);
}

/** Kills, unplugs and deletes everything recorded for `slot`, and every process carrying its marker. */
export async function destroySlot(slot: number): Promise<void> {
  const dir = slotDir(slot);
  for (const sub of await listDirsRecursive(dir)) await killRecordedProcesses(sub);
  await killMarked((s) => s === slot);
  await destroyPairNetwork(pairTopology(slot));
  await rm(dir, { recursive: true, force: true });
}

/**
 * Removes pairs whose owning process died (a crashed test run or a killed dev agent), and
 * marked processes of slots that no longer exist (a run killed after removing its state).
 */
export async function cleanStalePairs(): Promise<number[]> {
  const cleaned: number[] = [];
  const live = new Set<number>();
  const entries = await readdir(stateRoot()).catch(() => [] as string[]);
  for (const e of entries) {
    const m = /^slot-(\d+)$/.exec(e);
    if (!m) continue;
    const slot = Number(m[1]);
    const owner = await slotOwner(slot);
    // A slot without an owner file may be mid-claim by another process; give it a moment.
    const young = owner === undefined && (await isYoung(join(stateRoot(), e)));
    if (!young && (owner === undefined || !isAlive(owner))) {
      await destroySlot(slot);
      cleaned.push(slot);
    } else live.add(slot);
  }
  // A slot directory is created before any of its processes starts and removed after they
  // were killed, so a marked process of a slot without a directory is an orphan.
  const orphans = await killMarked((slot) => !live.has(slot) && !cleaned.includes(slot) && !existsSync(slotDir(slot)));
  if (orphans.length > 0) createLogger({ level: 'warn' }).warn('killed orphaned harness processes', { pids: orphans.join(',') });
  return cleaned;
}

/** Created within the last 30 s: time enough for a claimer to write its owner file. */
async function isYoung(dir: string): Promise<boolean> {
  return Date.now() - (await stat(dir).catch(() => ({ mtimeMs: 0 }))).mtimeMs < 30_000;
}

async function listDirsRecursive(dir: string): Promise<string[]> {
  const out = [dir];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) out.push(...(await listDirsRecursive(join(dir, e.name))));
  return out;
}
