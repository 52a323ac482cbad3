// The harness's stand-in for a kubelet: it creates the Pod object, starts a real process
// listening at the pod IP inside the pod's network namespace, and reports the pod Running
// and Ready, after which the real endpoints controllers publish it.
import { connect } from 'node:net';
import { CoreV1Api, type KubeConfig, type V1OwnerReference } from '@kubernetes/client-node';
import { isNotFound, mergePatch } from '../kube/client.ts';
import { run } from './exec.ts';
import { ManagedProcess, waitFor } from './managed-process.ts';
import { createPodNetns, deletePodNetns, type PodInterface } from './pod-network.ts';
import { PodIpAllocator, nodeName, type ClusterAddressing, type PairTopology } from './topology.ts';

/** The image name of pods this runner starts; the pod agent leaves them alone. */
export const HARNESS_IMAGE = 'multicluster-harness/process';

export interface PodSpec {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  serviceAccountName?: string;
  /** The workload: argv of a real process, run inside the pod's network namespace. */
  command: readonly string[];
  env?: Record<string, string>;
  ports?: Array<{ name?: string; containerPort: number; protocol?: 'TCP' | 'UDP' }>;
  /** Give the pod an address from the gateway range, reachable from the other cluster in gateway-only mode. */
  gatewayAddress?: boolean;
  /** Report Ready only once this TCP port accepts connections at the pod IP. */
  readinessPort?: number;
  hostname?: string;
  subdomain?: string;
  ownerReferences?: V1OwnerReference[];
}

export class RunningPod {
  constructor(
    readonly spec: PodSpec,
    readonly ip: string,
    readonly net: PodInterface,
    private proc: ManagedProcess,
    private readonly runner: PodRunner,
  ) {}

  get netns(): string {
    return this.net.netns;
  }

  get process(): ManagedProcess {
    return this.proc;
  }

  /** Runs a command inside the pod's network namespace (e.g. a client fetch). */
  exec(command: string, args: readonly string[]): Promise<string> {
    return run('ip', ['netns', 'exec', this.net.netns, command, ...args]);
  }

  /** Kills the workload process but leaves the Pod object and its network (a crash). */
  async kill(): Promise<void> {
    await this.proc.kill();
  }

  /** Starts the workload again after `kill`, in the same network namespace. */
  async restart(): Promise<void> {
    this.proc = await this.runner.spawnWorkload(this.spec, this.net);
    if (this.spec.readinessPort !== undefined) await waitForPort(this.ip, this.spec.readinessPort);
  }

  async setReady(ready: boolean): Promise<void> {
    await this.runner.patchStatus(this.spec, this.ip, ready);
  }

  /** Stops the process, removes the network namespace and deletes the Pod object. */
  async delete(): Promise<void> {
    await this.runner.remove(this);
  }
}

export class PodRunner {
  readonly #core: CoreV1Api;
  readonly #alloc: PodIpAllocator;
  readonly #pods = new Set<RunningPod>();

  constructor(
    readonly topology: PairTopology,
    readonly cluster: ClusterAddressing,
    kubeConfig: KubeConfig,
    readonly stateDir: string,
    readonly detach: boolean,
    /** Shared with the pod agent, so the two never hand out one address or namespace twice. */
    alloc?: PodIpAllocator,
  ) {
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
    this.#alloc = alloc ?? new PodIpAllocator(cluster);
  }

  get nodeName(): string {
    return nodeName(this.cluster);
  }

