import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import {
  EngineGrpcConnection,
  frameMessage,
  GrpcH2Connection,
  MessageDeframer,
  PROXY_WINDOWS,
  type CallEnd,
  type GrpcStreamingConnection,
} from './destination-h2-client.ts';

const bytes = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

test('the deframer returns each message whole, however the bytes are cut', () => {
  const messages = [bytes(3, 1), bytes(0, 2), bytes(70_000, 3), bytes(1, 4)];
  const wire = Buffer.concat(messages.map(frameMessage));
  for (const cut of [1, 2, 5, 7, 4096, wire.length]) {
    const d = new MessageDeframer();
    const got: Buffer[] = [];
    for (let at = 0; at < wire.length; at += cut) got.push(...d.push(wire.subarray(at, at + cut)).map((m) => m.bytes ?? Buffer.alloc(0)));
    assert.deepEqual(got, messages, `chunks of ${cut}`);
    assert.ok(d.idle);
  }
});

test('the deframer holds a message back until its last byte has come', () => {
  const d = new MessageDeframer();
  const wire = frameMessage(bytes(10, 5));
  assert.deepEqual(d.push(wire.subarray(0, 14)), []);
  assert.equal(d.idle, false);
  const [m, ...more] = d.push(wire.subarray(14));
  assert.deepEqual(more, []);
  assert.ok(m);
  assert.equal(m.length, 10);
  assert.deepEqual(m.bytes, bytes(10, 5));
});

test('the deframer refuses compressed messages', () => {
  assert.throws(() => new MessageDeframer().push(Buffer.from([1, 0, 0, 0, 0])), /compressed/);
});

test('the connection advertises the proxy windows: 65,535 a stream, 1 MiB for the connection', async (t) => {
  const server = http2.createServer();
  const seen = new Promise<{ stream?: number; connection: number }>((resolve) => {
    server.on('session', (s) => {
      // The client's WINDOW_UPDATE follows its SETTINGS; wait for the stream so that both have come.
      s.on('stream', (st) => {
        resolve({ stream: s.remoteSettings.initialWindowSize, connection: s.state.remoteWindowSize ?? -1 });
        st.respond({ ':status': 200, 'content-type': 'application/grpc' });
        st.end();
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const conn = await GrpcH2Connection.connect(`127.0.0.1:${(server.address() as AddressInfo).port}`, PROXY_WINDOWS);
  t.after(() => conn.close());
  conn.serverStream('/x/Y', Buffer.alloc(0), { message: () => {}, end: () => {} });
  assert.deepEqual(await seen, { stream: 65_535, connection: 1 << 20 });
  assert.deepEqual(conn.windows, PROXY_WINDOWS);
});

/** A grpc-js server like the destination's: responses are written as ready bytes. */
async function grpcServer(handler: (call: grpc.ServerWritableStream<Buffer, Buffer>) => void): Promise<{ address: string; stop(): void }> {
  const server = new grpc.Server();
  const pass = (b: Buffer): Buffer => b;
  server.addService(
    {
      Get: {
        path: '/t.S/Get',
        requestStream: false,
        responseStream: true,
        requestSerialize: pass,
        requestDeserialize: pass,
        responseSerialize: pass,
        responseDeserialize: pass,
      },
    },
    { Get: handler },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { address: `127.0.0.1:${port}`, stop: () => server.forceShutdown() };
}

interface Received {
  messages: Array<{ length: number; bytes: Buffer | undefined }>;
  end: CallEnd;
}

function call(conn: GrpcStreamingConnection, request: Buffer, keepBytesUpTo?: number): Promise<Received> {
  const messages: Received['messages'] = [];
  return new Promise((resolve) => {
    conn.serverStream('/t.S/Get', request, {
      ...(keepBytesUpTo === undefined ? {} : { keepBytesUpTo }),
      message: (m) => messages.push({ length: m.length, bytes: m.bytes }),
      end: (end) => resolve({ messages, end }),
    });
  });
}

const clients = [
  ['node:http2', GrpcH2Connection],
  // Its reads land in one reused buffer: a message copied out late would show the next read's bytes.
  ['h2/ engine', EngineGrpcConnection],
] as const;

for (const [kind, Client] of clients) {
  test(`${kind}: a call carries its request and receives large messages, then the status`, async (t) => {
    const sent = [bytes(300_000, 1), bytes(12, 2), bytes(200_000, 3)];
    const server = await grpcServer((c) => {
      assert.deepEqual(c.request, Buffer.from('req'));
      for (const m of sent) c.write(m);
      c.end();
    });
    t.after(() => server.stop());
    const conn = await Client.connect(server.address, PROXY_WINDOWS);
    t.after(() => conn.close());
    // Several at once: 1 MiB of connection window is shared by all of them.
    const results = await Promise.all(Array.from({ length: 5 }, () => call(conn, Buffer.from('req'))));
    for (const r of results) {
      assert.deepEqual(
        r.messages.map((m) => m.bytes),
        sent,
      );
      assert.deepEqual(r.end, { kind: 'status', code: grpc.status.OK, details: 'OK' });
    }
  });

  test(`${kind}: messages over keepBytesUpTo are reported by length only`, async (t) => {
    const server = await grpcServer((c) => {
      for (const m of [bytes(100_000, 4), bytes(40, 5), bytes(4097, 6), bytes(4096, 7)]) c.write(m);
      c.end();
    });
    t.after(() => server.stop());
    const conn = await Client.connect(server.address, PROXY_WINDOWS);
    t.after(() => conn.close());
    const r = await call(conn, Buffer.alloc(0), 4096);
    assert.deepEqual(r.messages, [
      { length: 100_000, bytes: undefined },
      { length: 40, bytes: bytes(40, 5) },
      { length: 4097, bytes: undefined },
      { length: 4096, bytes: bytes(4096, 7) },
    ]);
  });

  test(`${kind}: an error status reaches the caller with its details`, async (t) => {
    const server = await grpcServer((c) => c.emit('error', { code: grpc.status.NOT_FOUND, details: 'no such Service: a/b' }));
    t.after(() => server.stop());
    const conn = await Client.connect(server.address, PROXY_WINDOWS);
    t.after(() => conn.close());
    assert.deepEqual(await call(conn, Buffer.alloc(0)), {
      messages: [],
      end: { kind: 'status', code: grpc.status.NOT_FOUND, details: 'no such Service: a/b' },
    });
  });
}
