// HPACK (RFC 7541) header compression for the HTTP/2 frame relay: one HpackDecoder per inbound and one HpackEncoder
// per outbound direction of a connection, each owning that direction's dynamic table. Header names and values are
// octet strings on the wire; here they are JS strings with one char per octet (latin1), so string length = octet length.

import { HUFFMAN_CODE } from './huffman-table.ts';

/**
 * A header list, flat: [name0, value0, name1, value1, ...]; names lower-case as on the wire.
 * `sensitive` names the fields the sender marked never-indexed: a relay must keep them so on the next hop (RFC 7541 §7.1.3).
 */
export type FlatHeaders = string[] & { sensitive?: ReadonlySet<string> };

/** A header block that is not valid HPACK, or one the limits refuse. */
export class HpackError extends Error {
  override readonly name = 'HpackError';
}

// RFC 7541 Appendix A.
const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];
const STATIC_COUNT = 61;
/** The HPACK index of the newest dynamic table entry. */
const DYNAMIC_BASE = STATIC_COUNT + 1;
/** RFC 7541 §4.1: the per-entry overhead counted in table sizes (RFC 7540 §6.5.2 uses it for list sizes too). */
const ENTRY_OVERHEAD = 32;
// 1-based so an index needs no subtraction on the decoder's fast path.
const STATIC_NAMES: string[] = ['', ...STATIC_TABLE.map(([n]) => n)];
const STATIC_VALUES: string[] = ['', ...STATIC_TABLE.map(([, v]) => v)];

/** Integers above this are refused: no sane table size, index or string length comes near it. */
const MAX_INTEGER = 0x7fffffff;

// ---- Huffman ----

const HUFFMAN_CODES = new Uint32Array(256);
const HUFFMAN_BITS = new Uint8Array(256);
for (let sym = 0; sym < 256; sym++) {
  const [code, bits] = HUFFMAN_CODE[sym]!;
  HUFFMAN_CODES[sym] = code;
  HUFFMAN_BITS[sym] = bits;
}

// The decoder is a state machine over nibbles (as in nghttp2): a state is an internal node of the code tree, and
// HUFFMAN_DECODE[state * 16 + nibble] packs the next state (bits 0-7), the symbol completed by the nibble, if any
// (bits 8-15, with EMIT), and whether ending the string there is valid padding (ACCEPT). A code is at least 5 bits
// long, so one nibble completes at most one symbol.
const EMIT = 1 << 16;
const ACCEPT = 1 << 17;
const FAIL = 1 << 18;
const HUFFMAN_DECODE = buildHuffmanDecoder();

function buildHuffmanDecoder(): Uint32Array {
  // children[node * 2 + bit]: an internal node id (> 0), a leaf as -(symbol + 1), or 0 while unset.
  const children = new Int32Array(512);
  const depth = new Uint8Array(256);
  const allOnes = new Uint8Array(256);
  allOnes[0] = 1;
  let nodes = 1;
  for (let sym = 0; sym <= 256; sym++) {
    const [code, bits] = HUFFMAN_CODE[sym]!;
    let node = 0;
    for (let i = bits - 1; i >= 0; i--) {
      const bit = (code >>> i) & 1;
      const at = node * 2 + bit;
      if (i === 0) {
        children[at] = -(sym + 1);
        break;
      }
      if (children[at] === 0) {
        children[at] = nodes;
        depth[nodes] = depth[node]! + 1;
        allOnes[nodes] = allOnes[node]! & bit;
        nodes++;
      }
      node = children[at]!;
    }
  }
  const table = new Uint32Array(256 * 16);
  for (let state = 0; state < nodes; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let entry = 0;
      for (let i = 3; i >= 0; i--) {
        const next = children[node * 2 + ((nibble >>> i) & 1)]!;
        if (next >= 0) {
          node = next;
          continue;
        }
        const sym = -next - 1;
        if (sym === 256) entry |= FAIL;
        else entry |= EMIT | (sym << 8);
        node = 0;
      }
      // Padding is a prefix of EOS (all ones) shorter than a byte (RFC 7541 §5.2).
      if (node === 0 || (allOnes[node] === 1 && depth[node]! <= 7)) entry |= ACCEPT;
      table[state * 16 + nibble] = entry | node;
    }
  }
  return table;
}

