/**
 * Little-endian binary writing and reading for hand-laid record formats (the WAL's series
 * batches): a growable buffer on the way out, a bounds-checked cursor on the way in.
 * Typed arrays go as their own bytes (platform order: little-endian on every target Node
 * runs on here) and come back copied into arrays of their own.
 */

const UTF8_ENCODER = new TextEncoder();
/** Typed-array views read the platform's byte order; the formats here are little-endian. */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
const UTF8_DECODER = new TextDecoder('utf-8', { fatal: true });

export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  pos = 0;

  /** A fresh buffer of `capacity` bytes, or `into` (written from its start; past its end the writer grows into a buffer of its own). */
  constructor(capacity = 4096, into?: Uint8Array) {
    this.buf = into ?? new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Room for `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.reserve(1);
    this.buf[this.pos++] = v;
  }

  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  /** `n` bytes of zero (the buffer may be reused memory: they are written). */
  zeros(n: number): void {
    this.reserve(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }

  /** `n` bytes left as they are (room the caller fills in later). */
  skip(n: number): void {
    this.reserve(n);
    this.pos += n;
  }

  f64(v: number): void {
    this.reserve(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  /** u32 byte length, then the UTF-8 bytes. */
  string(s: string): void {
    this.reserve(4 + s.length * 3);
    const { written } = UTF8_ENCODER.encodeInto(s, this.buf.subarray(this.pos + 4));
    this.view.setUint32(this.pos, written, true);
    this.pos += 4 + written;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A typed array's own bytes (a view writes its window, not its whole buffer). */
  typed(a: Float64Array | Uint32Array): void {
    this.bytes(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }

  /**
   * One column of a batch: each item's array, back to back. Arrays that already lie back to
   * back in one buffer (views of one column, as a grouper hands out) are copied in one go.
   */
  column<T>(items: readonly T[], arrayOf: (item: T) => Float64Array | Uint32Array | undefined): void {
    let buffer: ArrayBufferLike | null = null;
    let start = 0, end = 0;
    for (const item of items) {
      const a = arrayOf(item);
      if (a === undefined || a.byteLength === 0) continue;
      if (a.buffer === buffer && a.byteOffset === end) {
        end += a.byteLength;
        continue;
      }
      if (buffer !== null) this.bytes(new Uint8Array(buffer, start, end - start));
      buffer = a.buffer;
      start = a.byteOffset;
      end = start + a.byteLength;
    }
    if (buffer !== null) this.bytes(new Uint8Array(buffer, start, end - start));
  }

  /** The bytes written so far (a view of the buffer, valid until the next write). */
  result(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

export class ByteReader {
  private readonly view: DataView;
  pos = 0;

  constructor(readonly src: Uint8Array, private readonly what: string) {
    this.view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  }

  get done(): boolean {
    return this.pos === this.src.length;
  }

  private need(n: number): number {
    const at = this.pos;
    if (at + n > this.src.length) throw new Error(`${this.what}: truncated at byte ${at} (needs ${n} more)`);
    this.pos = at + n;
    return at;
  }

  u8(): number {
    return this.src[this.need(1)]!;
  }

  u32(): number {
    return this.view.getUint32(this.need(4), true);
  }

  f64(): number {
    return this.view.getFloat64(this.need(8), true);
  }

  string(): string {
    const length = this.u32();
    const at = this.need(length);
    return UTF8_DECODER.decode(this.src.subarray(at, at + length));
  }

  /** Steps over `length` bytes; returns where they start. */
  skip(length: number): number {
    return this.need(length);
  }

  /** `length` raw bytes as a view of the source. */
  bytes(length: number): Uint8Array {
    const at = this.need(length);
    return this.src.subarray(at, at + length);
  }

  /** `n` float64s, copied into an array of their own. */
  f64s(n: number): Float64Array {
    const b = this.bytes(n * 8);
    const out = new Float64Array(n);
    new Uint8Array(out.buffer).set(b);
    return out;
  }

  /** `n` uint32s, copied into an array of their own. */
  u32s(n: number): Uint32Array {
    const b = this.bytes(n * 4);
    const out = new Uint32Array(n);
    new Uint8Array(out.buffer).set(b);
    return out;
  }

  /** `n` float64s as a view of the source where they are aligned (8), else copied. */
  f64sInPlace(n: number): Float64Array {
    const at = this.src.byteOffset + this.pos;
    if (!LITTLE_ENDIAN || at % 8 !== 0) return this.f64s(n);
    this.need(n * 8);
    return new Float64Array(this.src.buffer, at, n);
  }

  /** `n` uint32s as a view of the source where they are aligned (4), else copied. */
  u32sInPlace(n: number): Uint32Array {
    const at = this.src.byteOffset + this.pos;
    if (!LITTLE_ENDIAN || at % 4 !== 0) return this.u32s(n);
    this.need(n * 4);
    return new Uint32Array(this.src.buffer, at, n);
  }
}

/**
 * `target.set(source, at)` for a target in shared memory, at memcpy speed. V8 copies into a
 * SharedArrayBuffer with relaxed atomic words, and a byte at a time when the source and
 * target addresses differ mod 8 (many times slower than memcpy): a chunk is first put
 * at the target's alignment in a plain scratch buffer (a memcpy), then copied across in words.
 */
let scratch = new Uint8Array(64 * 1024 + 8);

export function copyIntoShared(target: Uint8Array, source: Uint8Array, at: number): void {
  const shift = (target.byteOffset + at) & 7;
  if (((source.byteOffset - shift) & 7) === 0) {
    target.set(source, at);
    return;
  }
  if (scratch.length < source.length + 8) scratch = new Uint8Array(Math.max(source.length + 8, scratch.length * 2));
  scratch.set(source, shift);
  target.set(scratch.subarray(shift, shift + source.length), at);
}
