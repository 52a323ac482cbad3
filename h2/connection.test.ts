// The frame engine against nghttp2 (node:http2) on both sides: requests and responses with
// bodies larger than every window, trailers, resets both ways, refused streams, GOAWAY.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as http2 from 'node:http2';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { H2Connection, type H2Stream } from './connection.ts';
import { ErrorCode, Flag, frame, FrameType, PREFACE, rstStreamFrame } from './frames.ts';
import type { FlatHeaders } from './hpack.ts';

function listen(server: Server | http2.Http2Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function get(h: FlatHeaders, name: string): string | undefined {
  for (let i = 0; i < h.length; i += 2) if (h[i] === name) return h[i + 1];
  return undefined;
}

/** Collects a stream's response as the client role sees it. */
function collect(s: H2Stream): Promise<{ headers: FlatHeaders; body: Buffer; trailers?: FlatHeaders; reset?: number }> {
  return new Promise((resolve) => {
    let headers: FlatHeaders = [];
    let trailers: FlatHeaders | undefined;
    const body: Buffer[] = [];
    s.onHeaders = (h, end) => {
      if (headers.length === 0) headers = h;
      else trailers = h;
      if (end) resolve({ headers, body: Buffer.concat(body), ...(trailers ? { trailers } : {}) });
    };
    s.onData = (chunk, end) => {
      body.push(Buffer.from(chunk));
      s.consumeAll();
      if (end) resolve({ headers, body: Buffer.concat(body), ...(trailers ? { trailers } : {}) });
    };
    s.onReset = (code) => resolve({ headers, body: Buffer.concat(body), reset: code });
  });
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('client role: a 3 MB upload and its 3 MB echo pass every flow-control window of nghttp2, with trailers', async (t) => {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const parts: Buffer[] = [];
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.on('end', () => {
      const body = Buffer.concat(parts);
      stream.respond({ ':status': 200, 'x-path': String(headers[':path']) }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-sha': sha(body) }));
      stream.end(body);
    });
  });
  const port = await listen(server);
  t.after(() => server.close());
  const socket = connect({ host: '127.0.0.1', port });
  const conn = new H2Connection(socket, { role: 'client' });
  t.after(() => conn.destroy());
  const upload = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < upload.length; i++) upload[i] = i % 251;
  const s = conn.request([':method', 'POST', ':scheme', 'http', ':authority', 'x', ':path', '/echo'], false);
  const done = collect(s);
  // Sent in 64 KiB pieces, each only after the previous was taken, as a relay does.
  for (let at = 0; at < upload.length; at += 65_536) {
    s.sendData(upload.subarray(at, at + 65_536), at + 65_536 >= upload.length);
    await new Promise<void>((r) => s.whenWritable(r));
  }
  const res = await done;
  assert.equal(get(res.headers, ':status'), '200');
  assert.equal(get(res.headers, 'x-path'), '/echo');
  assert.equal(res.body.length, upload.length);
  assert.equal(sha(res.body), sha(upload));
  assert.equal(get(res.trailers ?? [], 'x-sha'), sha(upload));
});

test('client role: many concurrent requests on one connection each get their own answer', async (t) => {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    stream.respond({ ':status': 200 });
    stream.end(String(headers[':path']));
  });
  const port = await listen(server);
  t.after(() => server.close());
  const conn = new H2Connection(connect({ host: '127.0.0.1', port }), { role: 'client' });
  t.after(() => conn.destroy());
  const answers = await Promise.all(
    Array.from({ length: 200 }, (_, i) => collect(conn.request([':method', 'GET', ':scheme', 'http', ':authority', 'x', ':path', `/${i}`], true))),
  );
  assert.deepEqual(
    answers.map((a) => a.body.toString()),
    Array.from({ length: 200 }, (_, i) => `/${i}`),
  );
});

test('client role: a reset from the server reaches onReset with its code', async (t) => {
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.on('error', () => undefined);
    stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
  });
  const port = await listen(server);
  t.after(() => server.close());
  const conn = new H2Connection(connect({ host: '127.0.0.1', port }), { role: 'client' });
  t.after(() => conn.destroy());
  const res = await collect(conn.request([':method', 'GET', ':scheme', 'http', ':authority', 'x', ':path', '/'], true));
  assert.equal(res.reset, ErrorCode.refusedStream);
});

