// Writes pre-encoded messages to one server stream without letting a slow reader make the
// process grow: while the stream reports its buffer full (write() returned false) messages wait
// here until 'drain'; past `maxQueuedBytes` the stream is reset instead, with HTTP/2
// ENHANCE_YOUR_CALM, which gRPC clients report as RESOURCE_EXHAUSTED. The proxy then
// reconnects and starts from a fresh snapshot.
import { constants as http2 } from 'node:http2';
import { status, type ServerWritableStream } from '@grpc/grpc-js';
import { http2StreamOf, outletFor, type MessageOutlet } from './message-outlet.ts';

export interface WriterHooks {
  /** A message was handed to the stream. */
  sent(kind: string): void;
  /** The reader fell too far behind; the stream is being reset. */
  overflow(): void;
}

export class BufferedWriter {
  readonly #call: ServerWritableStream<unknown, Buffer>;
  readonly #outlet: MessageOutlet;
  readonly #maxQueuedBytes: number;
  readonly #hooks: WriterHooks;
  readonly #queue: Array<{ bytes: Buffer; kind: string }> = [];
  #queuedBytes = 0;
  #blocked = false;
  #done = false;
  /** A clean end asked for while messages wait: it comes after them. */
  #ending: (() => void) | undefined;

  constructor(call: ServerWritableStream<unknown, Buffer>, maxQueuedBytes: number, hooks: WriterHooks) {
    this.#call = call;
    this.#maxQueuedBytes = maxQueuedBytes;
    this.#hooks = hooks;
    this.#outlet = outletFor(call);
    this.#outlet.onDrain(() => {
      this.#blocked = false;
      this.#flush();
    });
  }

  get closed(): boolean {
    return this.#done;
  }

  write(bytes: Buffer, kind: string): void {
    if (this.#done || this.#ending) return;
    if (this.#blocked) {
      this.#queue.push({ bytes, kind });
      this.#queuedBytes += bytes.length;
      if (this.#queuedBytes > this.#maxQueuedBytes) this.#overflow();
      return;
    }
    this.#writeNow(bytes, kind);
  }

  /** Ends the stream with a status: OK after what waits has been written, an error at once (what waits is dropped). */
  end(code: status = status.OK, details = 'OK'): void {
    if (this.#done || this.#ending) return;
    const finish = () => {
      this.#done = true;
      this.#queue.length = 0;
      this.#queuedBytes = 0;
      if (code === status.OK) this.#call.end();
      else this.#call.emit('error', { code, details });
    };
    if (code === status.OK && this.#queue.length > 0) this.#ending = finish;
    else finish();
  }

  /** The reader went away: drop what waits. */
  abandon(): void {
    this.#done = true;
    this.#queue.length = 0;
    this.#queuedBytes = 0;
  }

  #writeNow(bytes: Buffer, kind: string): void {
    this.#hooks.sent(kind);
    if (!this.#outlet.write(bytes)) this.#blocked = true;
  }

  #flush(): void {
    while (!this.#done && !this.#blocked && this.#queue.length > 0) {
      const next = this.#queue.shift();
      if (!next) break;
      this.#queuedBytes -= next.bytes.length;
      this.#writeNow(next.bytes, next.kind);
    }
    const ending = this.#ending;
    if (ending && !this.#done && this.#queue.length === 0) {
      this.#ending = undefined;
      ending();
    }
  }

  #overflow(): void {
    this.#hooks.overflow();
    this.#done = true;
    this.#queue.length = 0;
    this.#queuedBytes = 0;
    // A status would wait behind the data the reader is not reading; a reset does not.
    if (!resetHttp2Stream(this.#call)) this.#call.emit('error', { code: status.RESOURCE_EXHAUSTED, details: 'stream reader too slow' });
  }
}

/** grpc-js has no public way to reset a server stream. Returns false if its HTTP/2 stream cannot be reached. */
function resetHttp2Stream(call: ServerWritableStream<unknown, Buffer>): boolean {
  const stream = http2StreamOf(call);
  if (!stream) return false;
  if (!stream.closed) stream.close(http2.NGHTTP2_ENHANCE_YOUR_CALM);
  return true;
}
