// The transport header a client proxy writes right after a TLS handshake that negotiated ALPN
// `transport.l5d.io/v1`: the 23-byte preface, a big-endian u32 length, then a protobuf
// `transport.l5d.io.Header` (see transport-header.proto). The gateway (server side) reads it,
// the outbound proxy (client side) writes it. The protobuf is three fields, so it is encoded
// and decoded by hand here: no schema loading on the connection path, and the decoder can
// be exact about what it accepts (the same checks as linkerd2-proxy's transport-header crate).
import type { Duplex } from 'node:stream';
import { isValidDnsName } from './dns-name.ts';
import { ProtobufReader as Reader, WireFormatError } from './protobuf-reader.ts';

export interface TransportHeader {
  /** The target port, 1-65535. */
  port: number;
  /** The target's DNS name; set when a gateway should forward the connection there. */
  name?: string;
  /** Absent for opaque TCP. */
  protocol?: 'http1' | 'http2';
}

/** The ALPN protocol name under which the header is sent. */
export const TRANSPORT_HEADER_ALPN = 'transport.l5d.io/v1';
export const TRANSPORT_HEADER_PREFACE = Buffer.from('transport.l5d.io/v1\r\n\r\n', 'latin1');
/** The server's read buffer in linkerd2-proxy: preface, length and message must fit in it. */
export const MAX_TRANSPORT_HEADER_BYTES = 65_536;
const PREFIX_LEN = TRANSPORT_HEADER_PREFACE.length + 4;
const DEFAULT_TIMEOUT_MS = 10_000;

export class TransportHeaderError extends Error {
  override readonly name: string = 'TransportHeaderError';
}
export class MissingPrefaceError extends TransportHeaderError {
  override readonly name = 'MissingPrefaceError';
  constructor() {
    super('direct connections require transport header negotiation: the stream does not start with the transport.l5d.io/v1 preface');
  }
}
export class HeaderTooLargeError extends TransportHeaderError {
  override readonly name = 'HeaderTooLargeError';
  constructor(limit: number) {
    super(`transport header is larger than the ${limit}-byte limit`);
  }
}
export class MalformedHeaderError extends TransportHeaderError {
  override readonly name = 'MalformedHeaderError';
  constructor(readonly reason: string) {
    super(`transport header is not a valid protobuf Header: ${reason}`);
  }
}
export class InvalidHeaderNameError extends TransportHeaderError {
  override readonly name = 'InvalidHeaderNameError';
  constructor() {
    super('transport header name is not a valid DNS name');
  }
}
export class InvalidHeaderPortError extends TransportHeaderError {
  override readonly name = 'InvalidHeaderPortError';
  constructor() {
    super('transport header port is not in 1-65535');
  }
}
export class HeaderTimeoutError extends TransportHeaderError {
  override readonly name = 'HeaderTimeoutError';
  constructor(timeoutMs: number) {
    super(`no complete transport header within ${timeoutMs} ms`);
  }
}
export class IncompleteHeaderError extends TransportHeaderError {
  override readonly name = 'IncompleteHeaderError';
  constructor() {
    super('the connection ended before a complete transport header arrived');
  }
}

// === encoding ===

