// Connections an outbound proxy keeps to its peers: one HTTP/2 session per (endpoint, header
// target), opened over mTLS + transport header or plaintext as the dial plan says, and raw
// connections for opaque TCP and HTTP/1 upgrades.
import * as http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type { Credentials } from './identity-source.ts';
import { dialMeshed, dialPlain } from './outbound-connect.ts';
import { dialPlan, type OutboundEndpoint, type SessionProtocol } from './outbound-endpoint.ts';

export class OutboundConnections {
  readonly #sessions = new Map<string, Promise<http2.ClientHttp2Session>>();
  readonly #creds: () => Credentials | undefined;
  readonly #connectTimeoutMs: number;

  constructor(creds: () => Credentials | undefined, connectTimeoutMs: number) {
    this.#creds = creds;
    this.#connectTimeoutMs = connectTimeoutMs;
  }

  /** A raw connection carrying `protocol` (header included when the plan has one). */
  async dial(e: OutboundEndpoint, protocol: SessionProtocol): Promise<Duplex> {
    const plan = dialPlan(e, protocol);
    if (plan.tls === undefined) return dialPlain(plan, this.#connectTimeoutMs);
    const creds = this.#creds();
    if (creds === undefined) throw new Error('no identity yet: cannot dial a meshed peer');
    return dialMeshed(plan, creds, plan.tls.serverName, plan.header, this.#connectTimeoutMs);
  }

  /** The shared HTTP/2 session to `e` (meshed: over the transport header; plain: h2c). */
  h2Session(e: OutboundEndpoint): Promise<http2.ClientHttp2Session> {
    const plan = dialPlan(e, 'http2');
    const key = `${plan.host}:${plan.port}/${plan.header?.name ?? ''}:${plan.header?.port ?? ''}`;
    let pending = this.#sessions.get(key);
    if (pending === undefined) {
      pending = this.dial(e, 'http2').then((socket) => {
        const session = http2.connect(`http://${plan.header?.name ?? plan.host}:${plan.header?.port ?? plan.port}`, {
          createConnection: () => socket,
          settings: { enablePush: false },
        });
        const forget = (): void => {
          if (this.#sessions.get(key) === pending) this.#sessions.delete(key);
        };
        session.on('close', forget);
        session.on('goaway', forget);
        session.on('error', forget);
        return session;
      });
      pending.catch(() => {
        if (this.#sessions.get(key) === pending) this.#sessions.delete(key);
      });
      this.#sessions.set(key, pending);
    }
    return pending;
  }

  close(): void {
    for (const p of this.#sessions.values()) p.then((s) => s.close()).catch(() => undefined);
    this.#sessions.clear();
  }
}
