// A real grpc-js server and client on loopback: messages written past grpc-js (pre-framed, to the
// call's HTTP/2 stream) arrive whole and in order, followed by the status grpc-js sends.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { BufferedWriter } from './buffered-writer.ts';
import { RAW_STREAM_SERVICE, RawStreamClient } from './raw-stream-fixture.ts';
import { framedOnce, http2StreamOf } from './message-outlet.ts';

const SERVICE = RAW_STREAM_SERVICE;
const Client = RawStreamClient;

/** Shared by every stream, as a resolution's snapshot is. */
const SHARED = [Buffer.alloc(300_000, 1), Buffer.from('small'), Buffer.alloc(70_000, 3)];
let server: grpc.Server;
let port: number;
const reachedStream: boolean[] = [];

before(async () => {
  server = new grpc.Server();
  server.addService(SERVICE, {
    Stream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      reachedStream.push(http2StreamOf(call) !== undefined);
      const w = new BufferedWriter(call, 16 * 1024 * 1024, { sent: () => {}, overflow: () => {} });
      if (call.request.toString() === 'unavailable') {
        // An error ends the stream at once: only what was handed to the stream goes before it.
        w.write(SHARED[0] as Buffer, 'x');
        w.end(grpc.status.UNAVAILABLE, 'shutting down');
        return;
      }
      for (const m of SHARED) w.write(m, 'x');
      w.end(); // after what waits behind the reader's window
    },
  });
  port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
});

after(() => server.forceShutdown());

function run(mode: string): Promise<{ messages: Buffer[]; status: grpc.StatusObject }> {
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = (client as unknown as { Stream: (req: Buffer) => grpc.ClientReadableStream<Buffer> }).Stream(Buffer.from(mode));
  const messages: Buffer[] = [];
  call.on('data', (b: Buffer) => messages.push(b));
  call.on('error', () => {}); // the status carries it
  return new Promise((resolve) => call.on('status', (status) => resolve({ messages, status })));
}

test('grpc-js exposes the call HTTP/2 stream, so messages skip its per-stream copy', async () => {
  await run('ok');
  assert.ok(reachedStream.length > 0 && reachedStream.every(Boolean), JSON.stringify(reachedStream));
});

test('messages shared by streams arrive whole and in order on each, then OK', async () => {
  const results = await Promise.all([run('ok'), run('ok'), run('ok')]);
  for (const r of results) {
    assert.equal(r.status.code, grpc.status.OK);
    assert.deepEqual(r.messages, SHARED);
  }
});

test('an error status follows the messages already written', async () => {
  const r = await run('unavailable');
  assert.equal(r.status.code, grpc.status.UNAVAILABLE);
  assert.equal(r.status.details, 'shutting down');
  assert.deepEqual(r.messages, SHARED.slice(0, 1));
});

test('a message is framed once, whichever stream writes it', () => {
  const m = Buffer.from('abc');
  const f = framedOnce(m);
  assert.equal(framedOnce(m), f);
  assert.deepEqual(f, Buffer.from([0, 0, 0, 0, 3, 0x61, 0x62, 0x63]));
  assert.notEqual(framedOnce(Buffer.from('abc')), f);
});
