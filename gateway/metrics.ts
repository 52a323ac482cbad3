// The gateway's metrics, in the Linkerd proxy's names and labels so existing dashboards and
// `linkerd viz stat`-style queries read them unchanged. One Registry per process, no globals.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** linkerd2-proxy's latency buckets (linkerd/metrics/src/latency.rs), in milliseconds. */
export const LATENCY_BUCKETS_MS = [
  1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000, 40000, 50000,
];

const HTTP_LABELS = ['direction', 'tls', 'client_id', 'authority', 'target_service'] as const;
const TCP_LABELS = ['direction', 'peer', 'tls', 'client_id'] as const;

export type HttpLabels = { client_id: string; authority: string; target_service: string };

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<(typeof HTTP_LABELS)[number]>;
  readonly responses: Counter<(typeof HTTP_LABELS)[number] | 'status_code' | 'classification' | 'grpc_status' | 'error'>;
  readonly latency: Histogram<(typeof HTTP_LABELS)[number] | 'status_code'>;
  readonly tcpOpen: Counter<(typeof TCP_LABELS)[number]>;
  readonly tcpOpenConnections: Gauge<(typeof TCP_LABELS)[number]>;
  readonly tcpRead: Counter<(typeof TCP_LABELS)[number]>;
  readonly tcpWrite: Counter<(typeof TCP_LABELS)[number]>;
  readonly tcpClose: Counter<(typeof TCP_LABELS)[number] | 'errno'>;
  readonly transportHeader: Counter<'session_protocol' | 'target_port' | 'target_name' | 'client_id'>;
  readonly tcpErrors: Counter<'error'>;
  readonly httpErrors: Counter<'error'>;
  readonly authzDeny: Counter<'client_id' | 'target_service'>;
  readonly certExpiry: Gauge;
  readonly direction: 'inbound' | 'outbound';

  constructor(opts: { processMetrics?: boolean; direction?: 'inbound' | 'outbound' } = {}) {
    this.direction = opts.direction ?? 'inbound';
    const r = [this.registry];
    const direction = opts.direction ?? 'inbound';
    this.registry.setDefaultLabels({});
    this.requests = new Counter({ name: 'request_total', help: 'Total count of HTTP requests.', labelNames: HTTP_LABELS, registers: r });
    this.responses = new Counter({
      name: 'response_total',
      help: 'Total count of HTTP responses.',
      labelNames: [...HTTP_LABELS, 'status_code', 'classification', 'grpc_status', 'error'],
      registers: r,
    });
    this.latency = new Histogram({
      name: 'response_latency_ms',
      help: 'Elapsed times between a request being received and its response headers being sent.',
      labelNames: [...HTTP_LABELS, 'status_code'],
      buckets: LATENCY_BUCKETS_MS,
      registers: r,
    });
    this.tcpOpen = new Counter({ name: 'tcp_open_total', help: 'Total count of opened connections.', labelNames: TCP_LABELS, registers: r });
    this.tcpOpenConnections = new Gauge({
      name: 'tcp_open_connections',
      help: 'Number of currently-open connections.',
      labelNames: TCP_LABELS,
      registers: r,
    });
    this.tcpRead = new Counter({ name: 'tcp_read_bytes_total', help: 'Total count of bytes read from peers.', labelNames: TCP_LABELS, registers: r });
    this.tcpWrite = new Counter({
      name: 'tcp_write_bytes_total',
      help: 'Total count of bytes written to peers.',
      labelNames: TCP_LABELS,
      registers: r,
    });
    this.tcpClose = new Counter({
      name: 'tcp_close_total',
      help: 'Total count of closed connections.',
      labelNames: [...TCP_LABELS, 'errno'],
      registers: r,
    });
    this.transportHeader = new Counter({
      name: `${direction}_tcp_transport_header_connections_total`,
      help: 'Total count of connections that carried a transport header.',
      labelNames: ['session_protocol', 'target_port', 'target_name', 'client_id'],
      registers: r,
    });
    this.tcpErrors = new Counter({
      name: `${direction}_tcp_errors_total`,
      help: 'Connections refused or failed, by reason.',
      labelNames: ['error'],
      registers: r,
    });
    this.httpErrors = new Counter({
      name: `${direction}_http_errors_total`,
      help: 'HTTP requests answered with a proxy error.',
      labelNames: ['error'],
      registers: r,
    });
    this.authzDeny = new Counter({
      name: `${direction}_http_authz_deny_total`,
      help: 'Requests refused by the gateway authorization policy.',
      labelNames: ['client_id', 'target_service'],
      registers: r,
    });
    this.certExpiry = new Gauge({
      name: 'control_identity_cert_expiration_timestamp_seconds',
      help: 'Expiration time of the current identity certificate.',
      registers: r,
    });
    if (opts.processMetrics === true) collectDefaultMetrics({ register: this.registry });
  }
}

/** Response classification as Linkerd does it: gRPC by grpc-status, else 5xx is a failure. */
export function classify(status: number, grpcStatus: string | undefined): 'success' | 'failure' {
  if (grpcStatus !== undefined && grpcStatus !== '') return grpcStatus === '0' ? 'success' : 'failure';
  return status >= 500 ? 'failure' : 'success';
}