test('client role: a reset asked for while the last frame of a finished stream is delivered sends nothing', async (t) => {
  // The gateway's relay resets the target's stream when the client's closes; that happens inside
  // the target's final DATA callback, when both sides have already ended.
  const received: Buffer[] = [];
  const conns: H2Connection[] = [];
  const server = createServer((socket: Socket) => {
    socket.on('data', (c: Buffer) => received.push(c));
    conns.push(
      new H2Connection(socket, {
        role: 'server',
        onStream: (s) => {
          s.sendHeaders([':status', '200'], false);
          s.sendData(Buffer.from('ok'), true);
        },
      }),
    );
  });
  const port = await listen(server);
  t.after(() => {
    for (const c of conns) c.destroy();
    server.close();
  });
  const conn = new H2Connection(connect({ host: '127.0.0.1', port }), { role: 'client' });
  t.after(() => conn.destroy());
  const request = (): Promise<boolean> =>
    new Promise((resolve) => {
      const s = conn.request([':method', 'GET', ':scheme', 'http', ':authority', 'x', ':path', '/'], true);
      s.onData = (_chunk, end) => {
        if (!end) return;
        s.reset(ErrorCode.cancel);
        resolve(s.closed);
      };
    });
  assert.equal(await request(), true, 'the stream is closed');
  // A second request on the same connection: whatever the first reset wrote has reached the server by its end.
  assert.equal(await request(), true);
  const types = frameTypes(Buffer.concat(received).subarray(PREFACE.length));
  assert.equal(types.filter((x) => x === FrameType.headers).length, 2, 'two requests went out');
  assert.equal(types.includes(FrameType.rstStream), false, `no RST_STREAM among frame types ${types.join(',')}`);
  // A stream still open on one side is reset as before.
  const open = conn.request([':method', 'POST', ':scheme', 'http', ':authority', 'x', ':path', '/'], false);
  const reset = new Promise<void>((resolve) => {
    open.onData = (_chunk, end) => {
      if (end) {
        open.reset(ErrorCode.cancel);
        resolve();
      }
    };
  });
  await reset;
  await request(); // ordered after the reset on the same connection
  assert.equal(frameTypes(Buffer.concat(received).subarray(PREFACE.length)).includes(FrameType.rstStream), true);
});

/** The type of every complete frame in `bytes`, in order. */
function frameTypes(bytes: Buffer): number[] {
  const out: number[] = [];
  for (let at = 0; at + 9 <= bytes.length;) {
    const len = bytes.readUIntBE(at, 3);
    out.push(bytes[at + 3] as number);
    at += 9 + len;
  }
  return out;
}

test('client role: a connection that cannot be made resets its streams', async () => {
  const closed = createServer();
  const port = await listen(closed);
  await new Promise((r) => closed.close(r));
  const conn = new H2Connection(connect({ host: '127.0.0.1', port }), { role: 'client' });
  const res = await collect(conn.request([':method', 'GET', ':scheme', 'http', ':authority', 'x', ':path', '/'], true));
  assert.notEqual(res.reset, undefined);
  assert.equal(conn.destroyed, true);
});

/** A server-role engine on every accepted socket, answering with `handle`. */
async function engineServer(
  t: { after: (fn: () => void) => void },
  handle: (s: H2Stream, h: FlatHeaders, end: boolean) => void,
  opts: { maxConcurrentStreams?: number } = {},
): Promise<{ port: number; conns: H2Connection[] }> {
  const conns: H2Connection[] = [];
  const server = createServer((socket: Socket) => conns.push(new H2Connection(socket, { role: 'server', ...opts, onStream: handle })));
  const port = await listen(server);
  t.after(() => {
    for (const c of conns) c.destroy();
    server.close();
  });
  return { port, conns };
}

test('server role: nghttp2 uploads 3 MB and reads a 3 MB answer and trailers', async (t) => {
  const { port } = await engineServer(t, (s, h) => {
    const parts: Buffer[] = [];
    s.onData = (chunk, end) => {
      parts.push(Buffer.from(chunk));
      s.consumeAll();
      if (!end) return;
      const body = Buffer.concat(parts);
      s.sendHeaders([':status', '201', 'x-method', get(h, ':method') ?? ''], false);
      s.sendData(body, false);
      s.whenWritable(() => s.sendHeaders(['x-sha', sha(body)], true));
    };
  });
  const client = http2.connect(`http://127.0.0.1:${port}`);
  t.after(() => client.close());
  const upload = Buffer.alloc(3 * 1024 * 1024, 9);
  const req = client.request({ ':method': 'PUT', ':path': '/' });
  req.end(upload);
  const [status, method] = await new Promise<[number, string]>((r) => req.once('response', (h) => r([Number(h[':status']), String(h['x-method'])])));
  const trailers = new Promise<http2.IncomingHttpHeaders>((r) => req.once('trailers', r));
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  assert.equal(status, 201);
  assert.equal(method, 'PUT');
  assert.equal(sha(Buffer.concat(parts)), sha(upload));
  assert.equal((await trailers)['x-sha'], sha(upload));
});

