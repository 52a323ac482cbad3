// The destination service's own metrics registry (never prom-client's global one).
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsSources {
  clusterStoreSize: () => number;
  /** Cached endpoints per cluster whose watches are failing. */
  staleEndpoints: () => Array<{ cluster: string; count: number }>;
  resolutions: () => number;
}

export class DestinationMetrics {
  readonly registry = new Registry();
  readonly openStreams: Gauge<'rpc'>;
  readonly updatesSent: Counter<'kind'>;
  readonly remoteWatchErrors: Counter<'cluster'>;
  readonly streamResets: Counter<'reason'>;
  readonly requestErrors: Counter<'rpc' | 'code'>;

  constructor(sources: MetricsSources, opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
    this.openStreams = new Gauge({ name: 'destination_open_streams', help: 'Open Get and GetProfile streams', labelNames: ['rpc'], registers });
    this.updatesSent = new Counter({
      name: 'destination_updates_sent_total',
      help: 'Messages written to streams, by kind (add, remove, no_endpoints, profile)',
      labelNames: ['kind'],
      registers,
    });
    this.remoteWatchErrors = new Counter({
      name: 'destination_remote_watch_errors_total',
      help: 'Failed lists and watches of a cluster (the last known endpoints are kept)',
      labelNames: ['cluster'],
      registers,
    });
    this.streamResets = new Counter({
      name: 'destination_stream_resets_total',
      help: 'Streams reset by the server',
      labelNames: ['reason'],
      registers,
    });
    this.requestErrors = new Counter({
      name: 'destination_request_errors_total',
      help: 'Requests refused with a gRPC status',
      labelNames: ['rpc', 'code'],
      registers,
    });
    new Gauge({
      name: 'cluster_store_size',
      help: 'Remote clusters whose credentials are known',
      registers,
      collect() {
        this.set(sources.clusterStoreSize());
      },
    });
    new Gauge({
      name: 'destination_resolutions',
      help: 'Distinct Service ports being resolved (shared by their streams)',
      registers,
      collect() {
        this.set(sources.resolutions());
      },
    });
    new Gauge({
      name: 'destination_stale_endpoints',
      help: 'Endpoints served from the last known state of a cluster whose watch is failing',
      labelNames: ['cluster'],
      registers,
      collect() {
        this.reset();
        for (const s of sources.staleEndpoints()) this.set({ cluster: s.cluster }, s.count);
      },
    });
  }
}
