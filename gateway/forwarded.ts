// The gateway's request-header rules (upstream http/gateway.rs): refuse loops, then append a
// Forwarded element naming this gateway, the client and the target, and set l5d-client-id.
import { GatewayLoopError } from './errors.ts';

export interface GatewayHop {
  /** This gateway's identity. */
  gatewayId: string;
  /** The mTLS identity of the client. */
  clientId: string;
  /** `name:port` from the transport header. */
  target: string;
}

/** Throws GatewayLoopError when the client is this gateway or a Forwarded element says `by=<own id>`. */
export function checkLoop(hop: GatewayHop, forwarded: readonly string[]): void {
  if (hop.clientId === hop.gatewayId) throw new GatewayLoopError();
  for (const value of forwarded) {
    for (const element of splitElements(value)) {
      const by = element.get('by');
      if (by !== undefined && by === hop.gatewayId) throw new GatewayLoopError();
    }
  }
}

/** The Forwarded element this gateway appends (RFC 7239, quoted where the syntax needs it). */
export function forwardedElement(hop: GatewayHop): string {
  // Upstream writes host=name:port unquoted; keep that byte form for peers that compare it.
  const host = /^[a-z0-9.-]+:\d+$/i.test(hop.target) ? hop.target : quote(hop.target);
  return `by=${quote(hop.gatewayId)};for=${quote(hop.clientId)};host=${host};proto=https`;
}

/** Existing Forwarded values plus ours, as the single value to send upstream. */
export function appendForwarded(existing: readonly string[], hop: GatewayHop): string {
  return [...existing.filter((v) => v.trim() !== ''), forwardedElement(hop)].join(', ');
}

/** A header that may arrive once, several times, or not at all, as a list of values. */
export function headerValues(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : [...value];
}

/** Splits a Forwarded value into elements of lowercase-keyed pairs, honouring quoted strings. */
export function splitElements(value: string): Array<Map<string, string>> {
  const elements: Array<Map<string, string>> = [];
  let pairs = new Map<string, string>();
  let token = '';
  let quoted = false;
  const endPair = (): void => {
    const eq = token.indexOf('=');
    if (eq > 0) pairs.set(token.slice(0, eq).trim().toLowerCase(), unquote(token.slice(eq + 1).trim()));
    token = '';
  };
  for (let i = 0; i < value.length; i++) {
    const c = value[i] ?? '';
    if (quoted) {
      if (c === '\\' && i + 1 < value.length) {
        token += c + (value[++i] ?? '');
        continue;
      }
      if (c === '"') quoted = false;
      token += c;
    } else if (c === '"') {
      quoted = true;
      token += c;
    } else if (c === ';') {
      endPair();
    } else if (c === ',') {
      endPair();
      elements.push(pairs);
      pairs = new Map();
    } else {
      token += c;
    }
  }
  endPair();
  elements.push(pairs);
  return elements.filter((e) => e.size > 0);
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function quote(v: string): string {
  return TOKEN.test(v) ? v : `"${v.replace(/(["\\])/g, '\\$1')}"`;
}

function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replace(/\\(.)/g, '$1');
  return v;
}
