// Conversions between address strings and the destination API's `io.linkerd.proxy.net` shapes.
// IPv4 travels as a fixed32 holding the big-endian integer (10.0.0.1 = 0x0A000001); IPv6 as two
// fixed64 halves. 64-bit values are decimal strings, as the loader (longs: String) hands them out.
import { isIPv4, isIPv6 } from 'node:net';
import type { IPAddress, IPAddressOut, IPv6, TcpAddress, TcpAddressOut } from './net-types.ts';

export class InvalidIpAddressError extends Error {
  override readonly name = 'InvalidIpAddressError';
  constructor(readonly input: string) {
    super(`not an IP address: "${input}"`);
  }
}

export class InvalidPortError extends Error {
  override readonly name = 'InvalidPortError';
  constructor(readonly port: number) {
    super(`not a TCP port: ${port}`);
  }
}

export function ipv4ToWire(ip: string): number {
  if (!isIPv4(ip)) throw new InvalidIpAddressError(ip);
  return ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export function ipv4FromWire(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw new InvalidIpAddressError(String(n));
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}

// A zone (fe80::1%eth0) has no place on the wire.
const isWireIPv6 = (ip: string): boolean => isIPv6(ip) && !ip.includes('%');

export function ipv6ToWire(ip: string): IPv6 {
  if (!isWireIPv6(ip)) throw new InvalidIpAddressError(ip);
  const hextets = ipv6Hextets(ip);
  const half = (from: number): string =>
    hextets
      .slice(from, from + 4)
      .reduce((acc, h) => (acc << 16n) | BigInt(h), 0n)
      .toString();
  return { first: half(0), last: half(4) };
}

export function ipv6FromWire(v6: { first: string | number; last: string | number }): string {
  const hextets: number[] = [];
  for (const half of [v6.first, v6.last]) {
    const value = BigInt(half);
    if (value < 0n || value >= 1n << 64n) throw new InvalidIpAddressError(String(half));
    for (let shift = 48n; shift >= 0n; shift -= 16n) hextets.push(Number((value >> shift) & 0xffffn));
  }
  return formatIpv6(hextets);
}

/** `ip` (v4 or v6) as an IPAddress. */
export function ipAddress(ip: string): IPAddress {
  if (isIPv4(ip)) return { ipv4: ipv4ToWire(ip) };
  if (isWireIPv6(ip)) return { ipv6: ipv6ToWire(ip) };
  throw new InvalidIpAddressError(ip);
}

export function tcpAddress(ip: string, port: number): TcpAddress {
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InvalidPortError(port);
  return { ip: ipAddress(ip), port };
}

/** The address string of a decoded IPAddress, or undefined when it carries none. */
export function ipFromWire(ip: IPAddressOut | null | undefined): string | undefined {
  if (ip?.ipv4 !== undefined && ip.ip === 'ipv4') return ipv4FromWire(ip.ipv4);
  if (ip?.ipv6 && ip.ip === 'ipv6') return ipv6FromWire(ip.ipv6);
  return undefined;
}

/** `ip` and `port` of a decoded TcpAddress, or undefined when it has no IP. */
export function tcpAddressFromWire(addr: TcpAddressOut | null | undefined): { ip: string; port: number } | undefined {
  const ip = ipFromWire(addr?.ip);
  return ip === undefined || !addr ? undefined : { ip, port: addr.port };
}

function ipv6Hextets(ip: string): number[] {
  let text = ip;
  const tail: number[] = [];
  // An embedded IPv4 tail (::ffff:10.0.0.1) is two hextets.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const n = ipv4ToWire(v4[1]);
    tail.push(n >>> 16, n & 0xffff);
    text = text.slice(0, -v4[1].length);
    if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1);
  }
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const [head = '', rest] = text.split('::');
  const left = parse(head);
  const right = [...parse(rest ?? ''), ...tail];
  const zeros = rest === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...zeros, ...right];
}

// RFC 5952: lower case, no leading zeros, the first longest run of two or more zero hextets as '::'.
function formatIpv6(hextets: number[]): string {
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && hextets[j] === 0) j++;
    if (j - i > best.len && j - i >= 2) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = hextets.map((h) => h.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}
