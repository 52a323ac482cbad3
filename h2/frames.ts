// HTTP/2 framing (RFC 9113 §4, §6): the frame header, the frame types and flags this engine
// speaks, and the few encoders it needs. Frames are built straight into Buffers so that a
// connection can batch a tick's worth of them into one socket write.

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const FRAME_HEADER_BYTES = 9;
/** The protocol's initial values (RFC 9113 §6.5.2). */
export const DEFAULT_WINDOW = 65_535;
export const DEFAULT_MAX_FRAME = 16_384;
export const MAX_WINDOW = 2 ** 31 - 1;

export const FrameType = {
  data: 0x0,
  headers: 0x1,
  priority: 0x2,
  rstStream: 0x3,
  settings: 0x4,
  pushPromise: 0x5,
  ping: 0x6,
  goaway: 0x7,
  windowUpdate: 0x8,
  continuation: 0x9,
} as const;

export const Flag = {
  endStream: 0x1,
  ack: 0x1,
  endHeaders: 0x4,
  padded: 0x8,
  priority: 0x20,
} as const;

export const Setting = {
  headerTableSize: 0x1,
  enablePush: 0x2,
  maxConcurrentStreams: 0x3,
  initialWindowSize: 0x4,
  maxFrameSize: 0x5,
  maxHeaderListSize: 0x6,
} as const;

/** RFC 9113 §7 error codes. */
export const ErrorCode = {
  noError: 0x0,
  protocol: 0x1,
  internal: 0x2,
  flowControl: 0x3,
  streamClosed: 0x5,
  frameSize: 0x6,
  refusedStream: 0x7,
  cancel: 0x8,
  compression: 0x9,
  enhanceYourCalm: 0xb,
} as const;

/** A connection-level protocol violation: answered with GOAWAY(code) and the connection closed. */
export class H2ConnectionError extends Error {
  override readonly name = 'H2ConnectionError';
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

export function frameHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  writeFrameHeader(b, 0, length, type, flags, streamId);
  return b;
}

export function writeFrameHeader(b: Buffer, at: number, length: number, type: number, flags: number, streamId: number): void {
  b[at] = (length >>> 16) & 0xff;
  b[at + 1] = (length >>> 8) & 0xff;
  b[at + 2] = length & 0xff;
  b[at + 3] = type;
  b[at + 4] = flags;
  b.writeUInt32BE(streamId & 0x7fffffff, at + 5);
}

/** A whole frame in one buffer (header + payload copied), for small control frames and header blocks. */
export function frame(type: number, flags: number, streamId: number, payload?: Uint8Array): Buffer {
  const len = payload?.length ?? 0;
  const b = Buffer.allocUnsafe(FRAME_HEADER_BYTES + len);
  writeFrameHeader(b, 0, len, type, flags, streamId);
  if (payload !== undefined && len > 0) b.set(payload, FRAME_HEADER_BYTES);
  return b;
}

export function settingsFrame(values: ReadonlyArray<readonly [number, number]>): Buffer {
  const p = Buffer.allocUnsafe(values.length * 6);
  values.forEach(([id, v], i) => {
    p.writeUInt16BE(id, i * 6);
    p.writeUInt32BE(v, i * 6 + 2);
  });
  return frame(FrameType.settings, 0, 0, p);
}

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 4);
  writeFrameHeader(b, 0, 4, FrameType.windowUpdate, 0, streamId);
  b.writeUInt32BE(increment & 0x7fffffff, FRAME_HEADER_BYTES);
  return b;
}

export function rstStreamFrame(streamId: number, code: number): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 4);
  writeFrameHeader(b, 0, 4, FrameType.rstStream, 0, streamId);
  b.writeUInt32BE(code, FRAME_HEADER_BYTES);
  return b;
}

export function goawayFrame(lastStreamId: number, code: number, debug = ''): Buffer {
  const d = Buffer.from(debug, 'utf8');
  const p = Buffer.allocUnsafe(8 + d.length);
  p.writeUInt32BE(lastStreamId & 0x7fffffff, 0);
  p.writeUInt32BE(code, 4);
  d.copy(p, 8);
  return frame(FrameType.goaway, 0, 0, p);
}

/** A header block as HEADERS plus CONTINUATION frames no larger than `maxFrame`. */
export function headerFrames(streamId: number, block: Buffer, endStream: boolean, maxFrame: number): Buffer {
  const first = endStream ? Flag.endStream : 0;
  if (block.length <= maxFrame) return frame(FrameType.headers, first | Flag.endHeaders, streamId, block);
  const parts: Buffer[] = [];
  for (let at = 0; at < block.length; at += maxFrame) {
    const chunk = block.subarray(at, Math.min(at + maxFrame, block.length));
    const last = at + maxFrame >= block.length;
    const type = at === 0 ? FrameType.headers : FrameType.continuation;
    parts.push(frame(type, (at === 0 ? first : 0) | (last ? Flag.endHeaders : 0), streamId, chunk));
  }
  return Buffer.concat(parts);
}
