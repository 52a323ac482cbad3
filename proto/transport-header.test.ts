import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import {
  decodeTransportHeader,
  encodeTransportHeader,
  HeaderTimeoutError,
  HeaderTooLargeError,
  IncompleteHeaderError,
  InvalidHeaderNameError,
  InvalidHeaderPortError,
  MalformedHeaderError,
  MissingPrefaceError,
  readTransportHeader,
  TransportHeaderError,
  type TransportHeader,
} from './transport-header.ts';

/** Hex with white space and `# comment` to the end of a line. */
const hex = (s: string): Buffer => {
  const digits = s.replace(/#.*$/gm, '').replace(/\s+/g, '');
  assert.match(digits, /^(?:[0-9a-f]{2})*$/, 'malformed hex in the test itself');
  return Buffer.from(digits, 'hex');
};
// "transport.l5d.io/v1\r\n\r\n"
const PREFACE_HEX = '7472616e73706f72742e6c35642e696f2f7631 0d0a0d0a';
/** Preface + big-endian length + the given protobuf message bytes. */
const framed = (message: string): Buffer => {
  const msg = hex(message);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(msg.length);
  return Buffer.concat([hex(PREFACE_HEX), len, msg]);
};
const varintHex = (n: number): string => (n < 128 ? n.toString(16).padStart(2, '0') : `${((n & 0x7f) | 0x80).toString(16)}${varintHex(n >>> 7)}`);
const decodeOk = (buf: Buffer): { header: TransportHeader; consumed: number } => {
  const r = decodeTransportHeader(buf);
  assert.ok('header' in r, 'expected a complete header');
  return r;
};

const SPEC_EXAMPLE = hex(`${PREFACE_HEX}
  00000021                                                # message length 33
  08 903f                                                 # port = 8080 (varint)
  12 18 666f6f2e6e732e7376632e636c75737465722e6c6f63616c  # name = "foo.ns.svc.cluster.local" (24 bytes)
  1a 02 12 00                                             # session_protocol { http2 {} }`);

test('encodes the spec example byte for byte', () => {
  assert.deepEqual(encodeTransportHeader({ port: 8080, name: 'foo.ns.svc.cluster.local', protocol: 'http2' }), SPEC_EXAMPLE);
});

test('decodes the spec example', () => {
  assert.deepEqual(decodeTransportHeader(SPEC_EXAMPLE), {
    header: { port: 8080, name: 'foo.ns.svc.cluster.local', protocol: 'http2' },
    consumed: 60,
  });
});

test('encodes the opaque-transport and HTTP/1 forms', () => {
  // Pod opaque-transport: only the application port, no name, no session protocol.
  assert.deepEqual(encodeTransportHeader({ port: 5432 }), framed('08 b82a'));
  assert.deepEqual(encodeTransportHeader({ port: 80, protocol: 'http1' }), framed('08 50  1a 02 0a 00'));
});

test('round-trips headers with and without name and protocol', () => {
  const cases: TransportHeader[] = [
    { port: 1 },
    { port: 65_535, protocol: 'http1' },
    { port: 4143, name: 'web.default.svc.cluster.local.', protocol: 'http2' },
    { port: 8080, name: 'a_b.example' },
  ];
  for (const h of cases) assert.deepEqual(decodeOk(encodeTransportHeader(h)).header, h);
});

test('asks for more bytes at every split point, then decodes and leaves the payload', () => {
  const payload = Buffer.from('PRI * HTTP/2.0\r\n');
  const wire = Buffer.concat([SPEC_EXAMPLE, payload]);
  for (let n = 0; n < SPEC_EXAMPLE.length; n++) assert.deepEqual(decodeTransportHeader(wire.subarray(0, n)), { needMore: true }, `split at ${n}`);
  const r = decodeOk(wire);
  assert.deepEqual(wire.subarray(r.consumed), payload);
});

test('refuses a stream without the preface as soon as it diverges', () => {
  assert.throws(() => decodeTransportHeader(Buffer.from('GET / HTTP/1.1\r\n\r\n')), MissingPrefaceError);
  assert.throws(() => decodeTransportHeader(Buffer.from('tra-')), MissingPrefaceError);
  assert.throws(() => decodeTransportHeader(Buffer.from('transport.l5d.io/v2\r\n\r\n')), MissingPrefaceError);
  assert.throws(() => decodeTransportHeader(Buffer.from('PRI')), /^MissingPrefaceError: direct connections require transport header negotiation/);
});

test('refuses a header that would not fit in 64 KiB', () => {
  const withLength = (n: number): Buffer => Buffer.concat([hex(PREFACE_HEX), hex(n.toString(16).padStart(8, '0'))]);
  // 27 bytes of preface and length + 65509 = 65536: still allowed, so more bytes are needed.
  assert.deepEqual(decodeTransportHeader(withLength(65_509)), { needMore: true });
  assert.throws(() => decodeTransportHeader(withLength(65_510)), HeaderTooLargeError);
  assert.throws(() => decodeTransportHeader(withLength(0xffff_ffff)), /^HeaderTooLargeError: transport header is larger than the 65536-byte limit$/);
  assert.throws(() => decodeTransportHeader(withLength(100), 64), HeaderTooLargeError);
});

test('refuses malformed protobuf', () => {
  const cases: [string, string][] = [
    ['08', 'truncated varint'],
    ['08 ff', 'truncated varint'],
    ['08 ffffffffffffffffffff01', 'varint longer than 10 bytes'],
    ['08 ffffffffffffffffff7f', 'varint longer than 64 bits'],
    ['12 05 6162', 'length-delimited field runs past the message'],
    ['10 01', 'field 2 has wire type 0'],
    ['0a 01 00', 'field 1 has wire type 2'],
    ['1a 02 08 01', 'session protocol field 1 has wire type 0'],
    ['1a 02 12 05', 'length-delimited field runs past the message'],
    ['08 50 21 0102', 'fixed-width field runs past the message'],
    ['08 50 33 08 01', 'unterminated group'],
    ['08 50 33 3c', 'mismatched end of group'],
    ['08 50 34', 'unexpected wire type 4'],
    ['08 50 37', 'unexpected wire type 7'],
    ['00 50', 'invalid field number 0'],
    ['12 01 ff 08 50', 'name is not UTF-8'],
    [`08 50 ${'33'.repeat(101)}`, 'groups nested too deeply'],
  ];
  for (const [message, reason] of cases) {
    assert.throws(
      () => decodeTransportHeader(framed(message)),
      (err: unknown) => err instanceof MalformedHeaderError && err.reason === reason,
      `${message}: ${reason}`,
    );
  }
});

test('refuses names that are not DNS names, on both sides', () => {
  for (const name of [
    '-a.example',
    'a-.example',
    'a..b',
    '.',
    '10.0.0.1',
    'a.b:80',
    'a b',
    `${'a'.repeat(64)}.x`,
    `${'a.'.repeat(127)}x`,
    'é.example',
  ]) {
    const raw = Buffer.from(name, 'utf8');
    const message = `08 50 12 ${varintHex(raw.length)} ${raw.toString('hex')}`;
    assert.throws(() => decodeTransportHeader(framed(message)), InvalidHeaderNameError, name);
    assert.throws(() => encodeTransportHeader({ port: 80, name }), InvalidHeaderNameError, name);
  }
  assert.throws(() => decodeTransportHeader(framed('08 50 12 02 2e2e')), /^InvalidHeaderNameError: transport header name is not a valid DNS name$/);
  // 253 characters (plus an optional dot) is the limit.
  const longest = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
  assert.equal(decodeOk(encodeTransportHeader({ port: 80, name: longest })).header.name, longest);
  assert.equal(decodeOk(encodeTransportHeader({ port: 80, name: `${longest}.` })).header.name, `${longest}.`);
});

test('refuses ports outside 1-65535, on both sides', () => {
  assert.throws(() => decodeTransportHeader(framed('')), InvalidHeaderPortError); // port absent = 0
  assert.throws(() => decodeTransportHeader(framed('08 00')), InvalidHeaderPortError);
  assert.throws(() => decodeTransportHeader(framed('08 808004')), InvalidHeaderPortError); // 65536
  assert.throws(() => decodeTransportHeader(framed('08 ffffffffffffffffff01')), InvalidHeaderPortError); // int32 -1
  assert.throws(() => decodeTransportHeader(framed('08 00')), /^InvalidHeaderPortError: transport header port is not in 1-65535$/);
  for (const port of [0, -1, 65_536, 1.5, NaN]) assert.throws(() => encodeTransportHeader({ port }), InvalidHeaderPortError, String(port));
});

test('reads port as int32: the high bits of a long varint are dropped', () => {
  // 0x1_0000_0050 truncates to 80, as prost's int32 decoding does.
  assert.equal(decodeOk(framed('08 d080808010')).header.port, 80);
});

test('skips unknown fields of every wire type, in the header and in the session protocol', () => {
  const message = [
    '78 05', // field 15, varint
    '21 0102030405060708', // field 4, fixed64
    '2d 01020304', // field 5, fixed32
    '32 03 616263', // field 6, length-delimited
    '3b 08 01 3c', // field 7, group holding field 1 varint, then its end
    '08 50',
    '1a 08 12 04 18 01 20 02 3a 00', // http2 { field 3, field 4 }, then field 7 of SessionProtocol
  ].join(' ');
  assert.deepEqual(decodeOk(framed(message)).header, { port: 80, protocol: 'http2' });
});

test('follows protobuf merge rules for repeated fields', () => {
  // Last scalar wins; a second session_protocol without a kind keeps the first one's kind.
  assert.deepEqual(decodeOk(framed('08 01 08 50 12 01 61 12 01 62 1a 02 0a 00 1a 00')).header, { port: 80, name: 'b', protocol: 'http1' });
  assert.deepEqual(decodeOk(framed('08 50 1a 02 0a 00 1a 02 12 00')).header, { port: 80, protocol: 'http2' });
  assert.deepEqual(decodeOk(framed('08 50 1a 04 0a 00 12 00')).header, { port: 80, protocol: 'http2' });
});

test('an empty name means no name; names are lower-cased', () => {
  assert.deepEqual(decodeOk(framed('08 50 12 00')).header, { port: 80 });
  assert.equal(decodeOk(framed(`08 50 12 05 ${Buffer.from('Foo.B').toString('hex')}`)).header.name, 'foo.b');
});

test('all decode errors are TransportHeaderErrors', () => {
  assert.ok(new MissingPrefaceError() instanceof TransportHeaderError);
  assert.ok(new HeaderTimeoutError(1) instanceof TransportHeaderError);
  assert.ok(new IncompleteHeaderError() instanceof TransportHeaderError);
});

// === readTransportHeader over real loopback sockets ===

const server = createServer();
const accepted: Socket[] = [];
server.on('connection', (s) => accepted.push(s));
before(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
});
after(() => {
  for (const s of accepted) s.destroy();
  server.close();
});

