// One HTTP/2 connection, either side, as a frame engine with callbacks instead of Node streams:
// the gateway relays frames between a client connection and target connections, and per
// request that costs a fraction of node:http2's stream objects. It owns the protocol's
// connection state (SETTINGS, PING, GOAWAY, HPACK contexts, both flow-control windows) and
// leaves what a stream means to its user. Frames written in one tick go out in one write.
import type { Duplex } from 'node:stream';
import {
  DEFAULT_MAX_FRAME,
  DEFAULT_WINDOW,
  ErrorCode,
  Flag,
  FRAME_HEADER_BYTES,
  frame,
  frameHeader,
  FrameType,
  goawayFrame,
  H2ConnectionError,
  headerFrames,
  MAX_WINDOW,
  PREFACE,
  rstStreamFrame,
  Setting,
  settingsFrame,
  windowUpdateFrame,
} from './frames.ts';
import { HpackDecoder, HpackEncoder, HpackError, type FlatHeaders } from './hpack.ts';

export interface H2ConnectionOptions {
  role: 'server' | 'client';
  /** Streams the peer may open at once (server role). */
  maxConcurrentStreams?: number;
  /** Our receive windows: per stream (SETTINGS_INITIAL_WINDOW_SIZE) and for the connection. */
  streamWindow?: number;
  connectionWindow?: number;
  maxHeaderListSize?: number;
  /** Client role: the peer's stream limit to assume until its SETTINGS arrive (say, what another connection to it learned). */
  assumedPeerMaxConcurrentStreams?: number;
  /**
   * The bytes come from `feed` out of one reused read buffer (net's `onread`), not from 'data'
   * events: a partial frame is then copied, and a DATA chunk is only valid during `onData`.
   */
  reusedReads?: boolean;
  /** Server role: a new stream from the peer, with its request headers. */
  onStream?: (stream: H2Stream, headers: FlatHeaders, endStream: boolean) => void;
  /** The peer sent GOAWAY: no new streams on this connection. */
  onGoaway?: (code: number) => void;
  /** The socket closed; every open stream was reset first. */
  onClose?: (err?: Error) => void;
}

const noop = (): void => undefined;
const MAX_STREAM_ID = 2 ** 31 - 1;

/** A frame's payload length, checked against the SETTINGS_MAX_FRAME_SIZE we advertise (the default). */
function frameLength(buf: Buffer, at: number): number {
  const len = ((buf[at] as number) << 16) | ((buf[at + 1] as number) << 8) | (buf[at + 2] as number);
  if (len > DEFAULT_MAX_FRAME) throw new H2ConnectionError(ErrorCode.frameSize, `frame of ${len} bytes exceeds SETTINGS_MAX_FRAME_SIZE`);
  return len;
}

export class H2Stream {
  readonly id: number;
  readonly conn: H2Connection;
  /** Response headers (client role), or trailers (either role; then endStream is true). */
  onHeaders: (headers: FlatHeaders, endStream: boolean) => void = noop;
  onData: (chunk: Buffer, endStream: boolean) => void = noop;
  /** The peer reset the stream, or the connection died under it. */
  onReset: (code: number) => void = noop;
  /** Closed in both directions, or reset: called once, last. */
  onClose: () => void = noop;
  sendWindow: number;
  localEnded = false;
  remoteEnded = false;
  closed = false;
  /** Data the flow-control windows held back, in order, and whether the stream ends after it. */
  #pending: Buffer[] = [];
  #pendingEnd = false;
  #whenWritable: (() => void) | undefined;
  /** Received bytes the user has not yet consumed, and consumed bytes not yet returned to the peer. */
  #unconsumed = 0;
  #unacked = 0;
  headersSent = false;
  #resetByPeer = false;

  constructor(conn: H2Connection, id: number, sendWindow: number) {
    this.conn = conn;
    this.id = id;
    this.sendWindow = sendWindow;
  }

  /** Nothing held back by flow control and the socket is not backed up. */
  get writable(): boolean {
    return this.#pending.length === 0 && !this.#pendingEnd && !this.conn.backedUp;
  }

  sendHeaders(headers: FlatHeaders, endStream: boolean): void {
    if (this.closed || this.localEnded) return;
    this.headersSent = true;
    this.conn.writeHeaders(this.id, headers, endStream);
    if (endStream) this.#endLocal();
  }

