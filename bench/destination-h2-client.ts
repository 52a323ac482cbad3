// The destination benchmark's client: server-streaming gRPC calls over raw node:http2, so that
// its flow control is a linkerd2-proxy's (spec linkerd-wire.md: 65,535 bytes per stream, 1 MiB
// per connection). grpc-js cannot do that: its connection window stays at 65,535 unless
// 'grpc-node.flow_control_window' is set, and that raises the stream window with it. Messages
// stay bytes (a proxy decodes its own); gRPC framing is a 5-byte prefix (flag, big-endian length).
import * as http2 from 'node:http2';
import { connect as tcpConnect } from 'node:net';
import { H2Connection } from '../h2/connection.ts';
import { ErrorCode } from '../h2/frames.ts';

/** HTTP/2 receive windows the client advertises. */
export interface ClientWindows {
  /** SETTINGS_INITIAL_WINDOW_SIZE: what each stream may receive before the client reads it. */
  readonly streamBytes: number;
  /** The connection-level window: what all streams together may have in flight. */
  readonly connectionBytes: number;
}

/** The linkerd2-proxy's windows when the destination does not send HTTP/2 client parameters. */
export const PROXY_WINDOWS: ClientWindows = Object.freeze({ streamBytes: 65_535, connectionBytes: 1 << 20 });

/** How a call ended: the gRPC status from the trailers, or a transport failure. */
export type CallEnd =
  { readonly kind: 'status'; readonly code: number; readonly details: string } | { readonly kind: 'failed'; readonly reason: string };

export interface CallHandlers {
  /** Messages longer than this are reported by length only (default: every message is copied out). */
  readonly keepBytesUpTo?: number;
  /** One complete response message (without its 5-byte prefix), as soon as its last byte arrived. */
  message(m: ReceivedMessage): void;
  end(how: CallEnd): void;
}

export interface ServerStreamCall {
  cancel(): void;
}

