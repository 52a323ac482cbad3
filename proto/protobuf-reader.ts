// A minimal reader of the protobuf wire format: keys, varints, length-delimited fields, and
// skipping of unknown fields (groups included) with the checks prost makes. Enough for the
// transport header, which is decoded by hand.

// prost's recursion limit for nested groups.
const MAX_GROUP_DEPTH = 100;

export class WireFormatError extends Error {
  override readonly name = 'WireFormatError';
  constructor(readonly reason: string) {
    super(`invalid protobuf: ${reason}`);
  }
}

export class ProtobufReader {
  #pos = 0;
  constructor(private readonly buf: Buffer) {}

  done(): boolean {
    return this.#pos >= this.buf.length;
  }

  key(): { field: number; wireType: number } {
    const { value } = this.varint();
    const field = Math.floor(value / 8);
    const wireType = value % 8;
    if (field < 1 || field > 0x1fff_ffff) throw new WireFormatError(`invalid field number ${field}`);
    return { field, wireType };
  }

  /** `value` is exact below 2^53 (enough for lengths and keys); `low32` is the int32 view. */
  varint(): { value: number; low32: number } {
    let value = 0;
    let low32 = 0;
    for (let i = 0; i < 10; i++) {
      const b = this.buf[this.#pos++];
      if (b === undefined) throw new WireFormatError('truncated varint');
      if (i === 9 && b > 1) throw new WireFormatError(b >= 0x80 ? 'varint longer than 10 bytes' : 'varint longer than 64 bits');
      value += (b & 0x7f) * 2 ** (7 * i);
      if (i < 5) low32 |= (b & 0x7f) << (7 * i);
      if (b < 0x80) return { value, low32 };
    }
    throw new WireFormatError('varint longer than 10 bytes'); // unreachable: the tenth byte returns or throws
  }

  bytes(): Buffer {
    const { value: len } = this.varint();
    if (len > this.buf.length - this.#pos) throw new WireFormatError('length-delimited field runs past the message');
    const out = this.buf.subarray(this.#pos, this.#pos + len);
    this.#pos += len;
    return out;
  }

  #advance(n: number): void {
    if (n > this.buf.length - this.#pos) throw new WireFormatError('fixed-width field runs past the message');
    this.#pos += n;
  }

  /** Skips one unknown field per the protobuf wire rules, groups included. */
  skip(field: number, wireType: number, depth = 0): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.#advance(8);
        return;
      case 2:
        this.bytes();
        return;
      case 5:
        this.#advance(4);
        return;
      case 3: {
        if (depth >= MAX_GROUP_DEPTH) throw new WireFormatError('groups nested too deeply');
        for (;;) {
          if (this.done()) throw new WireFormatError('unterminated group');
          const inner = this.key();
          if (inner.wireType === 4) {
            if (inner.field !== field) throw new WireFormatError('mismatched end of group');
            return;
          }
          this.skip(inner.field, inner.wireType, depth + 1);
        }
      }
      default:
        throw new WireFormatError(`unexpected wire type ${wireType}`);
    }
  }
}