// ---- the dynamic table ----

/** A ring of entries addressed by insertion id: the entry with id i sits at slot i & mask while it is in the table. */
class DynamicTable {
  names: string[] = new Array<string>(16).fill('');
  values: string[] = new Array<string>(16).fill('');
  mask = 15;
  /** Ids handed out so far: the newest entry has id inserted - 1, the oldest inserted - count. */
  inserted = 0;
  count = 0;
  /** RFC 7541 §4.1 size of the entries. */
  size = 0;

  constructor(
    /** The current maximum size (after the last size update). */
    public max: number,
  ) {}

  /** Adds an entry that fits (the caller evicted for it). */
  push(name: string, value: string): void {
    if (this.count > this.mask) this.grow();
    const slot = this.inserted & this.mask;
    this.names[slot] = name;
    this.values[slot] = value;
    this.inserted++;
    this.count++;
    this.size += name.length + value.length + ENTRY_OVERHEAD;
  }

  evictOldest(): void {
    const slot = (this.inserted - this.count) & this.mask;
    this.size -= this.names[slot]!.length + this.values[slot]!.length + ENTRY_OVERHEAD;
    // Drop the references so a long-lived connection does not pin old header strings.
    this.names[slot] = '';
    this.values[slot] = '';
    this.count--;
  }

  private grow(): void {
    const capacity = (this.mask + 1) * 2;
    const names = new Array<string>(capacity).fill('');
    const values = new Array<string>(capacity).fill('');
    const mask = capacity - 1;
    for (let id = this.inserted - this.count; id < this.inserted; id++) {
      names[id & mask] = this.names[id & this.mask]!;
      values[id & mask] = this.values[id & this.mask]!;
    }
    this.names = names;
    this.values = values;
    this.mask = mask;
  }
}

function checkSize(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new HpackError(`${what} must be an integer in [0, 2^32), got ${n}`);
  return n;
}

// ---- decoder ----

export class HpackDecoder {
  /** Our SETTINGS_HEADER_TABLE_SIZE: the most a size update may ask for. */
  private readonly limit: number;
  private readonly maxListSize: number;
  private readonly table: DynamicTable;
  /** Huffman output, reused across strings. */
  private scratch: Buffer = Buffer.allocUnsafe(256);
  /** Where the last readInteger/readString stopped. */
  private pos = 0;

  /** maxTableSize: our SETTINGS_HEADER_TABLE_SIZE (the most the peer's encoder may use), default 4096.
   *  maxHeaderListSize: refuse a block whose decoded list (RFC 7540 §6.5.2 size: name+value+32 per field) exceeds it; default 65536. */
  constructor(opts?: { maxTableSize?: number; maxHeaderListSize?: number }) {
    this.limit = checkSize(opts?.maxTableSize ?? 4096, 'maxTableSize');
    this.maxListSize = checkSize(opts?.maxHeaderListSize ?? 65536, 'maxHeaderListSize');
    this.table = new DynamicTable(this.limit);
  }