/** A gRPC message with its 5-byte prefix (uncompressed). */
export function frameMessage(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(message.length + 5);
  out.writeUInt8(0, 0);
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

/** A received gRPC message: its length, and its bytes when the call keeps messages of that size. */
export interface ReceivedMessage {
  readonly length: number;
  /** A copy of the message, or undefined when it is longer than the call's `keepBytesUpTo`. */
  readonly bytes: Buffer | undefined;
}

/**
 * Splits a stream of DATA bytes into gRPC messages. A message is complete when its last byte
 * has come. The chunks may be views of a reused read buffer, so a message is copied out as it
 * arrives, and only if it is at most `keepBytesUpTo` long: the benchmark needs the length of a
 * 210 KB snapshot and the bytes of the small diffs, and its own CPU is on the measured machine.
 */
export class MessageDeframer {
  readonly #keepBytesUpTo: number;
  readonly #prefix = Buffer.alloc(5);
  #prefixHave = 0;
  /** The message being read, once its prefix is complete. */
  #body: { length: number; copy: Buffer | undefined; have: number } | undefined;

  constructor(keepBytesUpTo = Number.POSITIVE_INFINITY) {
    this.#keepBytesUpTo = keepBytesUpTo;
  }

  push(chunk: Buffer): ReceivedMessage[] {
    const out: ReceivedMessage[] = [];
    let at = 0;
    for (;;) {
      if (!this.#body) {
        if (at === chunk.length) break;
        const n = Math.min(5 - this.#prefixHave, chunk.length - at);
        chunk.copy(this.#prefix, this.#prefixHave, at, at + n);
        this.#prefixHave += n;
        at += n;
        if (this.#prefixHave < 5) break;
        if (this.#prefix[0] !== 0) throw new Error(`compressed gRPC message (flag ${this.#prefix[0]}): not supported`);
        this.#prefixHave = 0;
        const length = this.#prefix.readUInt32BE(1);
        this.#body = { length, copy: length <= this.#keepBytesUpTo ? Buffer.allocUnsafe(length) : undefined, have: 0 };
      }
      const body = this.#body;
      const n = Math.min(body.length - body.have, chunk.length - at);
      if (n > 0 && body.copy) chunk.copy(body.copy, body.have, at, at + n);
      body.have += n;
      at += n;
      if (body.have < body.length) break;
      out.push({ length: body.length, bytes: body.copy });
      this.#body = undefined;
    }
    return out;
  }

  /** True between messages: nothing half-read is waiting. */
  get idle(): boolean {
    return this.#prefixHave === 0 && this.#body === undefined;
  }
}

/** What both clients do with a call: messages handed over as they complete, the status kept, one end. */
class CallReader {
  readonly #deframer: MessageDeframer;
  readonly #handlers: CallHandlers;
  #status: CallEnd | undefined;
  #ended = false;

  constructor(handlers: CallHandlers) {
    this.#handlers = handlers;
    this.#deframer = new MessageDeframer(handlers.keepBytesUpTo);
  }

  /** grpc-status and grpc-message of the response headers (a trailers-only reply) or trailers. */
  status(code: string | undefined, message: string | undefined): void {
    if (code !== undefined) this.#status = { kind: 'status', code: Number(code), details: message === undefined ? '' : decodeURIComponent(message) };
  }

  /** False when the bytes are not gRPC messages: the call has then ended as failed. */
  data(chunk: Buffer): boolean {
    let messages: ReceivedMessage[];
    try {
      messages = this.#deframer.push(chunk);
    } catch (err) {
      this.finish({ kind: 'failed', reason: err instanceof Error ? err.message : String(err) });
      return false;
    }
    for (const m of messages) this.#handlers.message(m);
    return true;
  }

  finish(how: CallEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#handlers.end(how);
  }

  /** The stream closed: its status, or the failure `reason` if it never had one. */
  close(reason: string): void {
    this.finish(this.#status ?? { kind: 'failed', reason });
  }
}

function headerText(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** One HTTP/2 connection (one proxy's) carrying server-streaming gRPC calls. */
export interface GrpcStreamingConnection {
  readonly windows: ClientWindows;
  serverStream(path: string, request: Buffer, handlers: CallHandlers): ServerStreamCall;
  close(): void;
}

/** The same over node:http2 (nghttp2). */
export class GrpcH2Connection implements GrpcStreamingConnection {
  readonly #session: http2.ClientHttp2Session;

  private constructor(session: http2.ClientHttp2Session) {
    this.#session = session;
  }

  /** Connects with prior-knowledge HTTP/2 (plaintext, as the destination listens) and the given windows. */
  static connect(address: string, windows: ClientWindows, timeoutMs = 10_000): Promise<GrpcH2Connection> {
    return new Promise((resolve, reject) => {
      const session = http2.connect(`http://${address}`, { settings: { initialWindowSize: windows.streamBytes } });
      const timer = setTimeout(() => {
        session.destroy();
        reject(new Error(`no HTTP/2 connection to ${address} within ${timeoutMs} ms`));
      }, timeoutMs);
      session.once('error', (err: Error) => {
        clearTimeout(timer);
        reject(err);
      });
      session.once('connect', () => {
        clearTimeout(timer);
        // The connection window only grows by WINDOW_UPDATE; Node sends it for this call.
        session.setLocalWindowSize(windows.connectionBytes);
        session.on('error', () => {}); // each call reports its own failure
        resolve(new GrpcH2Connection(session));
      });
    });
  }

  /** The windows as this side sees them: what was advertised, for the benchmark's JSON. */
  get windows(): ClientWindows {
    return {
      streamBytes: this.#session.localSettings.initialWindowSize ?? 65_535,
      connectionBytes: this.#session.state.effectiveLocalWindowSize ?? 65_535,
    };
  }

  /** Starts a server-streaming call: `request` is the encoded request message. */
  serverStream(path: string, request: Buffer, handlers: CallHandlers): ServerStreamCall {
    const stream = this.#session.request({
      [http2.constants.HTTP2_HEADER_METHOD]: 'POST',
      [http2.constants.HTTP2_HEADER_PATH]: path,
      [http2.constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
      [http2.constants.HTTP2_HEADER_TE]: 'trailers',
    });
    const call = new CallReader(handlers);
    const statusFrom = (h: http2.IncomingHttpHeaders): void => {
      const message = h['grpc-message'];
      call.status(headerText(h['grpc-status']), typeof message === 'string' ? message : undefined);
    };
    stream.on('response', statusFrom); // a trailers-only response carries the status in its headers
    stream.on('trailers', statusFrom);
    stream.on('data', (chunk: Buffer) => {
      if (!call.data(chunk)) stream.close(http2.constants.NGHTTP2_PROTOCOL_ERROR);
    });
    stream.on('error', (err: Error) => call.finish({ kind: 'failed', reason: err.message }));
    // Reported on 'close', after every message before it has been handed over.
    stream.on('close', () => call.close(`stream closed without a gRPC status (RST code ${stream.rstCode ?? 'none'})`));
    stream.end(frameMessage(request));
    return { cancel: () => stream.close(http2.constants.NGHTTP2_CANCEL) };
  }

  close(): void {
    this.#session.destroy();
  }
}

/** One connection's read buffer: what one read may take off the socket. */
const READ_BUFFER_BYTES = 256 * 1024;

/**
 * The same over the frame engine of h2/: nghttp2 hands every DATA frame to JavaScript as a
 * stream event, which on two shared cores takes CPU from the destination under test; a proxy's
 * client (Rust) costs next to nothing. Same windows, same WINDOW_UPDATE policy (at half a window).
 */
export class EngineGrpcConnection implements GrpcStreamingConnection {
  readonly #conn: H2Connection;
  readonly #windows: ClientWindows;

  private constructor(conn: H2Connection, windows: ClientWindows) {
    this.#conn = conn;
    this.#windows = windows;
  }

  static connect(address: string, windows: ClientWindows, timeoutMs = 10_000): Promise<EngineGrpcConnection> {
    const i = address.lastIndexOf(':');
    const host = address.slice(0, i).replace(/^\[|\]$/g, '');
    const port = Number(address.slice(i + 1));
    return new Promise((resolve, reject) => {
      let conn: H2Connection | undefined;
      // Reads land in one buffer per connection (no allocation per read): the engine copies what it keeps.
      const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
      const onread = (n: number): boolean => {
        conn?.feed(readBuffer.subarray(0, n));
        return true;
      };
      const socket = tcpConnect({ host, port, noDelay: true, onread: { buffer: readBuffer, callback: onread } });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no HTTP/2 connection to ${address} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        conn = new H2Connection(socket, {
          role: 'client',
          streamWindow: windows.streamBytes,
          connectionWindow: windows.connectionBytes,
          reusedReads: true,
        });
        resolve(new EngineGrpcConnection(conn, windows));
      });
    });
  }

  get windows(): ClientWindows {
    return this.#windows;
  }

  serverStream(path: string, request: Buffer, handlers: CallHandlers): ServerStreamCall {
    const authority = 'linkerd-dst-headless.linkerd.svc.cluster.local:8086';
    const s = this.#conn.request(
      [':method', 'POST', ':scheme', 'http', ':authority', authority, ':path', path, 'content-type', 'application/grpc', 'te', 'trailers'],
      false,
    );
    s.sendData(frameMessage(request), true);
    const call = new CallReader(handlers);
    s.onHeaders = (h) => {
      const at = h.indexOf('grpc-status');
      const msg = h.indexOf('grpc-message');
      call.status(at % 2 === 0 ? h[at + 1] : undefined, msg % 2 === 0 ? h[msg + 1] : undefined);
    };
    s.onData = (chunk) => {
      if (!call.data(chunk)) s.reset(ErrorCode.protocol);
      // A proxy reads as it goes: the window goes back as soon as the bytes are taken.
      else s.consumeAll();
    };
    s.onReset = (code) => call.finish({ kind: 'failed', reason: `stream reset (RST code ${code})` });
    s.onClose = () => call.close('stream closed without a gRPC status');
    return { cancel: () => s.reset(ErrorCode.cancel) };
  }

  close(): void {
    this.#conn.destroy();
  }
}
