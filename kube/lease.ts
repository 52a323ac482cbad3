// Leader election on a coordination.k8s.io Lease, with client-go's timing semantics: a
// holder renews every renewMs; others take over only after leaseMs without a renewal.
// Leadership that cannot be renewed within the lease is given up, and the caller told,
// so that two replicas never write at once.
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { apiErrorMessage, isConflict, isNotFound } from './client.ts';
import type { Logger } from '../log/logger.ts';

export interface LeaseOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  identity: string;
  leaseMs: number;
  renewMs: number;
  retryMs: number;
  log: Logger;
}

export class LeaderElector {
  readonly #api: CoordinationV1Api;
  #stopped = false;
  #leading = false;
  #timer?: NodeJS.Timeout;
  #lastRenew = 0;

  constructor(
    readonly opts: LeaseOptions,
    /** onStoppedLeading may return a promise: campaigning resumes (and the lease is released) only once it settles. */
    private readonly callbacks: { onStartedLeading: () => void; onStoppedLeading: () => void | Promise<void> },
  ) {
    this.#api = opts.kubeConfig.makeApiClient(CoordinationV1Api);
  }

  get leading(): boolean {
    return this.#leading;
  }

  start(): void {
    void this.#loop();
  }

  /** Stops campaigning; a leader releases the lease so a standby can take over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#leading) {
      this.#leading = false;
      await this.callbacks.onStoppedLeading();
      await this.#release().catch((err: unknown) =>
        this.opts.log.warn('lease not released; a standby takes over once it expires', {
          object: `${this.opts.namespace}/${this.opts.name}`,
          reason: apiErrorMessage(err),
        }),
      );
    }
  }

  async #loop(): Promise<void> {
    if (this.#stopped) return;
    let ok = false;
    try {
      ok = await this.#tryAcquireOrRenew();
    } catch (err) {
      this.opts.log.warn('lease update failed', { object: `${this.opts.namespace}/${this.opts.name}`, reason: apiErrorMessage(err) });
    }
    // stop() may have run while the request was in flight: a late success must not lead again.
    if (this.#stopped) return;
    const now = Date.now();
    if (ok) {
      this.#lastRenew = now;
      if (!this.#leading) {
        this.#leading = true;
        this.opts.log.info('became leader', { object: `${this.opts.namespace}/${this.opts.name}`, identity: this.opts.identity });
        this.callbacks.onStartedLeading();
      }
    } else if (this.#leading && now - this.#lastRenew > this.opts.leaseMs) {
      this.#leading = false;
      this.opts.log.warn('lost leadership', { object: `${this.opts.namespace}/${this.opts.name}`, identity: this.opts.identity });
      // Not a candidate again until the old term has fully stopped (its final writes included).
      await this.callbacks.onStoppedLeading();
    }
    if (!this.#stopped) this.#timer = setTimeout(() => void this.#loop(), this.#leading ? this.opts.renewMs : this.opts.retryMs);
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.opts;
    const leaseSeconds = Math.max(1, Math.round(this.opts.leaseMs / 1000));
    let lease: V1Lease;
    try {
      lease = await this.#api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await this.#api.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds: leaseSeconds,
              acquireTime: new V1MicroTime(),
              renewTime: new V1MicroTime(),
              leaseTransitions: 0,
            },
          },
        });
        return true;
      } catch (e) {
        if (isConflict(e)) return false;
        throw e;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity;
    const renewed = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
    const expired = Date.now() - renewed > (spec.leaseDurationSeconds ?? leaseSeconds) * 1000;
    if (holder && holder !== identity && !expired) return false;
    const takeover = holder !== identity;
    lease.spec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds: leaseSeconds,
      renewTime: new V1MicroTime(),
      acquireTime: takeover ? new V1MicroTime() : spec.acquireTime,
      leaseTransitions: (spec.leaseTransitions ?? 0) + (takeover && holder ? 1 : 0),
    };
    try {
      await this.#api.replaceNamespacedLease({ name, namespace, body: lease });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  async #release(): Promise<void> {
    const { namespace, name, identity } = this.opts;
    const lease = await this.#api.readNamespacedLease({ name, namespace });
    if (lease.spec?.holderIdentity !== identity) return;
    lease.spec = { ...lease.spec, holderIdentity: undefined, renewTime: undefined };
    await this.#api.replaceNamespacedLease({ name, namespace, body: lease });
  }
}