  /** Decodes one complete header block (already reassembled from HEADERS+CONTINUATION). Throws HpackError on any malformed input
   *  (bad index, truncated integer/string, integer overflow, invalid Huffman padding/EOS, table size update above the limit
   *  or not at the start of the block, list too large).
   *  If neverIndexed is given, the names of never-indexed fields (RFC 7541 §6.2.3) are added to it, so that a relay can pass it to
   *  HpackEncoder.encode and keep them never-indexed on the next hop (§7.1.3). */
  decode(block: Uint8Array, neverIndexed?: Set<string>): FlatHeaders {
    const buf = Buffer.isBuffer(block) ? block : Buffer.from(block.buffer, block.byteOffset, block.byteLength);
    const end = buf.length;
    const table = this.table;
    const out: string[] = [];
    let listSize = 0;
    let p = 0;
    while (p < end) {
      const b = buf[p++]!;
      let name: string;
      let value: string;
      if (b >= 0x80) {
        // Indexed field (§6.1): the fast path, no allocation.
        let index = b & 0x7f;
        if (index === 0x7f) {
          index = this.readInteger(buf, p, index);
          p = this.pos;
        }
        if (index <= STATIC_COUNT) {
          if (index === 0) throw new HpackError('indexed header field with index 0');
          name = STATIC_NAMES[index]!;
          value = STATIC_VALUES[index]!;
        } else {
          const k = index - DYNAMIC_BASE;
          if (k >= table.count) throw this.badIndex(index);
          const slot = (table.inserted - 1 - k) & table.mask;
          name = table.names[slot]!;
          value = table.values[slot]!;
        }
      } else if (b < 0x40 && b >= 0x20) {
        // Dynamic table size update (§6.3): only before the first field (§4.2).
        let size = b & 0x1f;
        if (size === 0x1f) {
          size = this.readInteger(buf, p, size);
          p = this.pos;
        }
        if (out.length > 0) throw new HpackError('dynamic table size update after a header field');
        if (size > this.limit) throw new HpackError(`dynamic table size update to ${size} exceeds the limit ${this.limit}`);
        table.max = size;
        while (table.size > size) table.evictOldest();
        continue;
      } else {
        // Literal field (§6.2): with incremental indexing (01), without indexing (0000) or never indexed (0001).
        const incremental = b >= 0x40;
        const prefix = incremental ? 0x3f : 0x0f;
        let index = b & prefix;
        if (index === prefix) {
          index = this.readInteger(buf, p, index);
          p = this.pos;
        }
        if (index === 0) {
          name = this.readString(buf, p);
          p = this.pos;
        } else if (index <= STATIC_COUNT) {
          name = STATIC_NAMES[index]!;
        } else {
          const k = index - DYNAMIC_BASE;
          if (k >= table.count) throw this.badIndex(index);
          name = table.names[(table.inserted - 1 - k) & table.mask]!;
        }
        value = this.readString(buf, p);
        p = this.pos;
        if (incremental) this.insert(name, value);
        else if (b >= 0x10 && neverIndexed !== undefined) neverIndexed.add(name);
      }
      listSize += name.length + value.length + ENTRY_OVERHEAD;
      if (listSize > this.maxListSize) throw new HpackError(`header list larger than ${this.maxListSize} octets`);
      out.push(name, value);
    }
    return out;
  }

  private badIndex(index: number): HpackError {
    return new HpackError(`index ${index} is past the end of the table (${STATIC_COUNT + this.table.count} entries)`);
  }

  /** The continuation octets of an integer whose prefix was all ones (§5.1); sets pos after it. */
  private readInteger(buf: Buffer, p: number, value: number): number {
    let multiplier = 1;
    for (let octets = 0; octets < 5; octets++) {
      if (p >= buf.length) throw new HpackError('truncated integer');
      const b = buf[p++]!;
      value += (b & 0x7f) * multiplier;
      if (value > MAX_INTEGER) throw new HpackError('integer overflow');
      if (b < 0x80) {
        this.pos = p;
        return value;
      }
      multiplier *= 128;
    }
    throw new HpackError('integer with more than 5 continuation octets');
  }

  /** A string literal (§5.2) at p; sets pos after it. */
  private readString(buf: Buffer, p: number): string {
    if (p >= buf.length) throw new HpackError('truncated block: string literal expected');
    const b = buf[p++]!;
    let length = b & 0x7f;
    if (length === 0x7f) {
      length = this.readInteger(buf, p, length);
      p = this.pos;
    }
    const end = p + length;
    if (end > buf.length) throw new HpackError(`string literal of ${length} octets runs past the end of the block`);
    this.pos = end;
    if (b < 0x80) return buf.toString('latin1', p, end);
    return this.decodeHuffman(buf, p, end);
  }

