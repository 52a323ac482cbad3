// What every layer after the handshake knows about a connection, and the gateway-wide services
// it may use. Built once per connection by direct.ts.
import type { Logger } from '../log/logger.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { ConnectionHttpMetrics } from './request-metrics.ts';
import type { Policy } from './policy.ts';
import type { TargetResolver } from './resolve.ts';
import type { Upstreams } from './upstream.ts';

export interface GatewayServices {
  gatewayId: () => string;
  resolver: TargetResolver;
  policy?: Policy;
  metrics: GatewayMetrics;
  upstreams: Upstreams;
  log: Logger;
  limits: GatewayLimits;
}

export interface GatewayLimits {
  /** Concurrent HTTP/2 streams per client connection. */
  maxConcurrentStreams: number;
  /** Wait for upstream response headers before answering 504. */
  responseTimeoutMs: number;
  /** Idle client connections are closed after this long. */
  idleTimeoutMs: number;
  /** Dialing an endpoint. */
  connectTimeoutMs: number;
}

export interface ConnectionContext {
  clientId: string;
  /** `name` and `port` of the transport header. */
  targetName: string;
  targetPort: number;
  /** `name:port`, the authority requests are labelled with. */
  authority: string;
  services: GatewayServices;
  /** HTTP metric children for this connection's labels. */
  httpMetrics: ConnectionHttpMetrics;
  log: Logger;
}
