// Connections from the gateway to target endpoints: one multiplexed HTTP/2 session per endpoint
// (prior knowledge, as a meshed target's proxy speaks it), a keep-alive HTTP/1 agent, and raw
// TCP dials for opaque and upgraded connections.
import { Agent } from 'node:http';
import * as http2 from 'node:http2';
import { connect, type Socket } from 'node:net';
import { endpointKey, type Endpoint } from './balancer.ts';
import { UpstreamConnectError } from './errors.ts';

export interface UpstreamOptions {
  connectTimeoutMs: number;
  /** HTTP/1 connections kept per endpoint. */
  maxSocketsPerEndpoint?: number;
}

export class Upstreams {
  readonly #sessions = new Map<string, http2.ClientHttp2Session>();
  readonly #opts: UpstreamOptions;
  readonly agent: Agent;

  constructor(opts: UpstreamOptions) {
    this.#opts = opts;
    this.agent = new Agent({ keepAlive: true, maxSockets: opts.maxSocketsPerEndpoint ?? 256, scheduling: 'lifo', timeout: 60_000 });
  }

  /** The endpoint's HTTP/2 session, dialing it if needed; failures surface on the stream. */
  h2Session(e: Endpoint): http2.ClientHttp2Session {
    const key = endpointKey(e);
    const existing = this.#sessions.get(key);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const session = http2.connect(`http://${e.ip.includes(':') ? `[${e.ip}]` : e.ip}:${e.port}`, {
      settings: { enablePush: false },
      peerMaxConcurrentStreams: 1000,
      // Small frames must not wait for Nagle: every added millisecond is the gateway's.
      createConnection: () => connect({ host: e.ip, port: e.port, noDelay: true }),
    });
    const forget = (): void => {
      if (this.#sessions.get(key) === session) this.#sessions.delete(key);
    };
    session.on('close', forget);
    session.on('goaway', forget);
    session.on('error', forget);
    const timer = setTimeout(() => {
      if (!session.connecting) return;
      forget();
      session.destroy(new UpstreamConnectError({ cause: new Error(`connect to ${key} timed out`) }));
    }, this.#opts.connectTimeoutMs);
    session.once('connect', () => clearTimeout(timer));
    session.once('close', () => clearTimeout(timer));
    this.#sessions.set(key, session);
    return session;
  }

  /** A TCP connection to the endpoint, resolved once connected. */
  dial(e: Endpoint): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: e.ip, port: e.port, allowHalfOpen: true, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new UpstreamConnectError({ cause: new Error(`connect to ${endpointKey(e)} timed out`) }));
      }, this.#opts.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new UpstreamConnectError({ cause: err }));
      });
    });
  }

  close(): void {
    for (const s of this.#sessions.values()) s.close();
    this.#sessions.clear();
    this.agent.destroy();
  }
}
