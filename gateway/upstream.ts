// Connections from the gateway to target endpoints: multiplexed HTTP/2 connections per endpoint
// (prior knowledge, as a meshed target's proxy speaks it), a keep-alive HTTP/1 agent, and raw
// TCP dials for opaque and upgraded connections.
import { Agent } from 'node:http';
import { connect, type Socket, type TcpNetConnectOpts } from 'node:net';
import { H2Connection } from '../h2/connection.ts';
import { endpointKey, type Endpoint } from './balancer.ts';
import { UpstreamConnectError } from './errors.ts';

/** Bytes a relayed socket may hold before its reader is paused: bounds memory per opaque connection. */
const RELAY_HIGH_WATER_MARK = 256 * 1024;

/** net.connect with RELAY_HIGH_WATER_MARK (Node's Socket takes writableHighWaterMark; @types/node's options lack it). */
function relayConnect(opts: TcpNetConnectOpts): Socket {
  return connect({ ...opts, writableHighWaterMark: RELAY_HIGH_WATER_MARK } as TcpNetConnectOpts);
}

export interface UpstreamOptions {
  connectTimeoutMs: number;
  /** HTTP/1 connections kept per endpoint. */
  maxSocketsPerEndpoint?: number;
}

export class Upstreams {
  readonly #h2 = new Map<string, H2Connection[]>();
  readonly #opts: UpstreamOptions;
  readonly agent: Agent;

  constructor(opts: UpstreamOptions) {
    this.#opts = opts;
    this.agent = new Agent({ keepAlive: true, maxSockets: opts.maxSocketsPerEndpoint ?? 256, scheduling: 'lifo', timeout: 60_000 });
  }

  /** A connection to the endpoint with room for another stream, dialing one if needed; failures surface as stream resets. */
  h2Connection(e: Endpoint): H2Connection {
    const key = endpointKey(e);
    let pool = this.#h2.get(key);
    if (pool === undefined) {
      pool = [];
      this.#h2.set(key, pool);
    }
    for (const c of pool) if (c.available) return c;
    // A sibling has learned the endpoint's stream limit: don't overrun it before this one's SETTINGS arrive.
    const learned = pool.length > 0 ? Math.min(...pool.map((c) => c.peerMaxConcurrentStreams)) : undefined;
    // Small frames must not wait for Nagle: every added millisecond is the gateway's.
    const socket = relayConnect({ host: e.ip, port: e.port, noDelay: true });
    const list = pool;
    const forget = (): void => {
      const i = list.indexOf(conn);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0 && this.#h2.get(key) === list) this.#h2.delete(key);
    };
    const conn: H2Connection = new H2Connection(socket, {
      role: 'client',
      onGoaway: forget,
      onClose: forget,
      ...(learned === undefined ? {} : { assumedPeerMaxConcurrentStreams: learned }),
    });
    const timer = setTimeout(() => {
      if (!socket.connecting) return;
      forget();
      socket.destroy(new UpstreamConnectError({ cause: new Error(`connect to ${key} timed out`) }));
    }, this.#opts.connectTimeoutMs);
    socket.once('connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
    pool.push(conn);
    return conn;
  }

  /** A TCP connection to the endpoint, resolved once connected. */
  dial(e: Endpoint): Promise<Socket> {
    return new Promise((resolve, reject) => {
      // TLS hands the relay one 16 KiB record at a time: with the default 16 KiB mark every record
      // would pause the reader and go out in its own write; this lets one read's records leave together.
      const socket = relayConnect({ host: e.ip, port: e.port, allowHalfOpen: true, noDelay: true });
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
    for (const pool of this.#h2.values()) for (const c of pool) c.close();
    this.#h2.clear();
    this.agent.destroy();
  }
}
