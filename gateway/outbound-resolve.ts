// Destination `Get` watches, one per authority, as a linkerd2-proxy keeps them: the endpoint
// set follows Add/Remove/NoEndpoints updates; a broken stream is re-established with backoff
// while the last known set stays in use.
import * as grpc from '@grpc/grpc-js';
import { newDestinationClient, tcpAddressFromWire, type DestinationClient, type UpdateOut } from '../proto/load.ts';
import { errorMessage, type Logger } from '../log/logger.ts';
import { P2cBalancer } from './balancer.ts';
import { GatewayError } from './errors.ts';
import { fromWeightedAddr, outboundKey, type OutboundEndpoint } from './outbound-endpoint.ts';

export class ResolveTimeoutError extends GatewayError {
  override readonly name = 'ResolveTimeoutError';
}

export interface Resolution {
  endpoints: Map<string, OutboundEndpoint>;
  balancer: P2cBalancer;
}

interface Watch extends Resolution {
  ready: Promise<void>;
  markReady: () => void;
  call?: grpc.ClientReadableStream<UpdateOut>;
  lastUsed: number;
}

export class DestinationResolver {
  readonly #client: DestinationClient;
  readonly #watches = new Map<string, Watch>();
  readonly #log: Logger;
  readonly #contextToken: string;
  #stopped = false;

  constructor(o: { addr: string; log: Logger; contextToken?: string }) {
    this.#client = newDestinationClient(o.addr, grpc.credentials.createInsecure());
    this.#log = o.log;
    this.#contextToken = o.contextToken ?? '';
  }

  /** The endpoints for `name:port`, waiting up to `timeoutMs` for the first answer. */
  async resolve(authority: string, timeoutMs = 5000): Promise<Resolution> {
    let w = this.#watches.get(authority);
    if (w === undefined) {
      let markReady = (): void => undefined;
      const ready = new Promise<void>((resolve) => (markReady = resolve));
      w = { endpoints: new Map(), balancer: new P2cBalancer(), ready, markReady, lastUsed: Date.now() };
      this.#watches.set(authority, w);
      this.#watch(authority, w, 500);
    }
    w.lastUsed = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ResolveTimeoutError(`no answer from the destination service for ${authority} within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([w.ready, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return w;
  }

  close(): void {
    this.#stopped = true;
    for (const w of this.#watches.values()) w.call?.cancel();
    this.#client.close();
  }

  #watch(authority: string, w: Watch, backoffMs: number): void {
    if (this.#stopped) return;
    const call = this.#client.Get({ scheme: 'k8s', path: authority, context_token: this.#contextToken });
    w.call = call;
    call.on('data', (u: UpdateOut) => {
      this.#apply(w, u);
      w.markReady();
      backoffMs = 500;
    });
    call.on('error', (err) => {
      if (!this.#stopped) this.#log.debug('destination watch failed', { authority, reason: errorMessage(err) });
    });
    call.on('close', () => {
      if (this.#stopped) return;
      setTimeout(() => this.#watch(authority, w, Math.min(backoffMs * 2, 10_000)), backoffMs).unref();
    });
  }

  #apply(w: Watch, u: UpdateOut): void {
    if (u.update === 'add') {
      for (const a of u.add.addrs) {
        const e = fromWeightedAddr(a);
        if (e) w.endpoints.set(outboundKey(e), e);
      }
    } else if (u.update === 'remove') {
      for (const a of u.remove.addrs) {
        const t = tcpAddressFromWire(a);
        if (t) w.endpoints.delete(`${t.ip}:${t.port}`);
      }
    } else if (u.update === 'no_endpoints') {
      w.endpoints.clear();
    }
    w.balancer.update([...w.endpoints.values()].map((e) => ({ ip: e.ip, port: e.port })));
  }
}
