/**
 * Reading msgpack in place, for the ingest fast paths (msgpack-metric-events.ts,
 * msgpack-series-batch.ts): a cursor over the body's bytes that steps over values without
 * building them, and throws NOT_FAST at anything a fast path is not sure of — the general
 * path (msgpackr + the schema) then decides, with its error messages. Nothing here allocates
 * per value but `text` and `labelsAt`, which a fast path calls for label sets it has not seen.
 */

/** Thrown inside a reader when the body leaves the fast path; never escapes the fast path's module. */
export class NotFast extends Error {}
export const NOT_FAST = new NotFast();

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** A key's bytes (ASCII names), to compare with a body's keys in place. */
export const asciiBytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
/** The `ttl_seconds` key both batch shapes have. */
export const TTL_KEY = asciiBytes('ttl_seconds');
/** Longest string built with String.fromCharCode.apply (arguments are bounded by the stack). */
const MAX_APPLY_ARGS = 4096;

/** `read()`, or null when it threw NOT_FAST (any other error goes on). */
export function unlessNotFast<T>(read: () => T): T | null {
  try {
    return read();
  } catch (error) {
    if (error instanceof NotFast) return null;
    throw error;
  }
}

/**
 * A msgpackr record's shape (msgpackr's Packr writes objects as records by default): its
 * keys, by where their strings' bytes are in the body.
 */
export interface RecordShape {
  keyStart: number[];
  keyLength: number[];
  /** The key array's own bytes, [keysStart, keysEnd): a record is these keys and its values. */
  keysStart: number;
  keysEnd: number;
}

export class MsgpackCursor {
  protected pos = 0;
  /** Byte length of the string `string()` last stepped over (a field, not a returned pair: no allocation per string). */
  protected strLength = 0;
  protected readonly view: DataView;
  /** msgpackr records defined so far in this body, by id (0-63); null when the reader takes no records. */
  private readonly shapes: (RecordShape | undefined)[] | null;
  /** The record shape of the map mapHeader() read last; null for a plain map. */
  protected shape: RecordShape | null = null;
  /** Where the entries of the map mapHeader() read last begin (a record's: its values). */
  protected mapBodyStart = 0;

  /** `records`: read msgpackr records as maps (as msgpackr's unpack does: ids are per message). */
  constructor(protected readonly src: Uint8Array, records = false) {
    this.view = new DataView(src.buffer, src.byteOffset, src.byteLength);
    this.shapes = records ? [] : null;
  }

  // ---- attributes (a map of string -> primitive, as metric event attributes and series labels are) ----

  /** Checks an attributes value (nil or a map of string -> string/number/bool/nil) and steps over it. */
  protected skipAttributes(): void {
    if (this.src[this.pos] === 0xc0) {
      this.pos++;
      return;
    }
    this.skipLabelMap();
  }

  /**
   * Checks a map of string -> string/number/bool/nil (a label set) and steps over it; returns
   * its record shape, null for a plain map (its entries began at `mapBodyStart`).
   */
  protected skipLabelMap(): RecordShape | null {
    const fields = this.mapHeader();
    const shape = this.shape;
    for (let f = 0; f < fields; f++) {
      this.mapKey(shape, f);
      this.skipPrimitive();
    }
    return shape;
  }

  protected skipPrimitive(): void {
    const b = this.byte();
    if (b === 0xc0 || b === 0xc2 || b === 0xc3) return;
    this.pos--;
    // A string is only decoded (and its UTF-8 checked) by labelsAt, when the label set is new.
    if (isStringHeader(b)) this.string();
    else if (!Number.isFinite(this.number())) throw NOT_FAST;
  }

  /** The labels of an attributes map (already checked by skipAttributes): values stringified, nulls and `__*` keys left out. */
  protected labelsAt(start: number): Record<string, string> {
    const saved = this.pos;
    this.pos = start;
    const labels: Record<string, string> = {};
    if (this.src[this.pos] === 0xc0) {
      this.pos = saved;
      return labels;
    }
    const fields = this.mapHeader();
    const shape = this.shape;
    const names = new Set<string>();
    for (let f = 0; f < fields; f++) {
      const nameStart = this.mapKey(shape, f);
      const name = this.text(nameStart, this.strLength);
      // A repeated key (msgpackr keeps the last) or __proto__ (not a plain property): the general path knows.
      if (names.has(name) || name === '__proto__') throw NOT_FAST;
      names.add(name);
      const value = this.primitiveText();
      if (value !== null && !name.startsWith('__')) labels[name] = value;
    }
    this.pos = saved;
    return labels;
  }

  /** A primitive as a label value (String() of it), null for nil. */
  protected primitiveText(): string | null {
    const b = this.byte();
    if (b === 0xc0) return null;
    if (b === 0xc2) return 'false';
    if (b === 0xc3) return 'true';
    this.pos--;
    if (isStringHeader(b)) return this.text(this.string(), this.strLength);
    return String(this.number());
  }

  /** A `ttl_seconds` value: an integer, 0 or more (the schema's TtlSeconds). */
  protected ttlSeconds(): number {
    const ttl = this.number();
    if (!Number.isInteger(ttl) || ttl < 0) throw NOT_FAST;
    return ttl;
  }

  /** An epoch-ms uint64 or int64, as msgpackr reads it (a BigInt), for the schema path's conversion. */
  protected int64(signed: boolean): bigint {
    this.pos++;
    const high = this.u32();
    const bits = (BigInt(high) << 32n) | BigInt(this.u32());
    return signed ? BigInt.asIntN(64, bits) : bits;
  }

