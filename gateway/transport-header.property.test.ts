// Property tests of the transport-header decoder as the gateway uses it (proto/ owns the codec):
// whatever bytes a client sends, the decoder either asks for more, returns a valid header, or
// throws a TransportHeaderError, which direct.ts turns into a counted close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeTransportHeader,
  encodeTransportHeader,
  TRANSPORT_HEADER_PREFACE,
  TransportHeaderError,
  type TransportHeader,
} from '../proto/transport-header.ts';
import { headerFailureReason } from './direct.ts';

const label = fc.stringMatching(/^[a-z]([a-z0-9-]{0,10}[a-z0-9])?$/);
const header: fc.Arbitrary<TransportHeader> = fc.record(
  {
    port: fc.integer({ min: 1, max: 65535 }),
    name: fc.array(label, { minLength: 1, maxLength: 6 }).map((ls) => ls.join('.')),
    protocol: fc.constantFrom('http1' as const, 'http2' as const),
  },
  { requiredKeys: ['port'] },
);

test('encoded headers decode to themselves, with trailing session bytes left alone', () => {
  fc.assert(
    fc.property(header, fc.uint8Array({ maxLength: 64 }), (h, rest) => {
      const wire = encodeTransportHeader(h);
      const r = decodeTransportHeader(Buffer.concat([wire, rest]));
      assert.ok('header' in r);
      assert.deepEqual(r.header, { ...h });
      assert.equal(r.consumed, wire.length);
    }),
  );
});

test('every strict prefix of a header asks for more bytes', () => {
  fc.assert(
    fc.property(header, fc.nat(), (h, cut) => {
      const wire = encodeTransportHeader(h);
      const r = decodeTransportHeader(wire.subarray(0, cut % wire.length));
      assert.deepEqual(r, { needMore: true });
    }),
  );
});

test('arbitrary bytes after the preface never escape as anything but a TransportHeaderError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (body, withPreface) => {
      const buf = withPreface ? Buffer.concat([TRANSPORT_HEADER_PREFACE, Buffer.from(body)]) : Buffer.from(body);
      try {
        const r = decodeTransportHeader(buf);
        if ('header' in r) {
          assert.ok(r.header.port >= 1 && r.header.port <= 65535);
          assert.ok(r.consumed <= buf.length);
        }
      } catch (err) {
        assert.ok(err instanceof TransportHeaderError, String(err));
        assert.notEqual(headerFailureReason(err), 'io', 'every decoder failure maps to a header_* reason');
      }
    }),
    { numRuns: 2000 },
  );
});
