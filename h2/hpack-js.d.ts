// The little of hpack.js (untyped, a devDependency) that hpack.test.ts uses to cross-check the codec.
declare module 'hpack.js' {
  interface HpackJsHeader {
    name: string;
    value: string;
    /** Compressor: encode never-indexed. Decompressor: whether it was. */
    neverIndex?: boolean;
    /** Compressor: false for a literal without indexing. */
    incremental?: boolean;
    /** Compressor: false for raw string literals (it Huffman-codes by default, even when longer). */
    huffman?: boolean;
  }
  interface HpackJsOptions {
    table: { maxSize: number };
  }
  interface HpackJsCompressor {
    write(headers: HpackJsHeader[]): boolean;
    /** Everything pushed since the last read, or null. */
    read(): Buffer | null;
    /** Emits a size update only when size is the protocol maximum; a smaller size only shrinks its own table. */
    updateTableSize(size: number): void;
  }
  interface HpackJsDecompressor {
    write(block: Uint8Array): boolean;
    /** Decodes what was written, synchronously; throws what it finds wrong (as an 'error' event without a listener). */
    execute(): void;
    /** One decoded header, or null. */
    read(): Required<Pick<HpackJsHeader, 'name' | 'value' | 'neverIndex'>> | null;
  }
  const hpack: {
    compressor: { create(options: HpackJsOptions): HpackJsCompressor };
    decompressor: { create(options: HpackJsOptions): HpackJsDecompressor };
    /** [bit length, code] per symbol, EOS last. */
    huffman: { encode: readonly (readonly [number, number])[] };
    'static-table': { table: readonly { name: string; value: string }[] };
  };
  export = hpack;
}
