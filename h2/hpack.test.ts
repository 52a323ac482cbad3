// Tests of the HPACK codec: the RFC 7541 Appendix C examples, a cross-check against hpack.js over long-lived
// connection contexts in both directions, a round trip through nghttp2 (node:http2), and malformed input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import fc from 'fast-check';
import hpack from 'hpack.js';
import { HpackDecoder, HpackEncoder, HpackError, type FlatHeaders } from './hpack.ts';
import { Flag, FrameType, Setting } from './frames.ts';
import { HUFFMAN_CODE } from './huffman-table.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** A dynamic table size update (RFC 7541 §6.3), written independently of the encoder. */
function sizeUpdate(n: number): Buffer {
  if (n < 31) return Buffer.of(0x20 | n);
  const out = [0x3f];
  for (n -= 31; n >= 128; n >>>= 7) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return Buffer.from(out);
}

type HpackJsDecompressor = ReturnType<typeof hpack.decompressor.create>;

/** Decodes with hpack.js: the list and the names it saw never-indexed. */
function hpackJsDecode(d: HpackJsDecompressor, block: Uint8Array): { list: FlatHeaders; never: string[] } {
  d.write(block);
  d.execute();
  const list: FlatHeaders = [];
  const never: string[] = [];
  for (let h = d.read(); h !== null; h = d.read()) {
    list.push(h.name, h.value);
    if (h.neverIndex) never.push(h.name);
  }
  return { list, never };
}

// ---- RFC 7541 Appendix C ----

const C3 = [
  {
    block: '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
    list: [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'www.example.com'],
  },
  {
    block: '8286 84be 5808 6e6f 2d63 6163 6865',
    list: [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'www.example.com', 'cache-control', 'no-cache'],
  },
  {
    block: '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
    list: [':method', 'GET', ':scheme', 'https', ':path', '/index.html', ':authority', 'www.example.com', 'custom-key', 'custom-value'],
  },
];
const C4 = [
  '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff',
  '8286 84be 5886 a8eb 1064 9cbf',
  '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
];
/** After C.3.3 / C.4.3, newest first (§C.3.3). */
const C3_TABLE = ['custom-key', 'custom-value', 'cache-control', 'no-cache', ':authority', 'www.example.com'];

