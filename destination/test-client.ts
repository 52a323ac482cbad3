// A Get/GetProfile client for tests and the benchmark: each stream's messages in a queue,
// in a compact form that assertions can compare whole (addresses as "ip:port", sorted).
import * as grpc from '@grpc/grpc-js';
import {
  newDestinationClient,
  tcpAddressFromWire,
  type DestinationClient,
  type DestinationProfileOut,
  type UpdateOut,
  type WeightedAddrOut,
} from '../proto/load.ts';

export interface AddrView {
  addr: string;
  weight: number;
  labels: Record<string, string>;
  identity?: string;
  serverName?: string;
  hint?: string;
  opaquePort?: number;
  authority?: string;
  http2: boolean;
}

export type UpdateView =
  | { add: AddrView[]; labels: Record<string, string> }
  | { remove: string[] }
  | { noEndpoints: boolean }
  | { end: { code: grpc.status; details: string } };

const addrText = (a: Parameters<typeof tcpAddressFromWire>[0]): string => {
  const t = tcpAddressFromWire(a);
  return t ? `${t.ip}:${t.port}` : '?';
};

function addrView(a: WeightedAddrOut): AddrView {
  const v: AddrView = { addr: addrText(a.addr), weight: a.weight, labels: { ...a.metric_labels }, http2: a.http2 !== null };
  if (a.tls_identity?.strategy === 'dns_like_identity') v.identity = a.tls_identity.dns_like_identity.name;
  if (a.tls_identity?.server_name) v.serverName = a.tls_identity.server_name.name;
  if (a.protocol_hint?.protocol) v.hint = a.protocol_hint.protocol;
  if (a.protocol_hint?.opaque_transport) v.opaquePort = a.protocol_hint.opaque_transport.inbound_port;
  if (a.authority_override) v.authority = a.authority_override.authority_override;
  return v;
}

export function updateView(u: UpdateOut): UpdateView {
  switch (u.update) {
    case 'add':
      return { add: u.add.addrs.map(addrView).sort((a, b) => a.addr.localeCompare(b.addr)), labels: { ...u.add.metric_labels } };
    case 'remove':
      return { remove: u.remove.addrs.map(addrText).sort() };
    case 'no_endpoints':
      return { noEndpoints: u.no_endpoints.exists };
    default:
      throw new Error(`update with no content: ${JSON.stringify(u)}`);
  }
}

/** Messages of one stream, in order; the stream's end (its status) is the last entry. */
export class MessageQueue<T> {
  readonly #items: T[] = [];
  readonly #waiters: Array<(v: T) => void> = [];
  readonly history: T[] = [];

  push(v: T): void {
    this.history.push(v);
    const w = this.#waiters.shift();
    if (w) w(v);
    else this.#items.push(v);
  }

  /** The next message; fails after `timeoutMs` saying what was expected and what came so far. */
  next(what: string, timeoutMs = 30_000): Promise<T> {
    const v = this.#items.shift();
    if (v !== undefined) return Promise.resolve(v);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(new Error(`no message within ${timeoutMs} ms while waiting for ${what}; messages so far: ${JSON.stringify(this.history)}`));
      }, timeoutMs);
      const waiter = (x: T) => {
        clearTimeout(timer);
        resolve(x);
      };
      this.#waiters.push(waiter);
    });
  }

  get pending(): number {
    return this.#items.length;
  }
}

export interface OpenStream<T> {
  messages: MessageQueue<T | { end: { code: grpc.status; details: string } }>;
  cancel(): void;
}

function collect<M, T>(call: grpc.ClientReadableStream<M>, view: (m: M) => T): OpenStream<T> {
  const messages = new MessageQueue<T | { end: { code: grpc.status; details: string } }>();
  call.on('data', (m: M) => messages.push(view(m)));
  call.on('error', () => {}); // the status below carries it
  call.on('status', (s: grpc.StatusObject) => messages.push({ end: { code: s.code, details: s.details } }));
  return { messages, cancel: () => call.cancel() };
}

export function destinationClient(address: string): DestinationClient {
  return newDestinationClient(address, grpc.credentials.createInsecure());
}

export function openGet(client: DestinationClient, path: string): OpenStream<UpdateView> {
  return collect(client.Get({ path, context_token: '{"ns":"test","nodeName":"node","pod":"client"}' }), updateView);
}

export function openProfile(client: DestinationClient, path: string): OpenStream<DestinationProfileOut> {
  return collect(client.GetProfile({ path }), (p) => p);
}
