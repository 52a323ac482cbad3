// Per-request HTTP metrics with the label children cached per connection: every request of a
// connection shares client_id and authority, so the label hashing is paid once per connection
// (and per distinct status), not three times per request.
import type { Counter, Histogram } from 'prom-client';
import { classify, type GatewayMetrics, type HttpLabels } from './metrics.ts';

type CounterChild = ReturnType<Counter['labels']>;
type HistogramChild = ReturnType<Histogram['labels']>;

export class ConnectionHttpMetrics {
  readonly #m: GatewayMetrics;
  readonly #base: HttpLabels & { direction: string; tls: string };
  readonly #requests: CounterChild;
  readonly #latency = new Map<number, HistogramChild>();
  readonly #responses = new Map<string, CounterChild>();

  constructor(m: GatewayMetrics, labels: HttpLabels, opts: { direction?: 'inbound' | 'outbound'; tls?: string } = {}) {
    this.#m = m;
    this.#base = { ...labels, direction: opts.direction ?? 'inbound', tls: opts.tls ?? 'true' };
    this.#requests = m.requests.labels(this.#base);
  }

  request(): void {
    this.#requests.inc();
  }

  latency(status: number, ms: number): void {
    let child = this.#latency.get(status);
    if (child === undefined) {
      child = this.#m.latency.labels({ ...this.#base, status_code: String(status) });
      this.#latency.set(status, child);
    }
    child.observe(ms);
  }

  response(status: string, classification: string, grpcStatus: string, error: string): void {
    const key = `${status}|${classification}|${grpcStatus}|${error}`;
    let child = this.#responses.get(key);
    if (child === undefined) {
      child = this.#m.responses.labels({ ...this.#base, status_code: status, classification, grpc_status: grpcStatus, error });
      this.#responses.set(key, child);
    }
    child.inc();
  }
}

/** One request's outcome: latency at response headers, response_total once the stream ended. */
export class RequestRecorder {
  readonly #started = performance.now();
  readonly #m: ConnectionHttpMetrics;
  #status = 0;
  #grpcStatus = '';
  #error = '';
  #done = false;

  constructor(m: ConnectionHttpMetrics) {
    this.#m = m;
    m.request();
  }

  /** Response headers were sent; `grpcStatus` when they carried one (trailers-only replies). */
  headers(status: number, grpcStatus?: string): void {
    this.#status = status;
    if (grpcStatus !== undefined) this.#grpcStatus = grpcStatus;
    this.#m.latency(status, performance.now() - this.#started);
  }

  trailers(grpcStatus: string | undefined): void {
    if (grpcStatus !== undefined) this.#grpcStatus = grpcStatus;
  }

  /** The gateway itself answered (an error response) or the stream failed. */
  error(reason: string): void {
    this.#error = reason;
  }

  end(): void {
    if (this.#done) return;
    this.#done = true;
    // Anything the gateway had to answer or cut itself is a failure, whatever the status code.
    const classification = this.#error !== '' ? 'failure' : classify(this.#status, this.#grpcStatus);
    this.#m.response(this.#status === 0 ? '' : String(this.#status), classification, this.#grpcStatus, this.#error);
  }
}