  /** Registers the single Node that all harness pods run on. */
  async registerNode(): Promise<void> {
    const name = this.nodeName;
    try {
      await this.#core.createNode({
        body: {
          metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': `${this.cluster.name}-zone` } },
          spec: { podCIDR: this.cluster.podCidr, podCIDRs: [this.cluster.podCidr] },
        },
      });
    } catch (err) {
      if (!(err instanceof Error && /already exists|409/.test(err.message))) throw err;
    }
    await this.#core.patchNodeStatus(
      {
        name,
        body: {
          status: {
            conditions: [
              {
                type: 'Ready',
                status: 'True',
                reason: 'HarnessReady',
                message: 'pods are run by the multicluster dev harness',
                lastHeartbeatTime: new Date(),
                lastTransitionTime: new Date(),
              },
            ],
            addresses: [
              { type: 'InternalIP', address: this.cluster.apiServerIp },
              { type: 'Hostname', address: name },
            ],
          },
        },
      },
      mergePatch,
    );
  }

  async start(spec: PodSpec): Promise<RunningPod> {
    const ip = this.#alloc.allocate(spec.gatewayAddress ?? false);
    const net = await createPodNetns(this.topology, this.cluster.name, this.#alloc.nextSandboxIndex(), ip);
    await this.#core.createNamespacedPod({
      namespace: spec.namespace,
      body: {
        metadata: {
          name: spec.name,
          namespace: spec.namespace,
          labels: spec.labels,
          annotations: spec.annotations,
          ownerReferences: spec.ownerReferences,
        },
        spec: {
          nodeName: this.nodeName,
          serviceAccountName: spec.serviceAccountName,
          hostname: spec.hostname,
          subdomain: spec.subdomain,
          automountServiceAccountToken: false,
          containers: [
            {
              name: 'main',
              image: HARNESS_IMAGE,
              command: [...spec.command],
              ports: spec.ports?.map((p) => ({ ...p, protocol: p.protocol ?? 'TCP' })),
            },
          ],
        },
      },
    });
    const proc = await this.spawnWorkload(spec, net);
    const pod = new RunningPod(spec, ip, net, proc, this);
    this.#pods.add(pod);
    if (spec.readinessPort !== undefined) await waitForPort(ip, spec.readinessPort, proc);
    await this.patchStatus(spec, ip, true);
    return pod;
  }

  async spawnWorkload(spec: PodSpec, net: PodInterface): Promise<ManagedProcess> {
    const [command, ...args] = spec.command;
    if (!command) throw new Error(`pod ${spec.namespace}/${spec.name}: command is empty`);
    return ManagedProcess.start({
      name: `pod-${spec.namespace}-${spec.name}`,
      command: 'ip',
      args: ['netns', 'exec', net.netns, command, ...args],
      env: { ...process.env, ...spec.env, POD_IP: net.ip, POD_NAME: spec.name, POD_NAMESPACE: spec.namespace },
      stateDir: this.stateDir,
      detach: this.detach,
    });
  }

  async patchStatus(spec: PodSpec, ip: string, ready: boolean): Promise<void> {
    const now = new Date();
    const flag = ready ? 'True' : 'False';
    await this.#core.patchNamespacedPodStatus(
      {
        name: spec.name,
        namespace: spec.namespace,
        body: {
          status: {
            phase: 'Running',
            hostIP: this.cluster.apiServerIp,
            podIP: ip,
            podIPs: [{ ip }],
            startTime: now,
            conditions: [
              { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
              { type: 'Initialized', status: 'True', lastTransitionTime: now },
              { type: 'ContainersReady', status: flag, lastTransitionTime: now },
              { type: 'Ready', status: flag, lastTransitionTime: now },
            ],
            containerStatuses: [
              {
                name: 'main',
                ready,
                restartCount: 0,
                image: HARNESS_IMAGE,
                imageID: '',
                started: true,
                state: { running: { startedAt: now } },
              },
            ],
          },
        },
      },
      mergePatch,
    );
  }

  async remove(pod: RunningPod): Promise<void> {
    this.#pods.delete(pod);
    await pod.process.stop(2000);
    await deletePodNetns(pod.net);
    try {
      await this.#core.deleteNamespacedPod({ name: pod.spec.name, namespace: pod.spec.namespace, gracePeriodSeconds: 0 });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Stops every workload and removes its namespace; the Pod objects die with the cluster. */
  async stopAll(): Promise<void> {
    for (const pod of [...this.#pods]) {
      await pod.process.stop(2000);
      await deletePodNetns(pod.net);
    }
    this.#pods.clear();
  }

  list(): RunningPod[] {
    return [...this.#pods];
  }
}

async function waitForPort(ip: string, port: number, proc?: ManagedProcess): Promise<void> {
  await waitFor(
    `${ip}:${port} to accept connections`,
    async () => {
      if (proc && !proc.running) throw new Error(`workload exited with code ${proc.exitCode}:\n${await proc.lastLog()}`);
      return (await canConnect(ip, port)) ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100, onTimeout: async () => (proc ? proc.lastLog() : '') },
  );
}

export function canConnect(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: ip, port, timeout: 1000 });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(false));
  });
}
