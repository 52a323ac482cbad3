// Whatever a peer sends after the preface, the engine answers with frames or a GOAWAY and
// closes: it never throws into the event loop, never opens a stream from garbage it could not
// decode, and a valid request still opens its stream when frames of random types surround it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import fc from 'fast-check';
import { H2Connection } from './connection.ts';
import { Flag, frame, FrameType, PREFACE } from './frames.ts';

/** A socket stand-in that records what the engine writes. */
function fakeSocket(): { socket: Duplex; written: () => Buffer } {
  const out: Buffer[] = [];
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      out.push(chunk);
      cb();
    },
  });
  return { socket, written: () => Buffer.concat(out) };
}

const anyFrame = fc.record({
  type: fc.integer({ min: 0, max: 12 }),
  flags: fc.integer({ min: 0, max: 255 }),
  stream: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 2 ** 31 - 1 })),
  payload: fc.uint8Array({ maxLength: 64 }),
});

test('random frames after the preface never throw, and a connection the engine gives up on gets a GOAWAY', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(anyFrame, { maxLength: 20 }), async (frames) => {
      const { socket, written } = fakeSocket();
      let failure: Error | undefined;
      const conn = new H2Connection(socket, {
        role: 'server',
        onStream: (s) => s.sendHeaders([':status', '204'], true),
        onClose: (err) => (failure = err),
      });
      const bytes = Buffer.concat([PREFACE, ...frames.map((f) => frame(f.type, f.flags, f.stream, f.payload))]);
      // Split at an arbitrary point, as two socket reads would.
      const cut = bytes.length >> 1;
      conn.feed(bytes.subarray(0, cut));
      conn.feed(bytes.subarray(cut));
      await new Promise((r) => setImmediate(r));
      const out = written();
      // Every output starts with our SETTINGS; a connection the engine closed said why in a GOAWAY.
      assert.equal(out[3], FrameType.settings);
      if (failure !== undefined)
        assert.ok(out.includes(Buffer.from([FrameType.goaway, 0, 0, 0, 0, 0])), `failed (${failure.message}) without a GOAWAY`);
      conn.destroy();
    }),
    { numRuns: 300 },
  );
});

test('random bytes where frames should be never throw', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 400 }), async (junk) => {
      const { socket } = fakeSocket();
      let streams = 0;
      const conn = new H2Connection(socket, { role: 'server', onStream: () => streams++ });
      conn.feed(Buffer.concat([PREFACE, Buffer.from(junk)]));
      await new Promise((r) => setImmediate(r));
      assert.ok(streams <= 1 + junk.length / 10, 'streams only from decodable HEADERS frames');
      conn.destroy();
    }),
    { numRuns: 300 },
  );
});

test('a valid request among PING, PRIORITY and unknown frames still opens its stream', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.constantFrom('ping', 'priority', 'unknown', 'settings'), { maxLength: 6 }),
      fc.array(fc.constantFrom('ping', 'priority', 'unknown', 'settings'), { maxLength: 6 }),
      async (before, after) => {
        const noise = (kind: string): Buffer =>
          kind === 'ping'
            ? frame(FrameType.ping, 0, 0, Buffer.alloc(8, 1))
            : kind === 'priority'
              ? frame(FrameType.priority, 0, 1, Buffer.from([0, 0, 0, 0, 15]))
              : kind === 'unknown'
                ? frame(0xfa, 0, 0, Buffer.from('x'))
                : frame(FrameType.settings, 0, 0);
        const { socket, written } = fakeSocket();
        const paths: string[] = [];
        const conn = new H2Connection(socket, {
          role: 'server',
          onStream: (s, h) => {
            paths.push(h[h.indexOf(':path') + 1] ?? '');
            s.sendHeaders([':status', '204'], true);
          },
        });
        // GET, /, http, :authority x: static-table indexes and one literal.
        const request = frame(FrameType.headers, Flag.endHeaders | Flag.endStream, 1, Buffer.from([0x82, 0x84, 0x86, 0x01, 0x01, 0x78]));
        conn.feed(Buffer.concat([PREFACE, frame(FrameType.settings, 0, 0), ...before.map(noise), request, ...after.map(noise)]));
        await new Promise((r) => setImmediate(r));
        assert.deepEqual(paths, ['/']);
        const pings = before.concat(after).filter((k) => k === 'ping').length;
        let acks = 0;
        const out = written();
        for (let at = 0; at + 9 <= out.length; at += 9 + out.readUIntBE(at, 3))
          if (out[at + 3] === FrameType.ping && out[at + 4] === Flag.ack) acks++;
        assert.equal(acks, pings, 'every PING is acknowledged');
        conn.destroy();
      },
    ),
    { numRuns: 100 },
  );
});
