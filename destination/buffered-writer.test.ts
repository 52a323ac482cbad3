// A real grpc-js server and client on loopback: a reader that stops reading gets its stream
// reset with RESOURCE_EXHAUSTED once the writer's buffer limit is passed; one that keeps up
// receives everything in order.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { BufferedWriter } from './buffered-writer.ts';
import { RAW_STREAM_SERVICE, RawStreamClient } from './raw-stream-fixture.ts';

const SERVICE = RAW_STREAM_SERVICE;
const Client = RawStreamClient;

let server: grpc.Server;
let port: number;
const overflows: string[] = [];
const MESSAGES = 200;
const SIZE = 256 * 1024;
/** 3 MB in one burst: within the 4 MB a stream may hold. */
const FAST_MESSAGES = 12;

before(async () => {
  server = new grpc.Server();
  server.addService(SERVICE, {
    Stream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      const mode = call.request.toString();
      const w = new BufferedWriter(call, 4 * 1024 * 1024, { sent: () => {}, overflow: () => overflows.push(mode) });
      const count = mode === 'fast' ? FAST_MESSAGES : MESSAGES;
      for (let i = 0; i < count && !w.closed; i++) {
        const b = Buffer.alloc(SIZE, i % 256);
        b.writeUInt32BE(i, 0);
        w.write(b, 'x');
      }
      if (!w.closed) setTimeout(() => w.end(), 0);
    },
  });
  port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
});

after(() => server.forceShutdown());

function open(mode: string): grpc.ClientReadableStream<Buffer> {
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return (client as unknown as { Stream: (req: Buffer) => grpc.ClientReadableStream<Buffer> }).Stream(Buffer.from(mode));
}

test('a reader that keeps up gets every message in order and an OK status', async () => {
  const call = open('fast');
  const seen: number[] = [];
  call.on('data', (b: Buffer) => seen.push(b.readUInt32BE(0)));
  const st = await new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  assert.equal(st.code, grpc.status.OK);
  assert.deepEqual(
    seen,
    Array.from({ length: FAST_MESSAGES }, (_, i) => i),
  );
  assert.ok(!overflows.includes('fast'));
});

test('a reader that stops reading is reset with RESOURCE_EXHAUSTED instead of buffering 50 MB', async () => {
  const call = open('stuck');
  call.pause();
  let received = 0;
  const ended = new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
  // Resume only once the server has given up on this reader.
  await new Promise<void>((resolve) => {
    const check = () => (overflows.includes('stuck') ? resolve() : setTimeout(check, 20));
    check();
  });
  call.on('data', () => received++);
  call.resume();
  const err = await ended;
  assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.ok(received < MESSAGES, `received ${received} of ${MESSAGES}`);
});
