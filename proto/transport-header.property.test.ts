// Property tests for the hand-written transport header codec, the counterpart of the
// transport-header crate's fuzz targets: round trips for valid headers, cross-checked against
// protobufjs reading transport-header.proto, and arbitrary bytes that must never make the
// decoder fail in any other way than a TransportHeaderError nor look past 64 KiB.
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import protobuf from 'protobufjs';
import { protoDirectory } from './load.ts';
import {
  decodeTransportHeader,
  encodeTransportHeader,
  MAX_TRANSPORT_HEADER_BYTES,
  TRANSPORT_HEADER_PREFACE,
  TransportHeaderError,
  type DecodeResult,
  type TransportHeader,
} from './transport-header.ts';

const root = new protobuf.Root().loadSync(join(protoDirectory(), 'transport-header.proto'), { keepCase: true });
const HeaderType = root.lookupType('transport.l5d.io.Header');

const label = fc.stringMatching(/^[a-z0-9_](?:[a-z0-9_-]{0,20}[a-z0-9_])?$/);
const dnsName = fc
  .tuple(fc.array(label, { minLength: 1, maxLength: 5 }), fc.stringMatching(/^[a-z_][a-z0-9_-]{0,8}$/), fc.boolean())
  .filter(([, last]) => !last.endsWith('-'))
  .map(([labels, last, dot]) => `${[...labels, last].join('.')}${dot ? '.' : ''}`);
const header: fc.Arbitrary<TransportHeader> = fc
  .record(
    {
      port: fc.integer({ min: 1, max: 65_535 }),
      name: fc.oneof(dnsName, fc.domain()),
      protocol: fc.constantFrom('http1' as const, 'http2' as const),
    },
    { requiredKeys: ['port'] },
  )
  .map((h) => ({ ...h })); // fast-check's records have a null prototype

test('encode then decode returns the header, and protobufjs reads the same message', () => {
  fc.assert(
    fc.property(header, fc.uint8Array({ maxLength: 16 }), (h, payload) => {
      const wire = encodeTransportHeader(h);
      const result = decodeTransportHeader(Buffer.concat([wire, payload]));
      assert.deepEqual(result, { header: h, consumed: wire.length });

      const decoded = HeaderType.toObject(HeaderType.decode(wire.subarray(TRANSPORT_HEADER_PREFACE.length + 4)), { defaults: true, oneofs: true });
      assert.equal(decoded.port, h.port);
      assert.equal(decoded.name, h.name ?? '');
      assert.equal((decoded.session_protocol as { kind?: string } | null)?.kind, h.protocol);
    }),
    { numRuns: 500 },
  );
});

test('protobufjs-encoded headers, with unknown fields, decode the same', () => {
  const Unknown = new protobuf.Type('Unknown').add(new protobuf.Field('extra', 9, 'string')).add(new protobuf.Field('more', 12, 'fixed64'));
  fc.assert(
    fc.property(header, fc.string({ maxLength: 20 }), (h, extra) => {
      const session_protocol = h.protocol ? { [h.protocol]: {} } : undefined;
      const known = HeaderType.encode(HeaderType.fromObject({ port: h.port, name: h.name ?? '', session_protocol })).finish();
      const unknown = Unknown.encode(Unknown.fromObject({ extra, more: 7 })).finish();
      const message = Buffer.concat([unknown, known]);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(message.length);
      const result = decodeTransportHeader(Buffer.concat([TRANSPORT_HEADER_PREFACE, length, message]));
      assert.deepEqual(result, { header: h, consumed: TRANSPORT_HEADER_PREFACE.length + 4 + message.length });
    }),
    { numRuns: 300 },
  );
});

// Byte soup that gets past the preface and length check often enough to exercise the parser.
const u32 = (n: number): Uint8Array => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const protobufish = fc.array(
  fc.oneof(fc.constantFrom(0x08, 0x12, 0x1a, 0x0a, 0x33, 0x3c, 0x21, 0x2d, 0x80, 0xff, 0x00, 0x01), fc.integer({ min: 0, max: 255 })),
  {
    maxLength: 80,
  },
);
const arbitraryInput = fc.oneof(
  fc.uint8Array({ maxLength: 120 }),
  fc.uint8Array({ maxLength: 120 }).map((rest) => Buffer.concat([TRANSPORT_HEADER_PREFACE, rest])),
  protobufish.map((body) => Buffer.concat([TRANSPORT_HEADER_PREFACE, u32(body.length), Uint8Array.from(body)])),
  fc
    .tuple(fc.integer({ min: 0, max: 0xffff_ffff }), protobufish)
    .map(([len, body]) => Buffer.concat([TRANSPORT_HEADER_PREFACE, u32(len), Uint8Array.from(body)])),
);

const attempt = (buf: Buffer): DecodeResult | TransportHeaderError => {
  try {
    return decodeTransportHeader(buf);
  } catch (err) {
    if (err instanceof TransportHeaderError) return err;
    throw err;
  }
};

test('arbitrary bytes give a header, a request for more, or a TransportHeaderError', () => {
  fc.assert(
    fc.property(arbitraryInput, (input) => {
      const buf = Buffer.from(input);
      const result = attempt(buf);
      if ('header' in result) {
        assert.ok(result.consumed <= buf.length && result.consumed <= MAX_TRANSPORT_HEADER_BYTES);
        assert.ok(result.header.port >= 1 && result.header.port <= 65_535);
      }
    }),
    { numRuns: 3000 },
  );
});

test('the decoder never looks past 64 KiB', () => {
  // Whatever follows byte 65536 cannot change the outcome.
  fc.assert(
    fc.property(arbitraryInput, fc.integer({ min: 0, max: 255 }), fc.uint8Array({ minLength: 1, maxLength: 64 }), (input, fill, beyond) => {
      const head = Buffer.from(input);
      const limit = Buffer.concat([head, Buffer.alloc(MAX_TRANSPORT_HEADER_BYTES - head.length, fill)]);
      const a = attempt(limit);
      const b = attempt(Buffer.concat([limit, beyond]));
      const outcome = (r: DecodeResult | TransportHeaderError): unknown => (r instanceof TransportHeaderError ? `${r.name}: ${r.message}` : r);
      assert.deepEqual(outcome(a), outcome(b));
      assert.ok(!('needMore' in b), 'with 64 KiB available a decision is always possible');
    }),
    { numRuns: 300 },
  );
});