/** A connected pair: `client` writes, `peer` is the server side under test. */
async function socketPair(): Promise<{ client: Socket; peer: Socket }> {
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  const [peer] = (await once(server, 'connection')) as [Socket];
  await once(client, 'connect');
  return { client, peer };
}

const listenerCounts = (s: Socket): number[] => ['readable', 'data', 'end', 'close', 'error'].map((e) => s.listenerCount(e));

test('reads a header that arrives one byte at a time', async () => {
  const { client, peer } = await socketPair();
  const before = listenerCounts(peer);
  const reading = readTransportHeader(peer);
  for (const byte of SPEC_EXAMPLE) {
    client.write(Buffer.from([byte]));
    await new Promise((r) => setTimeout(r, 1));
  }
  const { header, rest } = await reading;
  assert.deepEqual(header, { port: 8080, name: 'foo.ns.svc.cluster.local', protocol: 'http2' });
  assert.equal(rest.length, 0);
  assert.deepEqual(listenerCounts(peer), before);
  client.destroy();
});

test('returns the bytes after the header, and leaves later bytes in the socket', async () => {
  const { client, peer } = await socketPair();
  client.write(Buffer.concat([SPEC_EXAMPLE, Buffer.from('hello')]));
  const { header, rest } = await readTransportHeader(peer);
  assert.equal(header.port, 8080);
  assert.equal(rest.toString(), 'hello');
  peer.unshift(rest);
  client.end(' world');
  const chunks: Buffer[] = [];
  for await (const chunk of peer) chunks.push(chunk as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'hello world');
});

test('times out when the client sends nothing, and removes its listeners', async () => {
  const { client, peer } = await socketPair();
  const before = listenerCounts(peer);
  await assert.rejects(readTransportHeader(peer, { timeoutMs: 20 }), HeaderTimeoutError);
  assert.deepEqual(listenerCounts(peer), before);
  assert.equal(peer.destroyed, false);
  client.destroy();
});

test('rejects a connection that ends mid-header, or that is not a header', async () => {
  const truncated = await socketPair();
  truncated.client.end(SPEC_EXAMPLE.subarray(0, 40));
  await assert.rejects(readTransportHeader(truncated.peer), IncompleteHeaderError);

  const http = await socketPair();
  http.client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await assert.rejects(readTransportHeader(http.peer), MissingPrefaceError);
  http.client.destroy();

  const ended = await socketPair();
  ended.client.end();
  ended.peer.resume();
  await once(ended.peer, 'end');
  await assert.rejects(readTransportHeader(ended.peer), IncompleteHeaderError);
});
