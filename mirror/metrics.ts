// The controller's Prometheus metrics. Names are upstream's where upstream has them, so
// existing dashboards and `linkerd multicluster gateways` keep working; the rest are ours.
// A registry per controller (not prom-client's global one) keeps tests and links apart.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LABEL = 'target_cluster_name';

export class MirrorMetrics {
  readonly registry = new Registry();
  readonly gatewayEnabled = new Gauge({
    name: 'gateway_enabled',
    help: 'Whether the Link has a gateway (1) or is pod-to-pod only (0)',
    labelNames: [LABEL],
    registers: [this.registry],
  });
  readonly gatewayAlive = new Gauge({
    name: 'gateway_alive',
    help: 'Whether the remote gateway passed its probes (1), failed them (0)',
    labelNames: [LABEL],
    registers: [this.registry],
  });
  readonly gatewayLatency = new Gauge({
    name: 'gateway_latency',
    help: 'Latency of the last successful gateway probe in milliseconds',
    labelNames: [LABEL],
    registers: [this.registry],
  });
  readonly probeLatency = new Histogram({
    name: 'gateway_probe_latency_ms',
    help: 'Gateway probe latency in milliseconds',
    labelNames: [LABEL],
    buckets: [1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000],
    registers: [this.registry],
  });
  readonly probes = new Counter({
    name: 'gateway_probes',
    help: 'Gateway probes, by outcome',
    labelNames: [LABEL, 'probe_successful'],
    registers: [this.registry],
  });
  readonly endpointRepairs = new Counter({
    name: 'service_mirror_endpoint_repairs',
    help: 'Gateway endpoint repair passes',
    labelNames: [LABEL],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'service_mirror_queue_depth',
    help: 'Keys waiting in the reconcile queue (including those waiting for a retry)',
    labelNames: [LABEL],
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: 'service_mirror_reconcile_duration_seconds',
    help: 'Time to reconcile one key',
    labelNames: [LABEL, 'outcome'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'service_mirror_errors_total',
    help: 'Reconcile errors, by reason',
    labelNames: [LABEL, 'reason'],
    registers: [this.registry],
  });
  readonly mirrors = new Gauge({
    name: 'service_mirror_mirrored_services',
    help: 'Services this Link currently mirrors',
    labelNames: [LABEL],
    registers: [this.registry],
  });
  readonly remoteReachable = new Gauge({
    name: 'service_mirror_remote_api_reachable',
    help: 'Whether the remote API server answered the last list/watch (1) or not (0)',
    labelNames: [LABEL],
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** Drops every series of a cluster, so an unlinked cluster stops being reported. */
  forget(cluster: string): void {
    for (const m of [
      this.gatewayEnabled,
      this.gatewayAlive,
      this.gatewayLatency,
      this.probeLatency,
      this.endpointRepairs,
      this.queueDepth,
      this.mirrors,
      this.remoteReachable,
    ]) {
      m.remove({ [LABEL]: cluster });
    }
    for (const ok of ['true', 'false']) this.probes.remove({ [LABEL]: cluster, probe_successful: ok });
  }
}