  private decodeHuffman(buf: Buffer, start: number, end: number): string {
    // 5 bits per symbol at best.
    if (this.scratch.length < (end - start) * 2) this.scratch = Buffer.allocUnsafe((end - start) * 2);
    const out = this.scratch;
    let n = 0;
    let state = 0;
    let entry = ACCEPT;
    for (let i = start; i < end; i++) {
      const b = buf[i]!;
      entry = HUFFMAN_DECODE[(state << 4) | (b >>> 4)]!;
      if ((entry & FAIL) !== 0) throw new HpackError('EOS inside a Huffman-coded string');
      if ((entry & EMIT) !== 0) out[n++] = entry >>> 8;
      entry = HUFFMAN_DECODE[((entry & 0xff) << 4) | (b & 0x0f)]!;
      if ((entry & FAIL) !== 0) throw new HpackError('EOS inside a Huffman-coded string');
      if ((entry & EMIT) !== 0) out[n++] = entry >>> 8;
      state = entry & 0xff;
    }
    if ((entry & ACCEPT) === 0) throw new HpackError('invalid Huffman padding (not a prefix of EOS shorter than 8 bits)');
    return out.toString('latin1', 0, n);
  }

  private insert(name: string, value: string): void {
    const table = this.table;
    const size = name.length + value.length + ENTRY_OVERHEAD;
    // An entry larger than the table empties it and is not added (§4.4).
    while (table.count > 0 && table.size + size > table.max) table.evictOldest();
    if (size <= table.max) table.push(name, value);
  }
}

// ---- encoder ----

/** How a literal is represented: the 4 high bits of its first octet, and its index prefix. */
const INCREMENTAL = 0x40;
const WITHOUT_INDEXING = 0x00;
const NEVER_INDEXED = 0x10;

/** Names whose values mostly differ per request or response: indexing them would only churn the table. */
const NOT_INDEXED_NAMES = new Map<string, number>([
  [':path', WITHOUT_INDEXING],
  ['content-length', WITHOUT_INDEXING],
  ['date', WITHOUT_INDEXING],
  ['etag', WITHOUT_INDEXING],
  ['if-modified-since', WITHOUT_INDEXING],
  ['if-none-match', WITHOUT_INDEXING],
  ['last-modified', WITHOUT_INDEXING],
  ['location', WITHOUT_INDEXING],
  ['x-request-id', WITHOUT_INDEXING],
  ['traceparent', WITHOUT_INDEXING],
  // Credentials: never indexed, so no intermediary re-encoding them may index them either (§7.1.3).
  ['authorization', NEVER_INDEXED],
  ['proxy-authorization', NEVER_INDEXED],
  ['cookie', NEVER_INDEXED],
  ['set-cookie', NEVER_INDEXED],
]);
interface StaticName {
  /** Lowest static index with this name. */
  readonly index: number;
  /** value → static index of (name, value). */
  readonly values: Map<string, number>;
}
const STATIC_BY_NAME = new Map<string, StaticName>();
STATIC_TABLE.forEach(([name, value], i) => {
  let entry = STATIC_BY_NAME.get(name);
  if (entry === undefined) STATIC_BY_NAME.set(name, (entry = { index: i + 1, values: new Map() }));
  // Credentials stay never-indexed even when empty, so the next hop sees them as such too.
  if (!entry.values.has(value) && NOT_INDEXED_NAMES.get(name) !== NEVER_INDEXED) entry.values.set(value, i + 1);
});
/** Longer values are sent without indexing: one would evict many small, repeated entries. */
const MAX_INDEXED_VALUE = 256;
/** The most table we keep per connection whatever the peer allows (Go's and nghttp2's encoders stop at 4096 too). */
const MAX_ENCODER_TABLE = 4096;
/** Worst-case octets of an integer with its prefix octet. */
const INT_OCTETS = 6;

/** The dynamic entries of one name: the newest with the name, and the newest per value, by insertion id. */
interface DynamicName {
  newest: number;
  readonly values: Map<string, number>;
}

