// What the benchmark sees of the local cluster: a label-selected watch (through the
// project's Reflector) on the mirror Services and Endpoints of one namespace, kept as two
// sets, with waiters that are checked on every event and resolve with the time of the
// event that satisfied them. No polling, so a latency is "write → watch event here".
import { CoreV1Api, type KubeConfig, type V1Endpoints, type V1Service } from '@kubernetes/client-node';
import { Reflector, type ReflectorEvent } from '../kube/reflector.ts';
import { Labels } from '../model/linkerd-names.ts';

interface Waiter {
  check: () => boolean;
  resolve: (at: number) => void;
}

export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
}

export class MirrorWatch {
  /** Names of the mirror Services present. */
  readonly services = new Set<string>();
  /** Names of the mirror Endpoints whose ready addresses include the gateway. */
  readonly readyEndpoints = new Set<string>();
  /** performance.now() of the first mirror Service event, if any. */
  firstServiceAt?: number;
  readonly #services: Reflector<V1Service>;
  readonly #endpoints: Reflector<V1Endpoints>;
  readonly #waiters = new Set<Waiter>();
  readonly #gatewayIp: string;

  constructor(kubeConfig: KubeConfig, namespace: string, cluster: string, gatewayIp: string) {
    this.#gatewayIp = gatewayIp;
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const labelSelector = `${Labels.mirroredService}=true,${Labels.clusterName}=${cluster}`;
    this.#services = new Reflector<V1Service>({
      kubeConfig,
      path: `/api/v1/namespaces/${namespace}/services`,
      labelSelector,
      list: (q) => core.listNamespacedService({ namespace, ...q }),
      onEvent: (e) => this.#onService(e),
    });
    this.#endpoints = new Reflector<V1Endpoints>({
      kubeConfig,
      path: `/api/v1/namespaces/${namespace}/endpoints`,
      labelSelector,
      list: (q) => core.listNamespacedEndpoints({ namespace, ...q }),
      onEvent: (e) => this.#onEndpoints(e),
    });
  }

  async start(): Promise<void> {
    this.#services.start();
    this.#endpoints.start();
    await Promise.all([this.#services.listed(), this.#endpoints.listed()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.#services.stop(), this.#endpoints.stop()]);
  }

  /**
   * Resolves with the performance.now() of the event after which `check` holds (or now, if
   * it already does); rejects with WaitTimeoutError after `timeoutMs`.
   */
  until(what: string, check: () => boolean, timeoutMs: number): Promise<number> {
    if (check()) return Promise.resolve(performance.now());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new WaitTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const waiter: Waiter = {
        check,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      };
      this.#waiters.add(waiter);
    });
  }

  #onService(e: ReflectorEvent<V1Service>): void {
    const at = performance.now();
    if (e.type === 'added' || e.type === 'updated') {
      this.services.add(e.object.metadata?.name ?? '');
      this.firstServiceAt ??= at;
    } else if (e.type === 'deleted') {
      this.services.delete(e.object.metadata?.name ?? '');
    }
    this.#settle(at);
  }

  #onEndpoints(e: ReflectorEvent<V1Endpoints>): void {
    const at = performance.now();
    if (e.type === 'added' || e.type === 'updated' || e.type === 'deleted') {
      const name = e.object.metadata?.name ?? '';
      const ready = e.type !== 'deleted' && (e.object.subsets ?? []).some((s) => (s.addresses ?? []).some((a) => a.ip === this.#gatewayIp));
      if (ready) this.readyEndpoints.add(name);
      else this.readyEndpoints.delete(name);
    }
    this.#settle(at);
  }

  #settle(at: number): void {
    for (const w of this.#waiters) {
      if (w.check()) {
        this.#waiters.delete(w);
        w.resolve(at);
      }
    }
  }
}