const DATE_21 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const DATE_22 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
const C5_LISTS = [
  [':status', '302', 'cache-control', 'private', 'date', DATE_21, 'location', 'https://www.example.com'],
  [':status', '307', 'cache-control', 'private', 'date', DATE_21, 'location', 'https://www.example.com'],
  [
    ':status',
    '200',
    'cache-control',
    'private',
    'date',
    DATE_22,
    'location',
    'https://www.example.com',
    'content-encoding',
    'gzip',
    'set-cookie',
    COOKIE,
  ],
];
const C5 = [
  `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d
   546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`,
  '4803 3330 37c1 c0bf',
  `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f
   6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b
   2076 6572 7369 6f6e 3d31`,
];
const C6 = [
  `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7
   8f0b 97c8 e9ae 82ae 43d3`,
  '4883 640e ffc1 c0bf',
  `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335
   dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
];
/** After C.5.3 / C.6.3, newest first: the 302, the 307, the first date and cache-control were evicted. */
const C5_TABLE = ['set-cookie', COOKIE, 'content-encoding', 'gzip', 'date', DATE_22];

/** The whole dynamic table, newest first, read through indexed fields; and one index past it must fail. */
function dynamicTable(d: HpackDecoder, entries: number): FlatHeaders {
  const list = d.decode(Buffer.from(Array.from({ length: entries }, (_, i) => 0x80 | (62 + i))));
  assert.throws(() => d.decode(Buffer.of(0x80 | (62 + entries))), HpackError);
  return list;
}

test('C.2: each literal representation and an indexed field', () => {
  const d = new HpackDecoder();
  assert.deepEqual(d.decode(hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572')), ['custom-key', 'custom-header']);
  assert.deepEqual(dynamicTable(d, 1), ['custom-key', 'custom-header']);

  const without = new HpackDecoder();
  assert.deepEqual(without.decode(hex('040c 2f73 616d 706c 652f 7061 7468')), [':path', '/sample/path']);
  assert.deepEqual(dynamicTable(without, 0), []);

  const never = new HpackDecoder();
  const names = new Set<string>();
  assert.deepEqual(never.decode(hex('1008 7061 7373 776f 7264 0673 6563 7265 74'), names), ['password', 'secret']);
  assert.deepEqual([...names], ['password']);
  assert.deepEqual(dynamicTable(never, 0), []);

  assert.deepEqual(new HpackDecoder().decode(hex('82')), [':method', 'GET']);
});

test('C.3 and C.4: three requests on one connection, without and with Huffman coding', () => {
  for (const blocks of [C3.map((c) => c.block), C4]) {
    const d = new HpackDecoder();
    blocks.forEach((block, i) => assert.deepEqual(d.decode(hex(block)), C3[i]!.list));
    assert.deepEqual(dynamicTable(d, 3), C3_TABLE);
  }
});

test('C.5 and C.6: three responses with eviction from a 256-octet table, without and with Huffman coding', () => {
  for (const blocks of [C5, C6]) {
    const d = new HpackDecoder({ maxTableSize: 256 });
    blocks.forEach((block, i) => assert.deepEqual(d.decode(hex(block)), C5_LISTS[i]));
    assert.deepEqual(dynamicTable(d, 3), C5_TABLE);
  }
});

test('the encoder reproduces C.4 byte for byte (incremental indexing, Huffman when shorter)', () => {
  const e = new HpackEncoder();
  C3.forEach(({ list }, i) => assert.equal(e.encode(list).toString('hex'), hex(C4[i]!).toString('hex')));
});

test('the Appendix C lists round-trip through one encoder and one decoder', () => {
  for (const [size, lists] of [
    [4096, C3.map((c) => c.list)],
    [256, C5_LISTS],
  ] as const) {
    const e = new HpackEncoder({ maxTableSize: size });
    const d = new HpackDecoder({ maxTableSize: size });
    for (let round = 0; round < 3; round++) for (const list of lists) assert.deepEqual(d.decode(e.encode(list)), list);
  }
});

// ---- the tables ----

test('the Huffman table is the canonical code hpack.js has, complete (Kraft sum 1)', () => {
  assert.equal(HUFFMAN_CODE.length, 257);
  assert.deepEqual(
    HUFFMAN_CODE.map(([code, bits]) => [bits, code]),
    hpack.huffman.encode.map(([bits, code]) => [bits, code]),
  );
  const bySize = HUFFMAN_CODE.map(([, bits], sym) => [bits, sym] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let code = -1;
  let last = bySize[0]![0];
  for (const [bits, sym] of bySize) {
    code = (code + 1) * 2 ** (bits - last);
    last = bits;
    assert.equal(HUFFMAN_CODE[sym]![0], code, `symbol ${sym}`);
  }
  assert.equal(
    HUFFMAN_CODE.reduce((sum, [, bits]) => sum + 2 ** -bits, 0),
    1,
  );
});

test('the static table is the one hpack.js has', () => {
  const all = new HpackDecoder().decode(Buffer.from(Array.from({ length: 61 }, (_, i) => 0x80 | (i + 1))));
  assert.deepEqual(
    all,
    hpack['static-table'].table.flatMap(({ name, value }) => [name, value]),
  );
});

test('every octet Huffman-codes and decodes as hpack.js decodes it', () => {
  for (let c = 0; c < 256; c++) {
    const e = new HpackEncoder();
    const theirs = hpack.decompressor.create({ table: { maxSize: 4096 } });
    // Enough 5-bit symbols around it that Huffman is the shorter coding even for a 30-bit code.
    const value = 'e'.repeat(20) + String.fromCharCode(c) + 'a'.repeat(c % 7);
    const block = e.encode(['x-octet', value]);
    // Incremental indexing with a literal name, then the value, whose H bit is set.
    assert.equal(block[0], 0x40);
    assert.ok(block[2 + (block[1]! & 0x7f)]! >= 0x80, `octet ${c} Huffman-coded`);
    assert.deepEqual(new HpackDecoder().decode(block), ['x-octet', value]);
    assert.deepEqual(hpackJsDecode(theirs, block).list, ['x-octet', value]);
  }
});

// ---- cross-check with hpack.js ----

const COMMON_NAMES = [
  ':method',
  ':scheme',
  ':authority',
  ':path',
  ':status',
  'content-type',
  'accept',
  'accept-encoding',
  'user-agent',
  'cache-control',
  'content-length',
  'date',
  'x-request-id',
  'authorization',
  'cookie',
  'set-cookie',
  'proxy-authorization',
  'l5d-dst-canonical',
  'l5d-response-latency',
  'grpc-status',
  'x-secret',
];
const COMMON_VALUES = ['GET', 'POST', '/', 'https', '200', '', 'gzip, deflate', 'application/grpc', 'no-cache', 'web.default.svc.cluster.local:8080'];
const octet = fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c));
const nameArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...COMMON_NAMES) },
  { weight: 1, arbitrary: fc.stringMatching(/^x-[a-z0-9-]{1,12}$/) },
);
const valueArb = fc
  .oneof(
    { weight: 4, arbitrary: fc.constantFrom(...COMMON_VALUES) },
    { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: octet, maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('a', 'b', '~', '\x00'), minLength: 200, maxLength: 400 }) },
  )
  // hpack.js's compressor looks static values up in a plain object, so 'toString' and the like would confuse it.
  .filter((v) => !(v in {}));
const listArb = fc.array(fc.tuple(nameArb, valueArb), { maxLength: 12 }).map((pairs) => pairs.flat());
/** ~200 blocks on one connection; the peer's table size changes at block 100 and comes back at 150. */
const connectionArb = fc.record({
  lists: fc.array(listArb, { minLength: 200, maxLength: 200 }),
  smallTable: fc.integer({ min: 0, max: 4096 }),
});
const SENSITIVE = new Set(['x-secret']);
const NEVER_INDEXED = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-secret']);

test('hpack.js decodes what our encoder writes over a long-lived connection, table size changes included', () => {
  fc.assert(
    fc.property(connectionArb, ({ lists, smallTable }) => {
      const e = new HpackEncoder();
      const theirs = hpack.decompressor.create({ table: { maxSize: 4096 } });
      lists.forEach((list, i) => {
        if (i === 100) e.setMaxTableSize(smallTable);
        if (i === 150) e.setMaxTableSize(4096);
        const block = e.encode(list, SENSITIVE);
        if (i === 100) assert.deepEqual(block.subarray(0, sizeUpdate(smallTable).length), sizeUpdate(smallTable));
        const { list: decoded, never } = hpackJsDecode(theirs, block);
        assert.deepEqual(decoded, list);
        assert.deepEqual(
          never,
          list.filter((name, j) => j % 2 === 0 && NEVER_INDEXED.has(name)),
        );
      });
    }),
    { numRuns: 10 },
  );
});

test('our decoder decodes what hpack.js writes over a long-lived connection, table size changes included', () => {
  const headerArb = fc.record({ pair: fc.tuple(nameArb, valueArb), neverIndex: fc.boolean(), incremental: fc.boolean(), huffman: fc.boolean() });
  fc.assert(
    fc.property(
      fc.array(fc.array(headerArb, { maxLength: 12 }), { minLength: 200, maxLength: 200 }),
      fc.integer({ min: 0, max: 4096 }),
      (lists, smallTable) => {
        const theirs = hpack.compressor.create({ table: { maxSize: 4096 } });
        const d = new HpackDecoder();
        lists.forEach((headers, i) => {
          // hpack.js only writes an update to its maximum; a smaller size it applies silently, so we announce it.
          let prefix: Buffer = Buffer.alloc(0);
          if (i === 100) {
            theirs.updateTableSize(smallTable);
            prefix = sizeUpdate(smallTable);
          }
          if (i === 150) theirs.updateTableSize(4096);
          theirs.write(
            headers.map(({ pair: [name, value], neverIndex, incremental, huffman }) => ({
              name,
              value,
              neverIndex: neverIndex && !incremental,
              incremental,
              huffman,
            })),
          );
          const block = Buffer.concat([prefix, theirs.read() ?? Buffer.alloc(0)]);
          const never = new Set<string>();
          assert.deepEqual(
            d.decode(block, never),
            headers.flatMap(({ pair }) => pair),
          );
          assert.deepEqual(never, new Set(headers.filter((h) => h.neverIndex && !h.incremental).map(({ pair: [name] }) => name)));
        });
      },
    ),
    { numRuns: 10 },
  );
});

// ---- nghttp2 ----

interface Frame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

/** Just enough of an HTTP/2 client over a socket to carry header blocks we encode and decode ourselves. */
class RawH2Client {
  private buffered = Buffer.alloc(0);
  private readonly frames: Frame[] = [];
  private wake: (() => void) | undefined;
  private closed: Error | undefined;

  constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 9) {
        const length = this.buffered.readUIntBE(0, 3);
        if (this.buffered.length < 9 + length) break;
        this.frames.push({
          type: this.buffered[3]!,
          flags: this.buffered[4]!,
          stream: this.buffered.readUInt32BE(5) & 0x7fffffff,
          payload: this.buffered.subarray(9, 9 + length),
        });
        this.buffered = this.buffered.subarray(9 + length);
      }
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = new Error('connection closed');
      this.wake?.();
    });
  }

  send(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): void {
    const head = Buffer.alloc(9);
    head.writeUIntBE(payload.length, 0, 3);
    head[3] = type;
    head[4] = flags;
    head.writeUInt32BE(stream, 5);
    this.socket.write(Buffer.concat([head, payload]));
  }

  async next(match: (f: Frame) => boolean): Promise<Frame> {
    for (;;) {
      const i = this.frames.findIndex(match);
      if (i >= 0) return this.frames.splice(i, 1)[0]!;
      const goaway = this.frames.find((f) => f.type === GOAWAY);
      if (goaway !== undefined) throw new Error(`GOAWAY error ${goaway.payload.readUInt32BE(4)}: ${goaway.payload.subarray(8).toString()}`);
      if (this.closed !== undefined) throw this.closed;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}
const { data: DATA, headers: HEADERS, settings: SETTINGS, goaway: GOAWAY } = FrameType;
const { endStream: END_STREAM, endHeaders: END_HEADERS } = Flag;
const SETTINGS_HEADER_TABLE_SIZE = Setting.headerTableSize;

test('nghttp2 (node:http2) decodes our requests and we decode its responses, several on one connection', { timeout: 10_000 }, async () => {
  const server = http2.createServer({ settings: { headerTableSize: 1024 } });
  // rawHeaders, the 4th argument, is the list as nghttp2 decoded it, in order (@types/node does not declare it).
  server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
    stream.respond({
      ':status': 200,
      'content-type': 'application/json',
      'x-n': String(headers['x-n']),
      'x-served-by': 'hpack-test',
      'x-secret': 'shh',
      [http2.sensitiveHeaders]: ['x-secret'],
    });
    const sensitive = (headers as Record<symbol, unknown>)[http2.sensitiveHeaders];
    stream.end(JSON.stringify({ rawHeaders, sensitive }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const socket = net.connect(port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    const client = new RawH2Client(socket);
    // We ask for a 512-octet table from nghttp2's encoder; it must announce that before relying on it.
    const ourSettings = Buffer.alloc(6);
    ourSettings.writeUInt16BE(SETTINGS_HEADER_TABLE_SIZE, 0);
    ourSettings.writeUInt32BE(512, 2);
    socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    client.send(SETTINGS, 0, 0, ourSettings);
    const decoder = new HpackDecoder({ maxTableSize: 512 });
    const encoder = new HpackEncoder();

    const settings = await client.next((f) => f.type === SETTINGS && (f.flags & 1) === 0);
    for (let at = 0; at < settings.payload.length; at += 6) {
      if (settings.payload.readUInt16BE(at) === SETTINGS_HEADER_TABLE_SIZE) encoder.setMaxTableSize(settings.payload.readUInt32BE(at + 2));
    }
    client.send(SETTINGS, 1, 0);

    const requestBlocks: number[] = [];
    const responseBlocks: number[] = [];
    for (let n = 1; n <= 4; n++) {
      const stream = 2 * n - 1;
      const request = [
        ':method',
        'GET',
        ':scheme',
        'http',
        ':authority',
        `127.0.0.1:${port}`,
        ':path',
        `/items?page=${n}`,
        'user-agent',
        'hpack-test/1.0',
        'accept',
        'application/json',
        'authorization',
        'Bearer secret',
        'x-n',
        String(n),
        'x-long',
        'v'.repeat(300),
      ];
      const block = encoder.encode(request);
      if (n === 1) assert.deepEqual(block.subarray(0, 3), sizeUpdate(1024));
      requestBlocks.push(block.length);
      client.send(HEADERS, END_STREAM | END_HEADERS, stream, block);

      const headers = await client.next((f) => f.type === HEADERS && f.stream === stream);
      assert.equal(headers.flags & END_HEADERS, END_HEADERS);
      responseBlocks.push(headers.payload.length);
      const never = new Set<string>();
      const response = decoder.decode(headers.payload, never);
      assert.deepEqual(response.slice(0, 10), [
        ':status',
        '200',
        'content-type',
        'application/json',
        'x-n',
        String(n),
        'x-served-by',
        'hpack-test',
        'x-secret',
        'shh',
      ]);
      assert.deepEqual([...never], ['x-secret']);

      let body = Buffer.alloc(0);
      for (;;) {
        const data = await client.next((f) => f.type === DATA && f.stream === stream);
        body = Buffer.concat([body, data.payload]);
        if ((data.flags & END_STREAM) !== 0) break;
      }
      const seen = JSON.parse(body.toString()) as { rawHeaders: string[]; sensitive: string[] };
      assert.deepEqual(seen.rawHeaders, request);
      assert.deepEqual(seen.sensitive, ['authorization']);
    }
    // Both sides reuse their dynamic tables after the first exchange (x-long, :path and authorization are literals every time).
    assert.ok(requestBlocks[1]! <= requestBlocks[0]! - 40, `request blocks ${requestBlocks.join(', ')}`);
    assert.ok(responseBlocks[1]! < responseBlocks[0]!, `response blocks ${responseBlocks.join(', ')}`);
  } finally {
    socket.destroy();
    server.close();
  }
});

// ---- malformed input ----

const MALFORMED: [what: string, bytes: string, message: RegExp][] = [
  ['indexed field with index 0', '80', /index 0/],
  ['index past the table', 'be', /index 62 is past the end/],
  ['literal name index past the table', '7e 00', /index 62 is past the end/],
  ['literal name index past the table (without indexing)', '0f 2f 00', /index 62 is past the end/],
  ['truncated integer', 'ff', /truncated integer/],
  ['truncated integer after a continuation octet', 'ff 80', /truncated integer/],
  ['integer overflow', 'ff ff ff ff ff 0f', /integer overflow/],
  ['more than 5 continuation octets', 'ff 80 80 80 80 80 00', /more than 5 continuation octets/],
  ['block ends before the name string', '40', /string literal expected/],
  ['block ends before the value string', '41', /string literal expected/],
  ['string length past the end', '40 05 61', /runs past the end/],
  ['Huffman string length past the end', '41 85 1f', /runs past the end/],
  ['string length integer truncated', '41 7f', /truncated integer/],
  ['Huffman string containing EOS', '00 01 61 84 ff ff ff ff', /EOS inside/],
  ['Huffman padding longer than 7 bits', '00 01 61 82 1f ff', /invalid Huffman padding/],
  ['Huffman padding not all ones', '00 01 61 81 18', /invalid Huffman padding/],
  ['Huffman padding that is a whole byte of ones', '00 01 61 81 ff', /invalid Huffman padding/],
  ['table size update above the limit', '3f e2 1f', /update to 4097 exceeds the limit 4096/],
  ['table size update after a field', '82 20', /size update after a header field/],
  ['table size update after a literal', '41 01 61 20', /size update after a header field/],
];

test('each class of malformed block throws an HpackError that says what was wrong', () => {
  for (const [what, bytes, message] of MALFORMED) {
    assert.throws(
      () => new HpackDecoder().decode(hex(bytes)),
      (e: unknown) => e instanceof HpackError && e.name === 'HpackError' && message.test(e.message),
      what,
    );
  }
});

test('limits: the header list size, and size updates up to the limit', () => {
  const d = new HpackDecoder({ maxHeaderListSize: 100 });
  // :method GET is 7 + 3 + 32 = 42 octets; two fit, three do not.
  assert.deepEqual(d.decode(hex('82 82')), [':method', 'GET', ':method', 'GET']);
  assert.throws(() => d.decode(hex('82 82 82')), /header list larger than 100/);

  const small = new HpackDecoder({ maxTableSize: 256 });
  assert.throws(() => small.decode(sizeUpdate(257)), HpackError);
  assert.deepEqual(small.decode(Buffer.concat([sizeUpdate(0), sizeUpdate(256)])), []);
  // An entry larger than the table empties it and is not added (§4.4).
  small.decode(hex('40 01 61 01 62'));
  assert.deepEqual(dynamicTable(small, 1), ['a', 'b']);
  small.decode(Buffer.concat([hex('40 01 63 7f 80 01'), Buffer.alloc(255, 0x61)]));
  assert.deepEqual(dynamicTable(small, 0), []);
  // A size update evicts.
  small.decode(hex('40 01 61 01 62 40 01 63 01 64'));
  assert.deepEqual(dynamicTable(small, 2), ['c', 'd', 'a', 'b']);
  small.decode(sizeUpdate(34));
  assert.deepEqual(dynamicTable(small, 1), ['c', 'd']);
});

test('a plain Uint8Array (not a Buffer) decodes too', () => {
  const bytes = new Uint8Array([0, 0, ...hex(C4[0]!), 0]).subarray(2, 2 + hex(C4[0]!).length);
  assert.deepEqual(new HpackDecoder().decode(bytes), C3[0]!.list);
});

test('arbitrary bytes, and corrupted valid blocks, either decode or throw an HpackError', () => {
  const check = (block: Uint8Array): void => {
    try {
      new HpackDecoder({ maxTableSize: 256 }).decode(block);
    } catch (e) {
      assert.ok(e instanceof HpackError, String(e));
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), check), { numRuns: 2000 });
  const valid = [...C4, ...C5, ...C6].map(hex);
  fc.assert(
    fc.property(fc.constantFrom(...valid), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.nat(), (block, at, xor, cut) => {
      const corrupt = Buffer.from(block);
      corrupt[at % corrupt.length]! ^= xor;
      check(corrupt);
      check(corrupt.subarray(0, cut % corrupt.length));
    }),
    { numRuns: 2000 },
  );
});

// ---- encoder choices ----

const REQUEST = [
  ':method',
  'GET',
  ':scheme',
  'https',
  ':authority',
  'api.example.com:8080',
  ':path',
  '/api/v1/items?page=2',
  'user-agent',
  'grpc-node-js/1.14.7',
  'accept',
  'application/json',
  'x-custom',
  'hello',
  'l5d-dst-override',
  'api.prod.svc.cluster.local:8080',
];

test('a repeated list costs one octet per field after the first time, except the unindexed :path', () => {
  const e = new HpackEncoder();
  const d = new HpackDecoder();
  const first = e.encode(REQUEST);
  const second = e.encode(REQUEST);
  assert.deepEqual(d.decode(first), REQUEST);
  assert.deepEqual(d.decode(second), REQUEST);
  const pathLiteral = e.encode([':path', '/api/v1/items?page=2']);
  assert.equal(pathLiteral[0], 0x04, ':path is a literal without indexing, name index 4');
  assert.equal(second.length, 7 + pathLiteral.length);
  assert.ok(second.length < first.length / 3, `${second.length} vs ${first.length}`);
  assert.deepEqual([...second.subarray(0, 2)], [0x82, 0x87]);
});

test('credentials and sensitive names are never indexed, long values and per-request names not indexed', () => {
  const e = new HpackEncoder();
  const theirs = hpack.decompressor.create({ table: { maxSize: 4096 } });
  const list = [
    'authorization',
    'Bearer abc',
    'cookie',
    'a=b',
    'x-token',
    't',
    'x-long',
    'x'.repeat(300),
    'date',
    'Mon, 21 Oct 2013 20:13:21 GMT',
    'l5d-response-latency',
    '12',
  ];
  const sensitive = new Set(['x-token']);
  const first = e.encode(list, sensitive);
  const second = e.encode(list, sensitive);
  assert.equal(second.length, first.length, 'nothing was indexed');
  assert.deepEqual(hpackJsDecode(theirs, first), { list, never: ['authorization', 'cookie', 'x-token'] });
  assert.deepEqual(hpackJsDecode(theirs, second), { list, never: ['authorization', 'cookie', 'x-token'] });
  // The same name indexed earlier is still sent never-indexed when marked sensitive.
  const d = new HpackDecoder();
  d.decode(e.encode(['x-other', 'v']));
  const never = new Set<string>();
  assert.deepEqual(d.decode(e.encode(['x-other', 'v'], new Set(['x-other'])), never), ['x-other', 'v']);
  assert.deepEqual([...never], ['x-other']);
});

test('setMaxTableSize(0): the next block starts with a size update to 0 and decoders stay in step', () => {
  const e = new HpackEncoder();
  const d = new HpackDecoder();
  const theirs = hpack.decompressor.create({ table: { maxSize: 4096 } });
  const both = (block: Buffer): void => {
    assert.deepEqual(d.decode(block), REQUEST);
    assert.deepEqual(hpackJsDecode(theirs, block).list, REQUEST);
  };
  both(e.encode(REQUEST));
  both(e.encode(REQUEST));
  e.setMaxTableSize(0);
  const empty = e.encode(REQUEST);
  assert.equal(empty[0], 0x20);
  both(empty);
  const again = e.encode(REQUEST);
  assert.equal(again.length, empty.length - 1, 'no table: literals every time');
  both(again);
  assert.throws(() => d.decode(Buffer.of(0xbe)), HpackError);

  // Lowered then raised between blocks: the smallest size, then the final one (§4.2).
  e.setMaxTableSize(100);
  e.setMaxTableSize(4096);
  const raised = e.encode(REQUEST);
  assert.deepEqual(raised.subarray(0, 5), Buffer.concat([sizeUpdate(100), sizeUpdate(4096)]));
  both(raised);
  const reused = e.encode(REQUEST);
  assert.ok(reused.length < raised.length / 3);
  both(reused);
});

test('an encoder for a peer with a table smaller than 4096 announces it in its first block', () => {
  const e = new HpackEncoder({ maxTableSize: 256 });
  const block = e.encode(REQUEST);
  assert.deepEqual(block.subarray(0, 3), sizeUpdate(256));
  assert.deepEqual(new HpackDecoder({ maxTableSize: 256 }).decode(block), REQUEST);
  assert.equal(new HpackEncoder().encode([])[0], undefined);
});

test('the encoder refuses what it cannot write, and a failed block leaves the peer in step', () => {
  const e = new HpackEncoder();
  const d = new HpackDecoder();
  assert.throws(() => e.encode(['x-a']), HpackError);
  assert.throws(() => e.setMaxTableSize(-1), HpackError);
  assert.throws(() => new HpackDecoder({ maxTableSize: 1.5 }), HpackError);
  assert.deepEqual(d.decode(e.encode(['x-a', 'caf\u00e9'])), ['x-a', 'caf\u00e9']);
  // x-b is added to the encoder's table before x-c fails; the peer never sees that block.
  assert.throws(() => e.encode(['x-b', 'b', 'x-c', 'caf\u00e9 \u2713']), /U\+2713/);
  const next = e.encode(['x-a', 'caf\u00e9', 'x-b', 'b']);
  assert.deepEqual(next.subarray(0, 4), Buffer.concat([sizeUpdate(0), sizeUpdate(4096)]));
  assert.deepEqual(d.decode(next), ['x-a', 'caf\u00e9', 'x-b', 'b']);
  assert.deepEqual(d.decode(e.encode(['x-b', 'b', 'x-a', 'caf\u00e9'])), ['x-b', 'b', 'x-a', 'caf\u00e9']);
});
