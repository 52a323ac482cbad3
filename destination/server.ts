// The gRPC front: io.linkerd.proxy.destination.Destination Get and GetProfile. Handlers
// never throw: every failure becomes the stream's status (errors.ts → gRPC code), and every
// stream is registered so that shutdown can end it.
import * as grpc from '@grpc/grpc-js';
import { errorMessage, type Logger } from '../log/logger.ts';
import { destinationServiceDefinition, type GetDestinationOut } from '../proto/load.ts';
import { BufferedWriter } from './buffered-writer.ts';
import type { ClusterCache } from './cluster-cache.ts';
import { InvalidPathError, NotSyncedError, UnknownClusterError, UnknownPortError, UnknownServiceError } from './errors.ts';
import type { DestinationMetrics } from './metrics.ts';
import { ProfileWatch } from './profile.ts';
import type { Resolver } from './resolver.ts';
import { parseTarget } from './target.ts';
import type { WireCodec } from './to-wire.ts';
import type { Update } from './types.ts';

export interface DestinationServerOptions {
  readonly resolver: Resolver;
  readonly local: ClusterCache;
  readonly codec: WireCodec;
  readonly clusterDomain: string;
  readonly localListWaitMs: number;
  /** Bytes a stream may have waiting for a slow reader before it is reset. */
  readonly maxQueuedBytes: number;
  readonly metrics: DestinationMetrics;
  readonly log: Logger;
}

type Call = grpc.ServerWritableStream<GetDestinationOut, Buffer>;
type Rpc = 'Get' | 'GetProfile';

const kindOf = (u: Update): string => (u.kind === 'no-endpoints' ? 'no_endpoints' : u.kind);

export function statusOf(err: unknown): { code: grpc.status; details: string } {
  const details = errorMessage(err);
  if (err instanceof InvalidPathError) return { code: grpc.status.INVALID_ARGUMENT, details };
  if (err instanceof UnknownServiceError || err instanceof UnknownPortError || err instanceof UnknownClusterError) {
    return { code: grpc.status.NOT_FOUND, details };
  }
  if (err instanceof NotSyncedError) return { code: grpc.status.UNAVAILABLE, details };
  return { code: grpc.status.INTERNAL, details };
}

/**
 * The loaded service definition with responses passed through as bytes: each message is
 * encoded once (to-wire.ts) and the same Buffer is written to every stream that shares it.
 */
function bytesServiceDefinition(): grpc.ServiceDefinition {
  const def = destinationServiceDefinition();
  const passthrough = (b: Buffer): Buffer => b;
  return { Get: { ...def.Get, responseSerialize: passthrough }, GetProfile: { ...def.GetProfile, responseSerialize: passthrough } };
}

export class DestinationServer {
  readonly #o: DestinationServerOptions;
  // Nothing serves channelz here: its per-call and per-message bookkeeping (a Date.now() a message) is left out.
  readonly #server = new grpc.Server({ 'grpc.enable_channelz': 0 });
  readonly #writers = new Set<BufferedWriter>();

  constructor(o: DestinationServerOptions) {
    this.#o = o;
    this.#server.addService(bytesServiceDefinition(), {
      Get: (call: Call) => this.#guard('Get', call, () => this.#get(call)),
      GetProfile: (call: Call) => this.#guard('GetProfile', call, () => this.#getProfile(call)),
    });
  }

  /** Binds (plaintext, as Linkerd's destination service listens inside the pod) and returns the port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      );
    });
  }

  /** Ends every open stream with UNAVAILABLE (proxies reconnect elsewhere), then stops. */
  async shutdown(graceMs: number): Promise<void> {
    for (const w of this.#writers) w.end(grpc.status.UNAVAILABLE, 'destination service shutting down');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#server.forceShutdown();
        resolve();
      }, graceMs);
      this.#server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #guard(rpc: Rpc, call: Call, body: () => Promise<void>): void {
    body().catch((err: unknown) => {
      this.#o.log.error('stream handler failed', { rpc, path: call.request.path, reason: errorMessage(err) });
    });
  }

  /** Registers the stream; `cleanup` runs once, whichever way it ends. */
  #open(rpc: Rpc, call: Call): { writer: BufferedWriter; onEnd: (fn: () => void) => void } {
    const m = this.#o.metrics;
    const writer = new BufferedWriter(call, this.#o.maxQueuedBytes, {
      sent: (kind) => m.updatesSent.inc({ kind }),
      overflow: () => {
        m.streamResets.inc({ reason: 'slow_reader' });
        this.#o.log.warn('stream reset: the reader fell behind', { rpc, path: call.request.path });
      },
    });
    this.#writers.add(writer);
    m.openStreams.inc({ rpc });
    const cleanups: Array<() => void> = [];
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      writer.abandon();
      this.#writers.delete(writer);
      m.openStreams.dec({ rpc });
      for (const fn of cleanups) fn();
    };
    for (const ev of ['cancelled', 'close', 'finish', 'error'] as const) call.once(ev, end);
    return {
      writer,
      onEnd: (fn) => {
        if (ended) fn();
        else cleanups.push(fn);
      },
    };
  }

  #refuse(rpc: Rpc, writer: BufferedWriter, path: string, err: unknown): void {
    const s = statusOf(err);
    this.#o.metrics.requestErrors.inc({ rpc, code: grpc.status[s.code] });
    if (s.code === grpc.status.INTERNAL) this.#o.log.error('request failed', { rpc, path, reason: s.details });
    else this.#o.log.debug('request refused', { rpc, path, reason: s.details });
    writer.end(s.code, s.details);
  }

  async #get(call: Call): Promise<void> {
    const path = call.request.path;
    const { writer, onEnd } = this.#open('Get', call);
    try {
      const target = parseTarget(path, this.#o.clusterDomain);
      const detach = await this.#o.resolver.subscribe(target, {
        send: (messages) => {
          for (const m of messages) writer.write(m.bytes, kindOf(m.update));
        },
      });
      onEnd(detach);
    } catch (err) {
      this.#refuse('Get', writer, path, err);
    }
  }

  async #getProfile(call: Call): Promise<void> {
    const path = call.request.path;
    const { writer, onEnd } = this.#open('GetProfile', call);
    try {
      const target = parseTarget(path, this.#o.clusterDomain);
      const watch = await ProfileWatch.open(this.#o.local, target, this.#o, (p) => writer.write(this.#o.codec.encodeProfile(p), 'profile'));
      onEnd(() => watch.close());
    } catch (err) {
      this.#refuse('GetProfile', writer, path, err);
    }
  }
}
