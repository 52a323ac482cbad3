// Header rewriting between the client session and the target: hop-by-hop headers dropped,
// l5d-orig-proto honoured (HTTP/2 from the client, HTTP/1 to the target and marked back), the
// gateway's Forwarded element and l5d-client-id added. Pure functions over header objects.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { FlatHeaders } from '../h2/hpack.ts';

export const ORIG_PROTO = 'l5d-orig-proto';
export const CLIENT_ID = 'l5d-client-id';

// RFC 9110 §7.6.1 connection-specific fields, plus those HTTP/2 forbids.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'http2-settings']);

export interface GatewayHeaders {
  forwarded: string;
  clientId: string;
}

const NONE: ReadonlySet<string> = new Set();

/** Headers named in `Connection` are hop-by-hop too. */
function connectionListed(headers: IncomingHttpHeaders): ReadonlySet<string> {
  const c = headers['connection'];
  return c === undefined ? NONE : listedIn(Array.isArray(c) ? c.join(',') : c);
}

function listedIn(value: string): ReadonlySet<string> {
  return new Set(
    value
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s !== ''),
  );
}

function copyEndToEnd(headers: IncomingHttpHeaders, out: OutgoingHttpHeaders, keep: (name: string) => boolean = () => false): void {
  const listed = connectionListed(headers);
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || name.charCodeAt(0) === 58 /* ':' */) continue;
    if ((HOP_BY_HOP.has(name) || listed.has(name)) && !keep(name)) continue;
    out[name] = value;
  }
}

/** Client HTTP/2 request carrying l5d-orig-proto → target HTTP/1.1 request. */
export function h2ToH1Request(
  headers: IncomingHttpHeaders,
  authority: string,
  g: GatewayHeaders,
): { method: string; path: string; headers: OutgoingHttpHeaders } {
  const out: OutgoingHttpHeaders = {};
  copyEndToEnd(headers, out);
  delete out[ORIG_PROTO];
  out['host'] = String(headers[':authority'] ?? authority);
  out['forwarded'] = g.forwarded;
  out[CLIENT_ID] = g.clientId;
  return { method: String(headers[':method'] ?? 'GET'), path: originForm(String(headers[':path'] ?? '/')), headers: out };
}

/** Client HTTP/1 request → target HTTP/1.1 request; a missing Host comes from the URI or the header name. */
export function h1ToH1Request(
  method: string,
  url: string,
  headers: IncomingHttpHeaders,
  authority: string,
  g: GatewayHeaders,
  upgrade: boolean,
): { method: string; path: string; headers: OutgoingHttpHeaders } {
  const out: OutgoingHttpHeaders = {};
  copyEndToEnd(headers, out, (n) => upgrade && (n === 'upgrade' || n === 'connection'));
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url);
  out['host'] = headers['host'] ?? absolute?.[1] ?? authority;
  out['forwarded'] = g.forwarded;
  out[CLIENT_ID] = g.clientId;
  return { method, path: originForm(url), headers: out };
}

/** Target HTTP/1 response → client HTTP/2 response headers, marked with the version it came in. */
export function h1ToH2Response(status: number, headers: IncomingHttpHeaders, httpVersion: string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':status': status };
  copyEndToEnd(headers, out);
  out[ORIG_PROTO] = `HTTP/${httpVersion}`;
  return out;
}

/** Target HTTP/1 response headers for an HTTP/1 client (Node writes its own framing headers). */
export function h1Response(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  copyEndToEnd(headers, out);
  return out;
}

/** Trailers without pseudo-headers or forbidden fields. */
export function cleanTrailers(trailers: IncomingHttpHeaders | NodeJS.Dict<string>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(trailers)) {
    if (value === undefined || name.startsWith(':') || HOP_BY_HOP.has(name.toLowerCase())) continue;
    out[name.toLowerCase()] = value;
  }
  return out;
}

function originForm(url: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(.*)$/i.exec(url);
  const path = m ? (m[1] ?? '') : url;
  return path === '' ? '/' : path.startsWith('/') || path === '*' ? path : `/${path}`;
}

// The same rules over the HTTP/2 relay's flat header lists ([name, value, ...]), which are
// already lower-case.

/** Names listed in a flat list's Connection header (HTTP/2 forbids one, but a peer may still send it). */
function flatConnectionListed(headers: FlatHeaders): ReadonlySet<string> {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === 'connection') return listedIn(headers[i + 1] as string);
  return NONE;
}

/** Client HTTP/2 request → target HTTP/2 request, pseudo-headers first. */
export function flatH2Request(headers: FlatHeaders, g: GatewayHeaders): FlatHeaders {
  const out: FlatHeaders = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (name.charCodeAt(0) === 58 /* ':' */) out.push(name, headers[i + 1] as string);
  }
  const listed = flatConnectionListed(headers);
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (name.charCodeAt(0) === 58 || name === 'forwarded' || name === CLIENT_ID) continue;
    const value = headers[i + 1] as string;
    if ((HOP_BY_HOP.has(name) || listed.has(name)) && !(name === 'te' && value === 'trailers')) continue;
    out.push(name, value);
  }
  out.push('forwarded', g.forwarded, CLIENT_ID, g.clientId);
  if (headers.sensitive !== undefined) out.sensitive = headers.sensitive;
  return out;
}

/** Target HTTP/2 response headers or trailers → client, without connection-specific fields (and, for trailers, pseudo-headers). */
export function flatEndToEnd(headers: FlatHeaders, trailers: boolean): FlatHeaders {
  const out: FlatHeaders = [];
  const listed = flatConnectionListed(headers);
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (HOP_BY_HOP.has(name) || listed.has(name) || (trailers && name.charCodeAt(0) === 58)) continue;
    out.push(name, headers[i + 1] as string);
  }
  if (headers.sensitive !== undefined) out.sensitive = headers.sensitive;
  return out;
}

/** The first value of `name`, if any. */
export function flatGet(headers: FlatHeaders, name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}

/** Flat list → Node's header object (repeated names become arrays), for the HTTP/1 client. */
export function flatToObject(headers: FlatHeaders): IncomingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    const value = headers[i + 1] as string;
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

/** Node's header object → flat list, lower-cased, pseudo-headers first. */
export function objectToFlat(headers: OutgoingHttpHeaders | NodeJS.Dict<string>): FlatHeaders {
  const pseudo: FlatHeaders = [];
  const rest: FlatHeaders = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const n = name.toLowerCase();
    const to = n.charCodeAt(0) === 58 ? pseudo : rest;
    if (Array.isArray(value)) for (const v of value) to.push(n, String(v));
    else to.push(n, String(value));
  }
  return pseudo.concat(rest);
}
