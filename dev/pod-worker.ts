// One Pod the dev agent runs: its sandbox (an IP, a network namespace, volume directories),
// its containers, its status, and its end. A deleted Pod's containers get the grace period
// (SIGTERM, then SIGKILL), then the agent confirms the deletion with grace 0, as the kubelet
// does; only then does the API server remove the object.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CoreV1Api, V1Container, V1Pod } from '@kubernetes/client-node';
import { isNotFound, mergePatch } from '../kube/client.ts';
import type { EventRecorder } from '../kube/event-recorder.ts';
import { errorMessage, type Logger } from '../log/logger.ts';
import { podResolvConf } from './cluster-dns.ts';
import { API_SERVER_PORT } from './control-plane.ts';
import { ContainerRunner, type ContainerHost } from './container-runner.ts';
import { ContainerConfigError, NotRunnableError, resolveEnv, type DataLookup } from './container-spec.ts';
import type { VolumeMountPlan } from './pod-mounts.ts';
import { podStatus } from './pod-status.ts';
import { PodVolumes } from './pod-volumes.ts';
import { createPodNetns, deletePodNetns, type PodInterface } from './pod-network.ts';
import type { ClusterAddressing, PairTopology, PodIpAllocator } from './topology.ts';

const VOLUME_REFRESH_MS = 10_000;
const SETUP_RETRY_MS = 2000;
/** Linkerd's gateway port name: such pods get an address the other cluster reaches in gateway-only mode. */
const GATEWAY_PORT_NAME = 'mc-gateway';

export interface PodWorkerDeps {
  core: CoreV1Api;
  data: DataLookup;
  events: EventRecorder;
  log: Logger;
  topology: PairTopology;
  cluster: ClusterAddressing;
  alloc: PodIpAllocator;
  /** Parent of the per-pod state directories. */
  podsDir: string;
}

export class PodWorker {
  #pod: V1Pod;
  #net?: PodInterface;
  #volumes?: PodVolumes;
  #containers: ContainerRunner[] = [];
  #startTime = new Date();
  #sandboxReady = false;
  #starting?: Promise<void>;
  #stopping?: Promise<void>;
  #statusDirty = false;
  #statusWriting?: Promise<void>;
  #lastStatus = '';
  #refreshTimer?: NodeJS.Timeout;
  #refreshing?: Promise<void>;
  readonly #log: Logger;
  readonly dir: string;

  constructor(
    private readonly deps: PodWorkerDeps,
    pod: V1Pod,
  ) {
    this.#pod = pod;
    this.#log = deps.log.with({ object: `${this.namespace}/${this.name}` });
    this.dir = join(deps.podsDir, `${this.namespace}_${this.name}_${(pod.metadata?.uid ?? '').slice(0, 8)}`);
  }