  /** Queues data under flow control; false when some of it had to wait for a window. */
  sendData(chunk: Buffer, endStream: boolean): boolean {
    if (this.closed || this.localEnded) return false;
    if (this.#pending.length > 0 || this.#pendingEnd) {
      this.#queue(chunk, endStream);
      return false;
    }
    const sent = this.conn.writeData(this, chunk, endStream);
    if (sent === chunk.length) {
      if (endStream) this.#endLocal();
      return true;
    }
    this.#queue(chunk.subarray(sent), endStream);
    this.conn.blocked(this);
    return false;
  }

  /** Calls `cb` once the stream is writable (now, if it is). */
  whenWritable(cb: () => void): void {
    if (this.writable) cb();
    else {
      this.#whenWritable = cb;
      this.conn.waitForWritable(this);
    }
  }

  /** The user is done with everything received so far: hand the window back to the peer. */
  consumeAll(): void {
    const n = this.#unconsumed;
    if (n === 0) return;
    this.#unconsumed = 0;
    this.#unacked += n;
    if (!this.remoteEnded && !this.closed && this.#unacked >= this.conn.streamWindow / 2) {
      this.conn.writeRaw(windowUpdateFrame(this.id, this.#unacked));
      this.#unacked = 0;
    }
    this.conn.consumed(n);
  }

  reset(code: number): void {
    if (this.closed || this.#resetByPeer) return;
    // Both sides sent END_STREAM (the last one is being delivered): the stream is over, and a
    // RST_STREAM would be a frame on a closed stream (RFC 9113 §5.1) and a wasted write.
    if (!(this.localEnded && this.remoteEnded)) this.conn.writeRaw(rstStreamFrame(this.id, code));
    this.#close();
  }

  /** @internal frames from the peer */
  received(n: number): void {
    this.#unconsumed += n;
  }

  /** @internal the connection's window opened: send what waited. */
  flush(): void {
    while (this.#pending.length > 0) {
      const chunk = this.#pending[0] as Buffer;
      const last = this.#pending.length === 1;
      const sent = this.conn.writeData(this, chunk, last && this.#pendingEnd);
      if (sent < chunk.length) {
        this.#pending[0] = chunk.subarray(sent);
        this.conn.blocked(this);
        return;
      }
      this.#pending.shift();
    }
    if (this.#pendingEnd) {
      this.#pendingEnd = false;
      this.#endLocal();
    }
    this.notifyWritable();
  }

  /** @internal */
  notifyWritable(): void {
    const cb = this.#whenWritable;
    if (cb === undefined || !this.writable) return;
    this.#whenWritable = undefined;
    cb();
  }

  /** @internal the peer ended or reset the stream. */
  endRemote(): void {
    this.remoteEnded = true;
    if (this.localEnded) this.#close();
  }

  /** @internal */
  peerReset(code: number): void {
    if (this.closed) return;
    // Already over on the peer's side: the user's reaction must not send a reset back.
    this.localEnded = true;
    this.remoteEnded = true;
    this.#resetByPeer = true;
    try {
      this.onReset(code);
    } finally {
      this.#close();
    }
  }

  #queue(chunk: Buffer, endStream: boolean): void {
    if (chunk.length > 0) this.#pending.push(chunk);
    if (endStream) this.#pendingEnd = true;
  }

  #endLocal(): void {
    this.localEnded = true;
    if (this.remoteEnded) this.#close();
  }

  #close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#pending = [];
    this.#whenWritable = undefined;
    this.conn.streamClosed(this);
    this.onClose();
  }
}

export class H2Connection {
  readonly #socket: Duplex;
  readonly #o: H2ConnectionOptions;
  readonly #server: boolean;
  readonly #streams = new Map<number, H2Stream>();
  readonly #decoder: HpackDecoder;
  readonly #encoder = new HpackEncoder();
  readonly #neverIndexed = new Set<string>();
  readonly streamWindow: number;
  readonly #connWindow: number;
  readonly #maxConcurrent: number;
  #out: Buffer[] = [];
  #flushScheduled = false;
  #in: Buffer | undefined;
  #prefaceLeft: number;
  // Peer settings.
  #peerInitialWindow = DEFAULT_WINDOW;
  #peerMaxFrame = DEFAULT_MAX_FRAME;
  /** Until the peer's SETTINGS say otherwise, assume what nghttp2 assumes (RFC 9113 allows any). */
  #peerMaxConcurrent = 100;
  #connSendWindow = DEFAULT_WINDOW;
  #connUnacked = 0;
  /** What the peer may still send us on the connection; a peer that ignores it is cut off. */
  #connRecvWindow: number;
  #blocked = new Set<H2Stream>();
  #waiting = new Set<H2Stream>();
  #nextStreamId: number;
  #lastPeerStream = 0;
  /** A header block being continued in CONTINUATION frames. */
  #continuing: { streamId: number; flags: number; parts: Buffer[]; bytes: number } | undefined;
  /** Encoded header block limit: HPACK never needs more octets than the decoded list it stands for. */
  readonly #maxHeaderBlock: number;
  #goawaySent = false;
  #ended = false;
  #goawayReceived = false;
  #destroyed = false;