export class HpackEncoder {
  private readonly table: DynamicTable;
  private readonly byName = new Map<string, DynamicName>();
  /** Smallest size set since the last block (§4.2 wants it signalled before the final one), or -1 when no update is owed. */
  private pendingMin = -1;
  private out: Buffer = Buffer.allocUnsafe(1024);

  /** maxTableSize defaults to 4096 (the peer's SETTINGS_HEADER_TABLE_SIZE default). */
  constructor(opts?: { maxTableSize?: number }) {
    const size = Math.min(checkSize(opts?.maxTableSize ?? 4096, 'maxTableSize'), MAX_ENCODER_TABLE);
    this.table = new DynamicTable(size);
    // The peer's decoder starts at 4096; a smaller table must be announced before it is relied on.
    if (size < 4096) this.pendingMin = size;
  }

  /** The peer changed SETTINGS_HEADER_TABLE_SIZE: the next block starts with a dynamic table size update (RFC 7541 §4.2 / §6.3), and evicts as needed. */
  setMaxTableSize(n: number): void {
    const size = Math.min(checkSize(n, 'maxTableSize'), MAX_ENCODER_TABLE);
    this.pendingMin = this.pendingMin < 0 ? size : Math.min(this.pendingMin, size);
    this.table.max = size;
    while (this.table.size > size) this.evictOldest();
  }

  /** Encodes one header block. Names in `sensitive` (optional set), besides credentials, are encoded never-indexed.
   *  Throws HpackError for a list of odd length or a char above U+00FF (not an octet). */
  encode(headers: FlatHeaders, sensitive?: ReadonlySet<string>): Buffer {
    if ((headers.length & 1) !== 0) throw new HpackError('header list of odd length');
    let p = 0;
    if (this.pendingMin >= 0) {
      if (this.pendingMin < this.table.max) p = writeInteger(this.out, p, 0x20, 0x1f, this.pendingMin);
      p = writeInteger(this.out, p, 0x20, 0x1f, this.table.max);
      this.pendingMin = -1;
    }
    try {
      p = this.encodeFields(headers, sensitive, p);
    } catch (err) {
      // Fields before the bad one may have been added to our table, which the peer will never see: start both afresh.
      while (this.table.count > 0) this.evictOldest();
      this.pendingMin = 0;
      throw err;
    }
    const block = Buffer.allocUnsafe(p);
    this.out.copy(block, 0, 0, p);
    return block;
  }

  private encodeFields(headers: FlatHeaders, sensitive: ReadonlySet<string> | undefined, p: number): number {
    const table = this.table;
    let out = this.out;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      const value = headers[i + 1]!;
      const need = p + name.length + value.length + 3 * INT_OCTETS;
      if (need > out.length) out = this.grow(p, need);
      const sensitiveName = sensitive !== undefined && sensitive.has(name);
      const dynamic = this.byName.get(name);
      if (dynamic !== undefined && !sensitiveName) {
        const id = dynamic.values.get(value);
        if (id !== undefined) {
          p = writeInteger(out, p, 0x80, 0x7f, DYNAMIC_BASE + table.inserted - 1 - id);
          continue;
        }
      }
      const fixed = STATIC_BY_NAME.get(name);
      if (fixed !== undefined && !sensitiveName) {
        const index = fixed.values.get(value);
        if (index !== undefined) {
          p = writeInteger(out, p, 0x80, 0x7f, index);
          continue;
        }
      }
      let kind = sensitiveName ? NEVER_INDEXED : (NOT_INDEXED_NAMES.get(name) ?? INCREMENTAL);
      if (kind === INCREMENTAL) {
        const size = name.length + value.length + ENTRY_OVERHEAD;
        if (value.length > MAX_INDEXED_VALUE || size > table.max || isLatencyHeader(name)) kind = WITHOUT_INDEXING;
      }
      // The static name is preferred: its index is small and stays valid.
      const nameIndex = fixed !== undefined ? fixed.index : dynamic !== undefined ? DYNAMIC_BASE + table.inserted - 1 - dynamic.newest : 0;
      p = kind === INCREMENTAL ? writeInteger(out, p, INCREMENTAL, 0x3f, nameIndex) : writeInteger(out, p, kind, 0x0f, nameIndex);
      if (nameIndex === 0) p = writeString(out, p, name);
      p = writeString(out, p, value);
      if (kind === INCREMENTAL) this.insert(name, value);
    }
    return p;
  }

  private grow(p: number, need: number): Buffer {
    const out = Buffer.allocUnsafe(Math.max(need, this.out.length * 2));
    this.out.copy(out, 0, 0, p);
    return (this.out = out);
  }

  private insert(name: string, value: string): void {
    const table = this.table;
    const size = name.length + value.length + ENTRY_OVERHEAD;
    while (table.size + size > table.max) this.evictOldest();
    const id = table.inserted;
    table.push(name, value);
    const dynamic = this.byName.get(name);
    if (dynamic === undefined) this.byName.set(name, { newest: id, values: new Map([[value, id]]) });
    else {
      dynamic.newest = id;
      dynamic.values.set(value, id);
    }
  }

  private evictOldest(): void {
    const table = this.table;
    const id = table.inserted - table.count;
    const slot = id & table.mask;
    const name = table.names[slot]!;
    const dynamic = this.byName.get(name)!;
    // The oldest entry being the newest of its name means it is the last one of that name.
    if (dynamic.newest === id) this.byName.delete(name);
    else if (dynamic.values.get(table.values[slot]!) === id) dynamic.values.delete(table.values[slot]!);
    table.evictOldest();
  }
}