  /** Any msgpack number the general path reads as a JS number (not uint64/int64, which become BigInt; not float32). */
  protected number(): number {
    const b = this.byte();
    if (b <= 0x7f) {
      // Once a record has the id, its byte (0x40 + id) is that record, not a number.
      if (b >= 0x40 && this.shapes !== null && this.shapes[b & 0x3f] !== undefined) throw NOT_FAST;
      return b;
    }
    if (b >= 0xe0) return b - 0x100;
    const at = this.pos;
    switch (b) {
      case 0xcb: this.skip(8); return this.view.getFloat64(at);
      case 0xcc: this.skip(1); return this.view.getUint8(at);
      case 0xcd: this.skip(2); return this.view.getUint16(at);
      case 0xce: this.skip(4); return this.view.getUint32(at);
      case 0xd0: this.skip(1); return this.view.getInt8(at);
      case 0xd1: this.skip(2); return this.view.getInt16(at);
      case 0xd2: this.skip(4); return this.view.getInt32(at);
      default: throw NOT_FAST;
    }
  }

  /** A map's entry count; a record's, when the reader takes records (its keys then come from `shape`: see mapKey). */
  protected mapHeader(): number {
    const b = this.byte();
    this.shape = null;
    let count: number;
    if ((b & 0xf0) === 0x80) count = b & 0x0f;
    else if (b === 0xde) count = this.elements(this.u16());
    else if (b === 0xdf) count = this.elements(this.u32());
    else if (this.shapes !== null) count = this.recordHeader(b);
    else throw NOT_FAST;
    this.mapBodyStart = this.pos;
    return count;
  }

  /**
   * A msgpackr record where a map may be: a definition (fixext 1 of type 0x72 whose byte's low
   * 6 bits are the id, then the array of keys, then the values) or a reference to one defined
   * before in the body (the byte 0x40 + id, then the values).
   */
  private recordHeader(b: number): number {
    const shapes = this.shapes!;
    let shape: RecordShape | undefined;
    if (b >= 0x40 && b <= 0x7f) {
      shape = shapes[b & 0x3f];
    } else if (b === 0xd4 && this.byte() === 0x72) {
      const id = this.byte() & 0x3f;
      shape = shapes[id] = this.recordShape();
    }
    if (shape === undefined) throw NOT_FAST;
    this.shape = shape;
    return shape.keyStart.length;
  }

  /** A record definition's keys: an array of strings (msgpackr would take other keys as strings too; not here). */
  private recordShape(): RecordShape {
    const keysStart = this.pos;
    const count = this.arrayHeader();
    const keyStart: number[] = [], keyLength: number[] = [];
    for (let k = 0; k < count; k++) {
      keyStart.push(this.string());
      keyLength.push(this.strLength);
    }
    return { keyStart, keyLength, keysStart, keysEnd: this.pos };
  }

  /** Entry `f`'s key of the map read with `shape` (mapHeader's): where its string's bytes are (and `strLength`). */
  protected mapKey(shape: RecordShape | null, f: number): number {
    if (shape === null) return this.string();
    this.strLength = shape.keyLength[f]!;
    return shape.keyStart[f]!;
  }

  protected arrayHeader(): number {
    const b = this.byte();
    if ((b & 0xf0) === 0x90) return b & 0x0f;
    if (b === 0xdc) return this.elements(this.u16());
    if (b === 0xdd) return this.elements(this.u32());
    throw NOT_FAST;
  }

  /**
   * A map's or array's element count, which cannot pass the bytes left (an element takes one
   * at least): a corrupt count would otherwise size the grouper's columns (RangeError).
   */
  protected elements(count: number): number {
    if (count > this.src.length - this.pos) throw NOT_FAST;
    return count;
  }

  /** Steps over a string, not decoding it: returns where its bytes start and sets `strLength`. */
  protected string(): number {
    const b = this.byte();
    let length: number;
    if ((b & 0xe0) === 0xa0) length = b & 0x1f;
    else if (b === 0xd9) length = this.byte();
    else if (b === 0xda) length = this.u16();
    else if (b === 0xdb) length = this.u32();
    else throw NOT_FAST;
    const start = this.pos;
    this.skip(length);
    this.strLength = length;
    return start;
  }

  /** UTF-8 text of a byte range: ASCII built in one call, anything else through a strict decoder (invalid UTF-8 is not fast). */
  protected text(start: number, length: number): string {
    const src = this.src;
    const end = start + length;
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (src[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii && length <= MAX_APPLY_ARGS) return String.fromCharCode.apply(null, src.subarray(start, end) as unknown as number[]);
    try {
      return UTF8.decode(src.subarray(start, end));
    } catch {
      throw NOT_FAST;
    }
  }

  protected bytesEqual(start: number, length: number, expected: Uint8Array): boolean {
    if (length !== expected.length) return false;
    const src = this.src;
    for (let i = 0; i < length; i++) if (src[start + i] !== expected[i]) return false;
    return true;
  }

  protected sameBytes(a: number, b: number, length: number): boolean {
    const src = this.src;
    for (let i = 0; i < length; i++) if (src[a + i] !== src[b + i]) return false;
    return true;
  }

  protected u16(): number {
    const at = this.pos;
    this.skip(2);
    return this.view.getUint16(at);
  }

  protected u32(): number {
    const at = this.pos;
    this.skip(4);
    return this.view.getUint32(at);
  }

  protected byte(): number {
    if (this.pos >= this.src.length) throw NOT_FAST;
    return this.src[this.pos++]!;
  }

  /** Steps over `length` bytes, which must be there. */
  protected skip(length: number): void {
    if (this.pos + length > this.src.length) throw NOT_FAST;
    this.pos += length;
  }
}

export function isStringHeader(b: number): boolean {
  return (b & 0xe0) === 0xa0 || b === 0xd9 || b === 0xda || b === 0xdb;
}