  get name(): string {
    return this.#pod.metadata?.name ?? '';
  }
  get namespace(): string {
    return this.#pod.metadata?.namespace ?? 'default';
  }
  get uid(): string {
    return this.#pod.metadata?.uid ?? '';
  }
  get ip(): string | undefined {
    return this.#net?.ip;
  }
  get netns(): string | undefined {
    return this.#net?.netns;
  }
  /** Process ids of the running containers, by container name. */
  pids(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.#containers) {
      const pid = c.view().pid;
      if (pid !== undefined) out[c.spec.name] = pid;
    }
    return out;
  }

  update(pod: V1Pod): void {
    this.#pod = pod;
  }

  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    const gateway = this.#pod.spec?.containers.some((c) => c.ports?.some((p) => p.name === GATEWAY_PORT_NAME)) ?? false;
    const ip = this.deps.alloc.allocate(gateway);
    this.#net = await createPodNetns(this.deps.topology, this.deps.cluster.name, this.deps.alloc.nextSandboxIndex(), ip);
    this.#volumes = new PodVolumes(this.deps.core, this.deps.data, this.#pod, join(this.dir, 'volumes'));
    await mkdir(this.dir, { recursive: true });
    await writeFile(this.#resolvConf, podResolvConf(this.deps.cluster, this.namespace));
    this.#markDirty();
    while (!this.#stopping) {
      try {
        await this.#volumes.prepare();
        break;
      } catch (err) {
        if (!(err instanceof ContainerConfigError || err instanceof NotRunnableError))
          this.#log.warn('volume setup failed', { reason: errorMessage(err) });
        this.event('Warning', 'FailedMount', errorMessage(err));
        await new Promise((r) => setTimeout(r, SETUP_RETRY_MS));
      }
    }
    if (this.#stopping) return;
    this.#sandboxReady = true;
    const host = this.#host();
    this.#containers = (this.#pod.spec?.containers ?? []).map((c) => new ContainerRunner(c, host));
    for (const c of this.#containers) c.start();
    this.#markDirty();
    const refresh = () => {
      this.#refreshing = this.#volumes
        ?.refresh()
        .catch((err: unknown) => this.#log.debug('volume refresh failed', { reason: errorMessage(err) }))
        .finally(() => {
          if (!this.#stopping) this.#refreshTimer = setTimeout(refresh, VOLUME_REFRESH_MS);
        });
    };
    this.#refreshTimer = setTimeout(refresh, VOLUME_REFRESH_MS);
  }

  /** Stops the containers with the grace period and removes the sandbox; `confirm` then deletes the Pod object. */
  stop(graceMs: number, confirm: boolean): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#starting?.catch(() => {});
      clearTimeout(this.#refreshTimer);
      await this.#refreshing;
      await Promise.all(this.#containers.map((c) => c.stop(graceMs)));
      await this.#statusWriting;
      if (this.#net) await deletePodNetns(this.#net);
      await rm(this.dir, { recursive: true, force: true });
      if (confirm) {
        try {
          await this.deps.core.deleteNamespacedPod({
            name: this.name,
            namespace: this.namespace,
            gracePeriodSeconds: 0,
            body: { gracePeriodSeconds: 0, preconditions: { uid: this.uid } },
          });
        } catch (err) {
          if (!isNotFound(err) && !/precondition|409/i.test(errorMessage(err))) throw err;
        }
      }
      this.#log.info('pod stopped', { confirmed: confirm });
    })();
    return this.#stopping;
  }

  event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    void this.deps.events.record({ apiVersion: 'v1', kind: 'Pod', name: this.name, namespace: this.namespace, uid: this.uid }, type, reason, message);
  }

  #host(): ContainerHost {
    const cluster = this.deps.cluster;
    const pod = () => this.#pod;
    const net = () => this.#net;
    return {
      get pod() {
        return pod();
      },
      get podIp() {
        return net()?.ip ?? '';
      },
      get netns() {
        return net()?.netns ?? '';
      },
      dir: this.dir,
      log: this.#log,
      mounts: (c) => this.#mounts(c),
      env: (c) => {
        const pod = { ...this.#pod, status: { ...this.#pod.status, podIP: this.ip, podIPs: [{ ip: this.ip ?? '' }], hostIP: cluster.apiServerIp } };
        // No kube-proxy: the Service address of `kubernetes` leads nowhere, the API server's own address does.
        const base = {
          PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
          HOME: '/',
          HOSTNAME: (pod.spec?.hostname ?? this.name).slice(0, 63),
          KUBERNETES_SERVICE_HOST: cluster.apiServerIp,
          KUBERNETES_SERVICE_PORT: String(API_SERVER_PORT),
          KUBERNETES_SERVICE_PORT_HTTPS: String(API_SERVER_PORT),
          KUBERNETES_PORT: `tcp://${cluster.apiServerIp}:${API_SERVER_PORT}`,
        };
        return resolveEnv(pod, c, this.deps.data, base);
      },
      changed: () => this.#markDirty(),
      event: (type, reason, message) => this.event(type, reason, message),
    };
  }

  #mounts(c: V1Container): VolumeMountPlan[] {
    const volumes = new Map((this.#pod.spec?.volumes ?? []).map((v) => [v.name, v]));
    const policy = this.#pod.spec?.dnsPolicy ?? 'ClusterFirst';
    // ClusterFirst: the pod resolves Service names through the harness's cluster DNS.
    const dns: VolumeMountPlan[] =
      policy === 'ClusterFirst' ? [{ target: '/etc/resolv.conf', source: this.#resolvConf, readOnly: true, writable: false, file: true }] : [];
    return [
      ...dns,
      ...(c.volumeMounts ?? []).map((m) => {
        const v = volumes.get(m.name);
        if (!v) throw new NotRunnableError(`volumeMount "${m.name}" names no volume of the Pod`);
        if (m.subPath || m.subPathExpr) throw new NotRunnableError(`volumeMount "${m.name}": subPath is not supported by the dev agent`);
        const writable = v.emptyDir !== undefined;
        return { target: m.mountPath, source: this.#volumes?.dirFor(m.name) ?? '', readOnly: !writable || (m.readOnly ?? false), writable };
      }),
    ];
  }

  get #resolvConf(): string {
    return join(this.dir, 'resolv.conf');
  }

  #markDirty(): void {
    this.#statusDirty = true;
    if (this.#statusWriting) return;
    this.#statusWriting = (async () => {
      // Coalesce bursts (a start marks several changes at once) into one write.
      await new Promise((r) => setTimeout(r, 50));
      while (this.#statusDirty) {
        this.#statusDirty = false;
        await this.#writeStatus().catch((err: unknown) => {
          if (!isNotFound(err)) this.#log.warn('pod status write failed', { reason: errorMessage(err) });
        });
      }
    })().finally(() => (this.#statusWriting = undefined));
  }

  async #writeStatus(): Promise<void> {
    if (!this.#net) return;
    const status = podStatus({
      pod: this.#pod,
      podIp: this.#net.ip,
      hostIp: this.deps.cluster.apiServerIp,
      startTime: this.#startTime,
      containers: this.#containers.map((c) => c.view()),
      sandboxReady: this.#sandboxReady,
      now: new Date(),
    });
    const signature = JSON.stringify({ ...status, conditions: status.conditions?.map((c) => [c.type, c.status]) });
    if (signature === this.#lastStatus) return;
    await this.deps.core.patchNamespacedPodStatus({ name: this.name, namespace: this.namespace, body: { status } }, mergePatch);
    this.#lastStatus = signature;
  }
}
