// Power-of-two-choices over peak-EWMA latency (Linkerd's default balancer), with failing
// endpoints ejected for a while. Pure: the clock and the random source are injected.

export interface Endpoint {
  ip: string;
  port: number;
}

export interface BalancerOptions {
  /** EWMA decay time constant (Linkerd: 10 s). */
  decayMs?: number;
  /** Cost assumed for an endpoint without samples (Linkerd: 30 ms default RTT). */
  defaultRttMs?: number;
  /** Consecutive failures that eject an endpoint. */
  failuresToEject?: number;
  /** How long an ejected endpoint is skipped. */
  ejectMs?: number;
  now?: () => number;
  random?: () => number;
}

interface EndpointState {
  endpoint: Endpoint;
  ewmaMs: number;
  lastSample: number;
  pending: number;
  failures: number;
  ejectedUntil: number;
}

/** What a caller reports back for one pick. */
export interface Pick {
  endpoint: Endpoint;
  /** Call once the request (or connection) succeeded, with its latency. */
  success(latencyMs: number): void;
  /** Call when connecting or the request failed because of the endpoint. */
  failure(): void;
  /** Call when the request ended for reasons that say nothing about the endpoint. */
  release(): void;
}

export const endpointKey = (e: Endpoint): string => `${e.ip}:${e.port}`;

export class P2cBalancer {
  readonly #states = new Map<string, EndpointState>();
  readonly #decayMs: number;
  readonly #defaultRttMs: number;
  readonly #failuresToEject: number;
  readonly #ejectMs: number;
  readonly #now: () => number;
  readonly #random: () => number;

  constructor(opts: BalancerOptions = {}) {
    this.#decayMs = opts.decayMs ?? 10_000;
    this.#defaultRttMs = opts.defaultRttMs ?? 30;
    this.#failuresToEject = opts.failuresToEject ?? 3;
    this.#ejectMs = opts.ejectMs ?? 10_000;
    this.#now = opts.now ?? (() => performance.now());
    this.#random = opts.random ?? Math.random;
  }

  /** Replaces the endpoint set, keeping what was learned about endpoints that stay. */
  update(endpoints: readonly Endpoint[]): void {
    const keep = new Set(endpoints.map(endpointKey));
    for (const key of this.#states.keys()) if (!keep.has(key)) this.#states.delete(key);
    for (const e of endpoints) {
      const key = endpointKey(e);
      if (!this.#states.has(key)) {
        this.#states.set(key, { endpoint: e, ewmaMs: this.#defaultRttMs, lastSample: this.#now(), pending: 0, failures: 0, ejectedUntil: 0 });
      }
    }
  }

  get size(): number {
    return this.#states.size;
  }

  /** Picks an endpoint, or undefined when there are none. Ejected endpoints are used only if all are. */
  pick(): Pick | undefined {
    const now = this.#now();
    const all = [...this.#states.values()];
    if (all.length === 0) return undefined;
    const live = all.filter((s) => s.ejectedUntil <= now);
    const pool = live.length > 0 ? live : all;
    let chosen: EndpointState;
    if (pool.length === 1) {
      chosen = pool[0] as EndpointState;
    } else {
      const i = Math.floor(this.#random() * pool.length);
      let j = Math.floor(this.#random() * (pool.length - 1));
      if (j >= i) j++;
      const a = pool[i] as EndpointState;
      const b = pool[j] as EndpointState;
      chosen = this.#cost(a, now) <= this.#cost(b, now) ? a : b;
    }
    return this.#track(chosen);
  }

  /** Whether the endpoint is currently ejected (for tests and metrics). */
  isEjected(e: Endpoint): boolean {
    const s = this.#states.get(endpointKey(e));
    return s !== undefined && s.ejectedUntil > this.#now();
  }

  #cost(s: EndpointState, now: number): number {
    return this.#decayed(s, now) * (s.pending + 1);
  }

  // Peak EWMA: the estimate decays towards new samples but jumps up at once on a slow one.
  #decayed(s: EndpointState, now: number): number {
    const elapsed = Math.max(0, now - s.lastSample);
    return s.ewmaMs * Math.exp(-elapsed / this.#decayMs);
  }

  #observe(s: EndpointState, latencyMs: number): void {
    const now = this.#now();
    if (latencyMs > s.ewmaMs) {
      s.ewmaMs = latencyMs;
    } else {
      const w = Math.exp(-Math.max(0, now - s.lastSample) / this.#decayMs);
      s.ewmaMs = s.ewmaMs * w + latencyMs * (1 - w);
    }
    s.lastSample = now;
  }

  #track(s: EndpointState): Pick {
    s.pending++;
    let done = false;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      s.pending--;
      return true;
    };
    return {
      endpoint: s.endpoint,
      success: (latencyMs) => {
        if (!finish()) return;
        s.failures = 0;
        this.#observe(s, latencyMs);
      },
      failure: () => {
        if (!finish()) return;
        s.failures++;
        if (s.failures >= this.#failuresToEject) {
          s.ejectedUntil = this.#now() + this.#ejectMs;
          s.failures = 0;
        }
      },
      release: () => {
        finish();
      },
    };
  }
}
