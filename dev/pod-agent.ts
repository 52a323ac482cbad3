// The dev clusters' kubelet for the project's own image. It watches every Pod and:
// - binds unscheduled Pods it can run to its Node: no kube-scheduler runs in the dev
//   clusters, so the agent is also a trivial scheduler for the single Node;
// - runs the Pods on its Node (PodWorker): the `multicluster` binary of the checkout at the
//   Pod's IP, with env, volumes, probes and restarts, and reports their status;
// - stops a deleted Pod's containers with its grace period and confirms the deletion;
// - leaves Pods of any other image Pending, with an `ImageNotRunnable` Event saying why.
// Pods the harness's PodRunner creates (HARNESS_IMAGE) are run by the PodRunner, not here.
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { isNotFound, mergePatch } from '../kube/client.ts';
import { EventRecorder } from '../kube/event-recorder.ts';
import { Reflector } from '../kube/reflector.ts';
import { errorMessage, type Logger } from '../log/logger.ts';
import { unrunnableReason } from './container-spec.ts';
import { HARNESS_IMAGE } from './pod-runner.ts';
import { apiLookup } from './pod-volumes.ts';
import { PodWorker } from './pod-worker.ts';
import type { ClusterAddressing, PairTopology, PodIpAllocator } from './topology.ts';

export interface PodAgentOptions {
  topology: PairTopology;
  cluster: ClusterAddressing;
  kubeConfig: KubeConfig;
  nodeName: string;
  alloc: PodIpAllocator;
  /** Per-pod state (logs, pid files, volume contents) goes under this directory. */
  stateDir: string;
  log: Logger;
  /** Images run besides the project's own repository (any tag). */
  extraImages?: readonly string[];
}

/** Grace for the containers when the agent itself stops (pair teardown): the cluster goes too. */
const SHUTDOWN_GRACE_MS = 2000;

export class PodAgent {
  readonly #core: CoreV1Api;
  readonly #reflector: Reflector<V1Pod>;
  readonly #workers = new Map<string, PodWorker>();
  readonly #queues = new Map<string, Promise<void>>();
  readonly #reported = new Set<string>();
  readonly #events: EventRecorder;
  readonly #log: Logger;
  #stopped = false;