  constructor(socket: Duplex, o: H2ConnectionOptions) {
    this.#socket = socket;
    this.#o = o;
    this.#server = o.role === 'server';
    this.#nextStreamId = this.#server ? 2 : 1;
    this.#prefaceLeft = this.#server ? PREFACE.length : 0;
    this.streamWindow = o.streamWindow ?? 256 * 1024;
    this.#connWindow = o.connectionWindow ?? 2 * 1024 * 1024;
    this.#connRecvWindow = this.#connWindow;
    this.#maxConcurrent = o.maxConcurrentStreams ?? 1000;
    if (o.assumedPeerMaxConcurrentStreams !== undefined) this.#peerMaxConcurrent = o.assumedPeerMaxConcurrentStreams;
    this.#decoder = new HpackDecoder({ maxHeaderListSize: o.maxHeaderListSize ?? 65_536 });
    this.#maxHeaderBlock = o.maxHeaderListSize ?? 65_536;
    if (!this.#server) this.writeRaw(PREFACE);
    const settings: Array<[number, number]> = [
      [Setting.initialWindowSize, this.streamWindow],
      [Setting.maxHeaderListSize, o.maxHeaderListSize ?? 65_536],
    ];
    if (this.#server) settings.push([Setting.maxConcurrentStreams, this.#maxConcurrent]);
    else settings.push([Setting.enablePush, 0]);
    this.writeRaw(settingsFrame(settings));
    if (this.#connWindow > DEFAULT_WINDOW) this.writeRaw(windowUpdateFrame(0, this.#connWindow - DEFAULT_WINDOW));
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('drain', () => this.#drained());
    socket.on('error', noop);
    // The peer will send nothing more: finish what is open, then end our side too.
    socket.once('end', () => this.close());
    socket.once('close', () => this.#closed());
  }

  /** Bytes that arrived before the connection was set up (after a transport header, say). */
  feed(chunk: Buffer): void {
    if (chunk.length > 0) this.#receive(chunk);
  }

  /** Client role: whether a new stream may be opened now. */
  get available(): boolean {
    return (
      !this.#destroyed &&
      !this.#ended &&
      !this.#goawayReceived &&
      !this.#goawaySent &&
      this.#streams.size < this.#peerMaxConcurrent &&
      // Stream identifiers are 31 bits and never reused: a connection that ran out is retired.
      this.#nextStreamId <= MAX_STREAM_ID
    );
  }

  /** The peer's SETTINGS_MAX_CONCURRENT_STREAMS, or the assumption until it is known. */
  get peerMaxConcurrentStreams(): number {
    return this.#peerMaxConcurrent;
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  get backedUp(): boolean {
    return this.#socket.writableNeedDrain;
  }

  /** Client role: opens a stream with its request headers. */
  request(headers: FlatHeaders, endStream: boolean): H2Stream {
    const id = this.#nextStreamId;
    this.#nextStreamId += 2;
    const s = new H2Stream(this, id, this.#peerInitialWindow);
    if (this.#destroyed) {
      // The caller sets its callbacks after this returns: tell it on the next tick.
      process.nextTick(() => s.peerReset(ErrorCode.refusedStream));
      return s;
    }
    this.#streams.set(id, s);
    s.sendHeaders(headers, endStream);
    return s;
  }

  /** Graceful close: no new streams; the socket ends once the open ones are done. */
  close(): void {
    if (this.#destroyed) return;
    if (!this.#goawaySent) {
      this.#goawaySent = true;
      this.writeRaw(goawayFrame(this.#lastPeerStream, ErrorCode.noError));
    }
    if (this.#streams.size === 0) this.#endSocket();
  }

  /** Closes at once: open streams are reset. */
  destroy(err?: Error): void {
    if (this.#destroyed) return;
    this.#flush();
    this.#socket.destroy(err);
    this.#closed(err);
  }

  // ---- used by H2Stream ----

  writeRaw(b: Buffer): void {
    this.#out.push(b);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(() => this.#flush());
    }
  }

  writeHeaders(streamId: number, headers: FlatHeaders, endStream: boolean): void {
    this.writeRaw(headerFrames(streamId, this.#encoder.encode(headers, headers.sensitive), endStream, this.#peerMaxFrame));
  }

  /** Writes as much of `chunk` as both windows allow; returns the bytes written. */
  writeData(s: H2Stream, chunk: Buffer, endStream: boolean): number {
    if (chunk.length === 0) {
      if (endStream) this.writeRaw(frameHeader(0, FrameType.data, Flag.endStream, s.id));
      return 0;
    }
    let at = 0;
    while (at < chunk.length) {
      const n = Math.min(chunk.length - at, s.sendWindow, this.#connSendWindow, this.#peerMaxFrame);
      if (n <= 0) break;
      const last = at + n === chunk.length;
      this.writeRaw(frameHeader(n, FrameType.data, last && endStream ? Flag.endStream : 0, s.id));
      this.writeRaw(chunk.subarray(at, at + n));
      s.sendWindow -= n;
      this.#connSendWindow -= n;
      at += n;
    }
    return at;
  }

  blocked(s: H2Stream): void {
    this.#blocked.add(s);
  }

  waitForWritable(s: H2Stream): void {
    this.#waiting.add(s);
  }

  consumed(n: number): void {
    this.#connUnacked += n;
    if (this.#connUnacked >= this.#connWindow / 2) {
      this.writeRaw(windowUpdateFrame(0, this.#connUnacked));
      this.#connRecvWindow += this.#connUnacked;
      this.#connUnacked = 0;
    }
  }

  streamClosed(s: H2Stream): void {
    this.#streams.delete(s.id);
    this.#blocked.delete(s);
    this.#waiting.delete(s);
    if (this.#streams.size === 0 && (this.#goawaySent || this.#goawayReceived)) this.#endSocket();
  }

  // ---- input ----

  #receive(chunk: Buffer): void {
    // Once our side has ended (nothing left open), what the peer still sends changes nothing.
    if (this.#destroyed || this.#ended) return;
    try {
      let buf = chunk;
      if (this.#in !== undefined) {
        // Complete only the frame that straddled the last read: copying the whole new chunk onto
        // it would copy every byte of a bulk transfer once more.
        const rest = this.#completePending(buf);
        if (rest === undefined || this.#destroyed || this.#ended) return;
        buf = rest;
      }
      if (this.#prefaceLeft > 0) {
        const n = Math.min(this.#prefaceLeft, buf.length);
        const from = PREFACE.length - this.#prefaceLeft;
        if (buf.compare(PREFACE, from, from + n, 0, n) !== 0) throw new H2ConnectionError(ErrorCode.protocol, 'bad connection preface');
        this.#prefaceLeft -= n;
        buf = buf.subarray(n);
      }
      let at = 0;
      while (buf.length - at >= FRAME_HEADER_BYTES && !this.#destroyed && !this.#ended) {
        const len = frameLength(buf, at);
        if (buf.length - at < FRAME_HEADER_BYTES + len) break;
        at += this.#frameAt(buf, at, len);
      }
      // A socket's own chunks are never reused, so the tail can stay a view of this one.
      if (at < buf.length && !this.#destroyed && !this.#ended) this.#in = this.#o.reusedReads ? Buffer.from(buf.subarray(at)) : buf.subarray(at);
    } catch (err) {
      this.#fail(err);
    }
  }

  /** Feeds a partial frame with the head of `chunk`; returns what follows it, or undefined while still partial. */
  #completePending(chunk: Buffer): Buffer | undefined {
    let pending = this.#in as Buffer;
    let buf = chunk;
    this.#in = undefined;
    if (pending.length < FRAME_HEADER_BYTES) {
      const take = Math.min(FRAME_HEADER_BYTES - pending.length, buf.length);
      pending = Buffer.concat([pending, buf.subarray(0, take)]);
      buf = buf.subarray(take);
      if (pending.length < FRAME_HEADER_BYTES) {
        this.#in = pending;
        return undefined;
      }
    }
    const want = FRAME_HEADER_BYTES + frameLength(pending, 0);
    const take = Math.min(want - pending.length, buf.length);
    if (take > 0) pending = Buffer.concat([pending, buf.subarray(0, take)]);
    buf = buf.subarray(take);
    if (pending.length < want) {
      this.#in = pending;
      return undefined;
    }
    this.#frameAt(pending, 0, want - FRAME_HEADER_BYTES);
    return buf;
  }

  /** Dispatches the frame at `at` whose payload is `len` bytes; returns its size. */
  #frameAt(buf: Buffer, at: number, len: number): number {
    const type = buf[at + 3] as number;
    const flags = buf[at + 4] as number;
    const streamId = buf.readUInt32BE(at + 5) & 0x7fffffff;
    this.#frame(type, flags, streamId, buf.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + len));
    return FRAME_HEADER_BYTES + len;
  }

  #frame(type: number, flags: number, streamId: number, p: Buffer): void {
    if (this.#continuing !== undefined && type !== FrameType.continuation) {
      throw new H2ConnectionError(ErrorCode.protocol, 'expected CONTINUATION');
    }
    switch (type) {
      case FrameType.data:
        return this.#data(flags, streamId, p);
      case FrameType.headers:
        return this.#headers(flags, streamId, p);
      case FrameType.continuation: {
        const c = this.#continuing;
        if (c === undefined || c.streamId !== streamId) throw new H2ConnectionError(ErrorCode.protocol, 'unexpected CONTINUATION');
        c.parts.push(Buffer.from(p));
        c.bytes += p.length;
        // A header block that never ends (the CONTINUATION flood) is cut off, not buffered.
        if (c.bytes > this.#maxHeaderBlock) throw new H2ConnectionError(ErrorCode.enhanceYourCalm, `header block over ${this.#maxHeaderBlock} bytes`);
        if ((flags & Flag.endHeaders) !== 0) {
          this.#continuing = undefined;
          this.#headerBlock(c.streamId, c.flags, Buffer.concat(c.parts));
        }
        return;
      }
      case FrameType.rstStream:
        if (p.length !== 4) throw new H2ConnectionError(ErrorCode.frameSize, 'RST_STREAM of wrong size');
        this.#streams.get(streamId)?.peerReset(p.readUInt32BE(0));
        return;
      case FrameType.settings:
        return this.#settings(flags, streamId, p);
      case FrameType.ping:
        if (streamId !== 0) throw new H2ConnectionError(ErrorCode.protocol, 'PING on a stream');
        if (p.length !== 8) throw new H2ConnectionError(ErrorCode.frameSize, 'PING of wrong size');
        if ((flags & Flag.ack) === 0) this.writeRaw(frame(FrameType.ping, Flag.ack, 0, p));
        return;
      case FrameType.goaway:
        return this.#goaway(streamId, p);
      case FrameType.windowUpdate:
        return this.#windowUpdate(streamId, p);
      case FrameType.pushPromise:
        throw new H2ConnectionError(ErrorCode.protocol, 'PUSH_PROMISE is disabled');
      default:
        // PRIORITY and unknown frame types carry nothing this engine acts on.
        return;
    }
  }

  #data(flags: number, streamId: number, p: Buffer): void {
    if (streamId === 0) throw new H2ConnectionError(ErrorCode.protocol, 'DATA on stream 0');
    this.#connRecvWindow -= p.length;
    if (this.#connRecvWindow < 0) throw new H2ConnectionError(ErrorCode.flowControl, 'peer overran the connection window');
    const s = this.#streams.get(streamId);
    let body = p;
    if ((flags & Flag.padded) !== 0) {
      const pad = p[0] ?? 0;
      if (pad >= p.length) throw new H2ConnectionError(ErrorCode.protocol, 'padding exceeds DATA payload');
      body = p.subarray(1, p.length - pad);
    }
    const end = (flags & Flag.endStream) !== 0;
    if (s === undefined || s.closed || s.remoteEnded) {
      // A stream we already closed: its bytes still count against the connection window.
      this.consumed(p.length);
      return;
    }
    // Padding is consumed at once; the body when the user says so.
    if (p.length > body.length) this.consumed(p.length - body.length);
    s.received(body.length);
    if (end) s.remoteEnded = true;
    s.onData(body, end);
    if (end) s.endRemote();
  }

  #headers(flags: number, streamId: number, p: Buffer): void {
    if (streamId === 0) throw new H2ConnectionError(ErrorCode.protocol, 'HEADERS on stream 0');
    let block = p;
    if ((flags & Flag.padded) !== 0) {
      const pad = p[0] ?? 0;
      if (pad >= p.length) throw new H2ConnectionError(ErrorCode.protocol, 'padding exceeds HEADERS payload');
      block = p.subarray(1, p.length - pad);
    }
    if ((flags & Flag.priority) !== 0) block = block.subarray(5);
    if ((flags & Flag.endHeaders) === 0) {
      this.#continuing = { streamId, flags, parts: [Buffer.from(block)], bytes: block.length };
      return;
    }
    this.#headerBlock(streamId, flags, block);
  }

  #headerBlock(streamId: number, flags: number, block: Buffer): void {
    let headers: FlatHeaders;
    try {
      this.#neverIndexed.clear();
      headers = this.#decoder.decode(block, this.#neverIndexed);
      if (this.#neverIndexed.size > 0) headers.sensitive = new Set(this.#neverIndexed);
    } catch (err) {
      if (err instanceof HpackError) throw new H2ConnectionError(ErrorCode.compression, err.message);
      throw err;
    }
    const end = (flags & Flag.endStream) !== 0;
    const existing = this.#streams.get(streamId);
    if (existing !== undefined) {
      if (existing.remoteEnded) {
        existing.reset(ErrorCode.streamClosed);
        return;
      }
      if (end) existing.remoteEnded = true;
      existing.onHeaders(headers, end);
      if (end) existing.endRemote();
      return;
    }
    if (!this.#server) return; // a stream we reset: the peer's answer crossed our RST_STREAM
    if (streamId % 2 === 0) throw new H2ConnectionError(ErrorCode.protocol, `client opened even stream ${streamId}`);
    // Trailers of a stream we already closed (reset, or answered early): decoded above, dropped here.
    if (streamId <= this.#lastPeerStream) return;
    this.#lastPeerStream = streamId;
    if (this.#goawaySent || this.#streams.size >= this.#maxConcurrent) {
      this.writeRaw(rstStreamFrame(streamId, ErrorCode.refusedStream));
      return;
    }
    const s = new H2Stream(this, streamId, this.#peerInitialWindow);
    this.#streams.set(streamId, s);
    if (end) s.remoteEnded = true;
    this.#o.onStream?.(s, headers, end);
  }

  #settings(flags: number, streamId: number, p: Buffer): void {
    if (streamId !== 0) throw new H2ConnectionError(ErrorCode.protocol, 'SETTINGS on a stream');
    if ((flags & Flag.ack) !== 0) return;
    if (p.length % 6 !== 0) throw new H2ConnectionError(ErrorCode.frameSize, 'SETTINGS of wrong size');
    for (let i = 0; i < p.length; i += 6) {
      const id = p.readUInt16BE(i);
      const v = p.readUInt32BE(i + 2);
      if (id === Setting.headerTableSize) this.#encoder.setMaxTableSize(Math.min(v, 4096));
      else if (id === Setting.maxConcurrentStreams) this.#peerMaxConcurrent = v;
      else if (id === Setting.maxFrameSize) {
        if (v < DEFAULT_MAX_FRAME || v > 16_777_215) throw new H2ConnectionError(ErrorCode.protocol, 'bad SETTINGS_MAX_FRAME_SIZE');
        this.#peerMaxFrame = v;
      } else if (id === Setting.initialWindowSize) {
        if (v > MAX_WINDOW) throw new H2ConnectionError(ErrorCode.flowControl, 'SETTINGS_INITIAL_WINDOW_SIZE too large');
        const delta = v - this.#peerInitialWindow;
        this.#peerInitialWindow = v;
        for (const s of this.#streams.values()) s.sendWindow += delta;
      }
    }
    this.writeRaw(frame(FrameType.settings, Flag.ack, 0));
    this.#unblock();
  }

  #goaway(streamId: number, p: Buffer): void {
    if (streamId !== 0) throw new H2ConnectionError(ErrorCode.protocol, 'GOAWAY on a stream');
    if (p.length < 8) throw new H2ConnectionError(ErrorCode.frameSize, 'GOAWAY too short');
    const last = p.readUInt32BE(0) & 0x7fffffff;
    const code = p.readUInt32BE(4);
    this.#goawayReceived = true;
    this.#o.onGoaway?.(code);
    // Our streams above `last` were never seen by the peer: they may be retried elsewhere.
    for (const s of [...this.#streams.values()]) if (!this.#server && s.id > last) s.peerReset(ErrorCode.refusedStream);
    if (this.#streams.size === 0) this.#endSocket();
  }

  #windowUpdate(streamId: number, p: Buffer): void {
    if (p.length !== 4) throw new H2ConnectionError(ErrorCode.frameSize, 'WINDOW_UPDATE of wrong size');
    const inc = p.readUInt32BE(0) & 0x7fffffff;
    if (streamId === 0) {
      if (inc === 0) throw new H2ConnectionError(ErrorCode.protocol, 'WINDOW_UPDATE of 0');
      this.#connSendWindow += inc;
      if (this.#connSendWindow > MAX_WINDOW) throw new H2ConnectionError(ErrorCode.flowControl, 'connection window overflow');
      this.#unblock();
      return;
    }
    const s = this.#streams.get(streamId);
    if (s === undefined) return;
    if (inc === 0) {
      s.reset(ErrorCode.protocol);
      s.onReset(ErrorCode.protocol);
      return;
    }
    s.sendWindow += inc;
    if (this.#blocked.has(s) && this.#connSendWindow > 0) {
      this.#blocked.delete(s);
      s.flush();
    }
  }

  #unblock(): void {
    if (this.#blocked.size === 0) return;
    const streams = [...this.#blocked];
    this.#blocked.clear();
    for (const s of streams) {
      if (this.#connSendWindow <= 0) {
        this.#blocked.add(s);
        continue;
      }
      if (s.sendWindow > 0) s.flush();
      else this.#blocked.add(s);
    }
  }

  // ---- output and teardown ----

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#out.length === 0) return;
    if (this.#socket.writableEnded || this.#socket.destroyed) {
      this.#out = [];
      return;
    }
    const out = this.#out.length === 1 ? (this.#out[0] as Buffer) : Buffer.concat(this.#out);
    this.#out = [];
    this.#socket.write(out);
  }

  #drained(): void {
    if (this.#waiting.size === 0) return;
    const streams = [...this.#waiting];
    this.#waiting.clear();
    for (const s of streams) {
      s.notifyWritable();
      if (!s.closed && !s.writable) this.#waiting.add(s);
    }
  }

  #endSocket(): void {
    this.#flush();
    this.#ended = true;
    this.#socket.end();
  }

  #fail(err: unknown): void {
    const code = err instanceof H2ConnectionError ? err.code : ErrorCode.internal;
    const message = err instanceof Error ? err.message : String(err);
    this.writeRaw(goawayFrame(this.#lastPeerStream, code, message));
    this.#flush();
    this.#socket.end();
    this.#closed(err instanceof Error ? err : new Error(message));
    // Give the GOAWAY a moment to leave, but never wait on a peer that won't close.
    setTimeout(() => this.#socket.destroy(), 1000).unref();
  }

  #closed(err?: Error): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const s of [...this.#streams.values()]) s.peerReset(err === undefined ? ErrorCode.cancel : ErrorCode.internal);
    this.#streams.clear();
    this.#o.onClose?.(err);
  }
}