/** Preface + length + protobuf Header, byte-identical to what linkerd2-proxy writes. */
export function encodeTransportHeader(h: TransportHeader): Buffer {
  if (!isValidPort(h.port)) throw new InvalidHeaderPortError();
  if (h.name !== undefined && h.name !== '' && !isValidDnsName(h.name)) throw new InvalidHeaderNameError();
  const parts: Buffer[] = [Buffer.from([0x08]), varint(h.port)];
  if (h.name) {
    const name = Buffer.from(h.name, 'latin1');
    parts.push(Buffer.from([0x12]), varint(name.length), name);
  }
  // SessionProtocol { http1 = 1 | http2 = 2 }, each an empty message.
  if (h.protocol === 'http1') parts.push(Buffer.from([0x1a, 0x02, 0x0a, 0x00]));
  if (h.protocol === 'http2') parts.push(Buffer.from([0x1a, 0x02, 0x12, 0x00]));
  const message = Buffer.concat(parts);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(message.length);
  return Buffer.concat([TRANSPORT_HEADER_PREFACE, length, message]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

const isValidPort = (port: number): boolean => Number.isInteger(port) && port >= 1 && port <= 65_535;

// === decoding ===

export type DecodeResult = { header: TransportHeader; consumed: number } | { needMore: true };

/**
 * Decodes a header from the start of `buf`. `consumed` is how many bytes it took; anything after
 * belongs to the session. Never looks at more than `maxBytes` bytes.
 */
export function decodeTransportHeader(buf: Buffer, maxBytes: number = MAX_TRANSPORT_HEADER_BYTES): DecodeResult {
  const prefaceSeen = Math.min(buf.length, TRANSPORT_HEADER_PREFACE.length);
  if (buf.compare(TRANSPORT_HEADER_PREFACE, 0, prefaceSeen, 0, prefaceSeen) !== 0) throw new MissingPrefaceError();
  if (buf.length < PREFIX_LEN) return { needMore: true };
  const total = PREFIX_LEN + buf.readUInt32BE(TRANSPORT_HEADER_PREFACE.length);
  if (total > maxBytes) throw new HeaderTooLargeError(maxBytes);
  if (buf.length < total) return { needMore: true };
  try {
    return { header: decodeHeaderMessage(buf.subarray(PREFIX_LEN, total)), consumed: total };
  } catch (err) {
    if (err instanceof WireFormatError) throw new MalformedHeaderError(err.reason);
    throw err;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeHeaderMessage(msg: Buffer): TransportHeader {
  let port = 0;
  let name = '';
  let protocol: TransportHeader['protocol'];
  const r = new Reader(msg);
  while (!r.done()) {
    const { field, wireType } = r.key();
    if (field === 1 && wireType === 0) port = r.varint().low32;
    else if (field === 2 && wireType === 2) name = decodeUtf8(r.bytes());
    // An embedded message seen twice is merged: a later occurrence without a kind keeps the earlier kind.
    else if (field === 3 && wireType === 2) protocol = decodeSessionProtocol(r.bytes()) ?? protocol;
    else if (field >= 1 && field <= 3) throw new MalformedHeaderError(`field ${field} has wire type ${wireType}`);
    else r.skip(field, wireType);
  }
  const header: TransportHeader = { port };
  if (name !== '') {
    if (!isValidDnsName(name)) throw new InvalidHeaderNameError();
    header.name = name.toLowerCase();
  }
  if (!isValidPort(port)) throw new InvalidHeaderPortError();
  if (protocol) header.protocol = protocol;
  return header;
}

function decodeSessionProtocol(msg: Buffer): TransportHeader['protocol'] {
  let kind: TransportHeader['protocol'];
  const r = new Reader(msg);
  while (!r.done()) {
    const { field, wireType } = r.key();
    if ((field === 1 || field === 2) && wireType === 2) {
      skipMessage(r.bytes());
      kind = field === 1 ? 'http1' : 'http2';
    } else if (field === 1 || field === 2) throw new MalformedHeaderError(`session protocol field ${field} has wire type ${wireType}`);
    else r.skip(field, wireType);
  }
  return kind;
}

// Http1 and Http2 are empty, but may carry (well-formed) fields from a newer schema.
function skipMessage(msg: Buffer): void {
  const r = new Reader(msg);
  while (!r.done()) {
    const { field, wireType } = r.key();
    r.skip(field, wireType);
  }
}

function decodeUtf8(bytes: Buffer): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new MalformedHeaderError('name is not UTF-8');
  }
}

// === reading from a connection ===

export interface ReadTransportHeaderOptions {
  /** linkerd2-proxy's inbound detect timeout defaults to 10 s. */
  timeoutMs?: number;
  maxBytes?: number;
}

/**
 * Reads one header from a fresh connection (e.g. a TLSSocket after ALPN `transport.l5d.io/v1`).
 * Resolves with the header and the bytes that arrived after it (`rest`; `socket.unshift(rest)`
 * before handing the socket on: Node's http2 server and pipe() both read unshifted bytes). Rejects with a TransportHeaderError, or the socket's own error. The
 * socket is left open and paused either way, with this function's listeners removed.
 */
export function readTransportHeader(socket: Duplex, options: ReadTransportHeaderOptions = {}): Promise<{ header: TransportHeader; rest: Buffer }> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? MAX_TRANSPORT_HEADER_BYTES;
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    let settled = false;
    const cleanup = (): void => {
      settled = true;
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
    };
    const fail = (err: unknown): void => {
      cleanup();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    const onReadable = (): void => {
      while (!settled) {
        const chunk: unknown = socket.read();
        if (chunk === null) return;
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
        buffered = buffered.length === 0 ? bytes : Buffer.concat([buffered, bytes]);
        let result: DecodeResult;
        try {
          result = decodeTransportHeader(buffered, maxBytes);
        } catch (err) {
          fail(err);
          return;
        }
        if ('header' in result) {
          cleanup();
          resolve({ header: result.header, rest: buffered.subarray(result.consumed) });
        }
      }
    };
    const onEnd = (): void => fail(new IncompleteHeaderError());
    const onError = (err: Error): void => fail(err);
    const timer = setTimeout(() => fail(new HeaderTimeoutError(timeoutMs)), timeoutMs);
    socket.on('error', onError);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    if (socket.readableEnded || socket.destroyed) {
      fail(new IncompleteHeaderError());
      return;
    }
    socket.on('readable', onReadable);
  });
}