test('server role: streams beyond SETTINGS_MAX_CONCURRENT_STREAMS are refused, and a client reset reaches its stream', async (t) => {
  const resets: Array<[number, number]> = [];
  const opened: number[] = [];
  const { port } = await engineServer(
    t,
    (s) => {
      opened.push(s.id);
      s.onReset = (code) => resets.push([s.id, code]);
    },
    { maxConcurrentStreams: 2 },
  );
  // Raw frames, since nghttp2 would hold the third stream back itself. Header block: GET, /, http, :authority x (static-table indexes).
  const block = Buffer.from([0x82, 0x84, 0x86, 0x01, 0x01, 0x78]);
  const headers = (id: number): Buffer => frame(FrameType.headers, Flag.endHeaders | Flag.endStream, id, block);
  const socket = connect({ host: '127.0.0.1', port });
  t.after(() => socket.destroy());
  const got: Buffer[] = [];
  socket.on('data', (c: Buffer) => got.push(c));
  socket.write(Buffer.concat([PREFACE, frame(FrameType.settings, 0, 0), headers(1), headers(3), headers(5), rstStreamFrame(1, ErrorCode.cancel)]));
  const rstOf5 = rstStreamFrame(5, ErrorCode.refusedStream);
  while (Buffer.concat(got).indexOf(rstOf5) < 0) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(opened, [1, 3]);
  while (resets.length === 0) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(resets, [[1, ErrorCode.cancel]]);
});

test('server role: close() sends GOAWAY, lets the open stream finish, then ends the socket', async (t) => {
  let finish: (() => void) | undefined;
  const { port, conns } = await engineServer(t, (s) => {
    finish = () => {
      s.sendHeaders([':status', '200'], false);
      s.sendData(Buffer.from('late'), true);
    };
  });
  const client = http2.connect(`http://127.0.0.1:${port}`);
  t.after(() => client.destroy());
  const req = client.request({ ':path': '/' });
  req.end();
  while (finish === undefined) await new Promise((r) => setTimeout(r, 5));
  const goaway = new Promise<number>((r) => client.once('goaway', (code: number) => r(code)));
  conns[0]?.close();
  assert.equal(await goaway, 0);
  finish();
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  assert.equal(Buffer.concat(parts).toString(), 'late');
  await new Promise((r) => client.once('close', r));
});

test('server role: a bad preface is a connection error, answered with GOAWAY', async (t) => {
  const { port } = await engineServer(t, () => undefined);
  const socket = connect({ host: '127.0.0.1', port });
  const got: Buffer[] = [];
  socket.on('data', (c: Buffer) => got.push(c));
  socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((r) => socket.once('close', r));
  const all = Buffer.concat(got);
  // SETTINGS, WINDOW_UPDATE, then a GOAWAY with PROTOCOL_ERROR.
  const goawayAt = all.indexOf(Buffer.from([0x07, 0x00, 0x00, 0x00, 0x00, 0x00]));
  assert.ok(goawayAt > 0, 'GOAWAY frame present');
  assert.equal(all.readUInt32BE(goawayAt + 10), ErrorCode.protocol);
});

test('server role: a header block continued past the header-list limit (CONTINUATION flood) ends the connection', async (t) => {
  const { port } = await engineServer(t, () => assert.fail('no stream may open'));
  const socket = connect({ host: '127.0.0.1', port });
  t.after(() => socket.destroy());
  const got: Buffer[] = [];
  socket.on('data', (c: Buffer) => got.push(c));
  socket.on('error', () => undefined);
  const piece = Buffer.alloc(16_000, 0x40);
  const frames = [PREFACE, frame(FrameType.settings, 0, 0), frame(FrameType.headers, 0, 1, piece)];
  for (let i = 0; i < 8; i++) frames.push(frame(FrameType.continuation, 0, 1, piece));
  socket.write(Buffer.concat(frames));
  await new Promise((r) => socket.once('close', r));
  const all = Buffer.concat(got);
  const goawayAt = all.indexOf(Buffer.from([0x07, 0x00, 0x00, 0x00, 0x00, 0x00]));
  assert.ok(goawayAt > 0, 'GOAWAY frame present');
  assert.equal(all.readUInt32BE(goawayAt + 10), ErrorCode.enhanceYourCalm);
});
