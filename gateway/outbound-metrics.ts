// The outbound proxy's request metrics, in the same Linkerd names as the gateway's with
// direction="outbound": per target authority, recorded when each response has been sent.
import type { ServerResponse } from 'node:http';
import type * as http2 from 'node:http2';
import { GatewayMetrics } from './metrics.ts';
import { ConnectionHttpMetrics, RequestRecorder } from './request-metrics.ts';

export class OutboundMetrics {
  readonly metrics = new GatewayMetrics({ direction: 'outbound', processMetrics: true });
  readonly #byAuthority = new Map<string, ConnectionHttpMetrics>();
  readonly #identity: () => string;

  constructor(identity: () => string) {
    this.#identity = identity;
  }

  #children(authority: string): ConnectionHttpMetrics {
    let c = this.#byAuthority.get(authority);
    if (c === undefined) {
      // Authorities come from callers; keep the cache from growing without bound.
      if (this.#byAuthority.size >= 10_000) this.#byAuthority.clear();
      const service = authority.split(':')[0]?.split('.').slice(0, 2).join('.') ?? '';
      c = new ConnectionHttpMetrics(this.metrics, { client_id: this.#identity(), authority, target_service: service }, { direction: 'outbound' });
      this.#byAuthority.set(authority, c);
    }
    return c;
  }

  /** Counts an HTTP/1 request now and its response once it has been sent (or the caller went away). */
  http1(authority: string, res: ServerResponse): void {
    const rec = new RequestRecorder(this.#children(authority));
    res.once('close', () => {
      if (res.headersSent) rec.headers(res.statusCode);
      else rec.error('closed');
      rec.end();
    });
  }

  /** The same for an HTTP/2 stream, with grpc-status from the trailers or trailers-only headers. */
  http2(authority: string, stream: http2.ServerHttp2Stream): void {
    const rec = new RequestRecorder(this.#children(authority));
    stream.once('close', () => {
      const status = Number(stream.sentHeaders[':status'] ?? 0);
      const grpc = stream.sentTrailers?.['grpc-status'] ?? stream.sentHeaders['grpc-status'];
      if (status > 0) rec.headers(status, grpc === undefined ? undefined : String(grpc));
      else rec.error('closed');
      rec.end();
    });
  }
}
