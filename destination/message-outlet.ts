// How one stream's pre-encoded messages reach the wire. Through grpc-js, every write is framed
// (the 5-byte gRPC prefix) into a fresh buffer: a 210 KB snapshot written to 100 streams opening
// together is 100 allocations and copies of 210 KB, which made the first update of each stream
// wait on the destination's CPU and collector. A message shared by many streams is framed once
// here (same Buffer in, same framed Buffer out) and written to the call's HTTP/2 stream as is;
// grpc-js still sends the headers and the status trailers, after what was written.
import type { ServerHttp2Stream } from 'node:http2';
import { Metadata, type ServerWritableStream } from '@grpc/grpc-js';

export interface MessageOutlet {
  /** Writes one message (without its prefix); false when the stream's buffer is full: wait for `onDrain`. */
  write(message: Buffer): boolean;
  onDrain(fn: () => void): void;
}

/** Framed copies by message: kept while the message itself is referenced (the resolution's snapshot or change). */
const framedByMessage = new WeakMap<Buffer, Buffer>();

/** The message with its gRPC prefix (uncompressed, big-endian length), built once per message Buffer. */
export function framedOnce(message: Buffer): Buffer {
  let framed = framedByMessage.get(message);
  if (!framed) {
    framed = Buffer.allocUnsafe(message.length + 5);
    framed.writeUInt8(0, 0);
    framed.writeUInt32BE(message.length, 1);
    message.copy(framed, 5);
    framedByMessage.set(message, framed);
  }
  return framed;
}

/**
 * grpc-js has no public way to reach a server call's HTTP/2 stream; without interceptors the
 * call wraps it as `call.stream`. Undefined if that shape is not there.
 */
export function http2StreamOf(call: ServerWritableStream<unknown, Buffer>): ServerHttp2Stream | undefined {
  const inner: unknown = (call as unknown as { call?: { stream?: unknown } }).call?.stream;
  return isHttp2Stream(inner) ? inner : undefined;
}

function isHttp2Stream(x: unknown): x is ServerHttp2Stream {
  return typeof x === 'object' && x !== null && 'respond' in x && 'rstCode' in x && 'write' in x && typeof x.write === 'function';
}

/** The call's HTTP/2 stream when grpc-js exposes it, else grpc-js's own writes (one copy per stream). */
export function outletFor(call: ServerWritableStream<unknown, Buffer>): MessageOutlet {
  const stream = http2StreamOf(call);
  if (!stream) return { write: (m) => call.write(m), onDrain: (fn) => call.on('drain', fn) };
  // A write racing the reader's reset fails on the stream; 'close' already ends the call (grpc-js reports it cancelled).
  stream.on('error', () => {});
  let headersSent = false;
  return {
    write: (m) => {
      if (stream.closed || stream.destroyed || stream.writableEnded) return true;
      if (!headersSent) {
        headersSent = true;
        // grpc-js's own headers (idempotent): it then sends the status as trailers after these writes.
        call.sendMetadata(new Metadata());
      }
      return stream.write(framedOnce(m));
    },
    onDrain: (fn) => stream.on('drain', fn),
  };
}