  constructor(readonly opts: PodAgentOptions) {
    this.#core = opts.kubeConfig.makeApiClient(CoreV1Api);
    this.#log = opts.log.with({ component: 'pod-agent', cluster: opts.cluster.name });
    this.#events = new EventRecorder(opts.kubeConfig, 'dev-pod-agent', this.#log);
    this.#reflector = new Reflector<V1Pod>({
      kubeConfig: opts.kubeConfig,
      path: '/api/v1/pods',
      list: (q) => this.#core.listPodForAllNamespaces(q),
      onEvent: (e) => {
        if (e.type === 'added' || e.type === 'updated') this.#enqueue(e.object, false);
        else if (e.type === 'deleted') this.#enqueue(e.object, true);
      },
    });
  }

  start(): void {
    this.#reflector.start();
  }

  /** Resolves once the agent has seen every existing Pod. */
  synced(): Promise<void> {
    return this.#reflector.listed();
  }

  /** The worker running a Pod, for tests that look at its processes. */
  worker(namespace: string, name: string): PodWorker | undefined {
    return this.#workers.get(`${namespace}/${name}`);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#reflector.stop();
    await Promise.all([...this.#queues.values()]);
    await Promise.all([...this.#workers.values()].map((w) => w.stop(SHUTDOWN_GRACE_MS, false)));
    this.#workers.clear();
  }

  #enqueue(pod: V1Pod, gone: boolean): void {
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    const prev = this.#queues.get(key) ?? Promise.resolve();
    const next = prev
      .then(() => (this.#stopped ? undefined : this.#sync(key, pod, gone)))
      .catch((err: unknown) => this.#log.warn('pod sync failed', { object: key, reason: errorMessage(err) }))
      .finally(() => {
        if (this.#queues.get(key) === next) this.#queues.delete(key);
      });
    this.#queues.set(key, next);
  }

  async #sync(key: string, pod: V1Pod, gone: boolean): Promise<void> {
    const spec = pod.spec;
    const uid = pod.metadata?.uid ?? '';
    if (!spec || spec.containers.some((c) => c.image === HARNESS_IMAGE)) return;
    const current = this.#workers.get(key);
    if (current && (gone || current.uid !== uid)) {
      // Removed without us (grace 0, or a replacement under the same name): stop what ran.
      this.#workers.delete(key);
      await current.stop(gone ? 0 : SHUTDOWN_GRACE_MS, false);
    }
    if (gone) {
      this.#reported.delete(uid);
      return;
    }
    if (!spec.nodeName) {
      await this.#schedule(pod);
      return;
    }
    if (spec.nodeName !== this.opts.nodeName) return;
    const worker = this.#workers.get(key);
    if (pod.metadata?.deletionTimestamp) {
      const graceMs = (pod.metadata.deletionGracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30) * 1000;
      if (worker) {
        this.#workers.delete(key);
        await worker.stop(graceMs, true);
      } else await this.#confirmDeletion(pod);
      return;
    }
    if (worker) {
      worker.update(pod);
      return;
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    const reason = unrunnableReason(pod, this.opts.extraImages);
    if (reason) {
      await this.#reportUnrunnable(pod, reason, true);
      return;
    }
    const w = new PodWorker(
      {
        core: this.#core,
        data: apiLookup(this.#core),
        events: this.#events,
        log: this.#log,
        topology: this.opts.topology,
        cluster: this.opts.cluster,
        alloc: this.opts.alloc,
        podsDir: join(this.opts.stateDir, 'pods'),
      },
      pod,
    );
    this.#workers.set(key, w);
    this.#log.info('starting pod', { object: key });
    // Not awaited: a pod waiting for a missing Secret must not hold up its own deletion.
    void w.start().catch((err: unknown) => {
      this.#log.warn('pod start failed', { object: key, reason: errorMessage(err) });
      w.event('Warning', 'FailedCreatePodSandBox', errorMessage(err));
    });
  }

  async #schedule(pod: V1Pod): Promise<void> {
    const name = pod.metadata?.name ?? '';
    const namespace = pod.metadata?.namespace ?? 'default';
    if (pod.metadata?.deletionTimestamp) return;
    if ((pod.spec?.schedulerName ?? 'default-scheduler') !== 'default-scheduler') return;
    const reason = unrunnableReason(pod, this.opts.extraImages);
    if (reason) {
      await this.#reportUnrunnable(pod, reason, false);
      return;
    }
    try {
      await this.#core.createNamespacedPodBinding({
        name,
        namespace,
        body: { metadata: { name, namespace, uid: pod.metadata?.uid }, target: { apiVersion: 'v1', kind: 'Node', name: this.opts.nodeName } },
      });
      this.#event(pod, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${this.opts.nodeName}`);
    } catch (err) {
      // Already bound (a repeated event) or gone: the watch brings the outcome either way.
      if (!isNotFound(err) && !/409|already/i.test(errorMessage(err))) throw err;
    }
  }

  /** An Event and a Pending status that say why, once per Pod. */
  async #reportUnrunnable(pod: V1Pod, reason: string, bound: boolean): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    if (this.#reported.has(uid)) return;
    this.#reported.add(uid);
    this.#log.info('pod not runnable', { object: `${pod.metadata?.namespace}/${pod.metadata?.name}`, reason });
    this.#event(pod, 'Warning', 'ImageNotRunnable', reason);
    const now = new Date();
    const status = bound
      ? {
          phase: 'Pending',
          conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: now }],
          containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
            name: c.name,
            image: c.image ?? '',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: 'ImageNotRunnable', message: reason } },
          })),
        }
      : {
          phase: 'Pending',
          conditions: [{ type: 'PodScheduled', status: 'False', reason: 'ImageNotRunnable', message: reason, lastTransitionTime: now }],
        };
    try {
      await this.#core.patchNamespacedPodStatus(
        { name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? '', body: { status } },
        mergePatch,
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async #confirmDeletion(pod: V1Pod): Promise<void> {
    try {
      await this.#core.deleteNamespacedPod({
        name: pod.metadata?.name ?? '',
        namespace: pod.metadata?.namespace ?? '',
        gracePeriodSeconds: 0,
        body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid } },
      });
    } catch (err) {
      if (!isNotFound(err) && !/precondition|409/i.test(errorMessage(err))) throw err;
    }
  }

  #event(pod: V1Pod, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const m = pod.metadata ?? {};
    void this.#events.record({ apiVersion: 'v1', kind: 'Pod', name: m.name ?? '', namespace: m.namespace ?? '', uid: m.uid }, type, reason, message);
  }
}
