// Probes the remote gateway. It starts in "unknown", becomes alive only after a successful
// probe, and dead only after failureThreshold consecutive failures: never assumed alive at
// start (upstream #8590 shows the cost of that), never flapping on one lost probe.
import { request } from 'node:http';
import type { LinkProbe } from '../model/link-types.ts';
import type { Logger } from '../log/logger.ts';
import type { MirrorMetrics } from './metrics.ts';

export type GatewayHealth = 'unknown' | 'alive' | 'dead';

export interface ProbeTarget {
  addresses: readonly string[];
  probe: LinkProbe;
}

export class ProbeWorker {
  #health: GatewayHealth = 'unknown';
  #failures = 0;
  #timer?: NodeJS.Timeout;
  #stopped = false;
  #target: ProbeTarget;

  constructor(
    target: ProbeTarget,
    private readonly cluster: string,
    private readonly metrics: MirrorMetrics,
    private readonly log: Logger,
    private readonly onChange: (health: GatewayHealth) => void,
  ) {
    this.#target = target;
  }

  get health(): GatewayHealth {
    return this.#health;
  }

  /** New gateway addresses (after a repair) take effect from the next probe. */
  setTarget(target: ProbeTarget): void {
    this.#target = target;
  }

  start(): void {
    void this.#tick();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  /** One probe now; returns the health afterwards. */
  async probeOnce(): Promise<GatewayHealth> {
    const { addresses, probe } = this.#target;
    const started = performance.now();
    let ok = false;
    let reason = 'no gateway address';
    for (const address of addresses) {
      const result = await httpGet(address, probe.port, probe.path, probe.timeoutMs);
      if (result.ok) {
        ok = true;
        break;
      }
      reason = result.reason;
    }
    const ms = performance.now() - started;
    const labels = { target_cluster_name: this.cluster };
    this.metrics.probes.inc({ ...labels, probe_successful: String(ok) });
    if (ok) {
      this.metrics.probeLatency.observe(labels, ms);
      this.metrics.gatewayLatency.set(labels, ms);
      this.#failures = 0;
      this.#set('alive', 'probe succeeded');
    } else {
      this.#failures++;
      this.log.debug('gateway probe failed', { cluster: this.cluster, reason, failures: this.#failures });
      if (this.#failures >= probe.failureThreshold || this.#health === 'unknown') this.#set('dead', reason);
    }
    return this.#health;
  }

  #set(next: GatewayHealth, reason: string): void {
    this.metrics.gatewayAlive.set({ target_cluster_name: this.cluster }, next === 'alive' ? 1 : 0);
    if (next === this.#health) return;
    const prev = this.#health;
    this.#health = next;
    this.log.info('gateway health changed', { cluster: this.cluster, from: prev, to: next, reason });
    this.onChange(next);
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    await this.probeOnce();
    if (this.#stopped) return;
    const period = this.#target.probe.periodMs;
    // Up to 10% jitter keeps many controllers from probing in lockstep.
    this.#timer = setTimeout(() => void this.#tick(), period + Math.random() * period * 0.1);
  }
}

function httpGet(host: string, port: number, path: string, timeoutMs: number): Promise<{ ok: true } | { ok: false; reason: string }> {
  return new Promise((resolve) => {
    const req = request({ host, port, path, method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? { ok: true } : { ok: false, reason: `HTTP ${res.statusCode}` });
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ ok: false, reason: err.message }));
    req.end();
  });
}