/** l5d-*-latency: a per-response timing. */
function isLatencyHeader(name: string): boolean {
  return name.length > 12 && name.startsWith('l5d-') && name.endsWith('-latency');
}

/** An integer with an N-bit prefix (§5.1); `prefix` is 2^N - 1, `flags` the high bits of the first octet. */
function writeInteger(out: Buffer, p: number, flags: number, prefix: number, value: number): number {
  if (value < prefix) {
    out[p] = flags | value;
    return p + 1;
  }
  out[p++] = flags | prefix;
  value -= prefix;
  while (value >= 0x80) {
    out[p++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  out[p] = value;
  return p + 1;
}

/** A string literal (§5.2), Huffman-coded when that is shorter. */
function writeString(out: Buffer, p: number, s: string): number {
  const length = s.length;
  let bits = 0;
  for (let i = 0; i < length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new HpackError(`char U+${c.toString(16).padStart(4, '0')} at ${i} is not an octet`);
    bits += HUFFMAN_BITS[c]!;
  }
  const huffmanLength = (bits + 7) >>> 3;
  if (huffmanLength >= length) {
    p = writeInteger(out, p, 0x00, 0x7f, length);
    if (length < 32) for (let i = 0; i < length; i++) out[p + i] = s.charCodeAt(i);
    else out.write(s, p, length, 'latin1');
    return p + length;
  }
  p = writeInteger(out, p, 0x80, 0x7f, huffmanLength);
  // Bits not yet written, right-aligned in acc; kept under 8 between symbols so acc << 24 stays within 31 bits.
  let acc = 0;
  let pending = 0;
  for (let i = 0; i < length; i++) {
    const c = s.charCodeAt(i);
    let code = HUFFMAN_CODES[c]!;
    let n = HUFFMAN_BITS[c]!;
    if (n > 24) {
      acc = (acc << (n - 16)) | (code >>> 16);
      pending += n - 16;
      while (pending >= 8) out[p++] = acc >>> (pending -= 8);
      acc &= (1 << pending) - 1;
      code &= 0xffff;
      n = 16;
    }
    acc = (acc << n) | code;
    pending += n;
    while (pending >= 8) out[p++] = acc >>> (pending -= 8);
    acc &= (1 << pending) - 1;
  }
  // Pad with the high bits of EOS, all ones.
  if (pending > 0) out[p++] = (acc << (8 - pending)) | (0xff >>> pending);
  return p;
}
