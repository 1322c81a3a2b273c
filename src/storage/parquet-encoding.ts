/**
 * The few Parquet encodings the metric segment writer needs (parquet-metric-write.ts), on
 * plain numbers and typed arrays: hyparquet-writer's general encoders take any JS value and
 * turn every INT64 into a BigInt, which cost most of a segment flush's CPU. All integers
 * here are below 2^53 (microsecond timestamps until the year 2255, dictionary indices).
 *
 * Formats: https://parquet.apache.org/docs/file-format/data-pages/encodings/
 */
import { ByteWriter } from 'hyparquet-writer';

const TWO_32 = 2 ** 32;

/** ULEB128 of a non-negative integer below 2^53. */
export function writeUleb(w: ByteWriter, value: number): void {
  while (value >= 0x80) {
    w.appendUint8((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  w.appendUint8(value);
}

/** Zigzag ULEB128 (signed), for |value| < 2^52. */
export function writeZigzag(w: ByteWriter, value: number): void {
  writeUleb(w, value >= 0 ? value * 2 : -value * 2 - 1);
}

/** Bits needed for values up to `max` (0 for 0). */
export function bitWidth(max: number): number {
  let bits = 0;
  while (max >= 1) {
    bits++;
    max = Math.floor(max / 2);
  }
  return bits;
}

/**
 * Packs `count` values LSB first, `width` bits each (up to 53), then zeros up to `padTo`
 * values, into `w`. Widths up to 32 (dictionary indices, most deltas) go through a 32-bit
 * accumulator into one byte array; wider ones are fed in 24-bit pieces to an accumulator
 * kept below 2^53, which stays exact in a double.
 */
function bitPack(w: ByteWriter, values: ArrayLike<number>, from: number, count: number, padTo: number, width: number): void {
  if (width === 0) return;
  const out = new Uint8Array(Math.ceil((padTo * width) / 8));
  let at = 0;
  if (width <= 32) {
    // A value goes in as one or two pieces of at most 16 bits, so the accumulator never passes 31 bits.
    const pieces = width <= 16 ? 1 : 2;
    const lowBits = pieces === 1 ? width : 16;
    let acc = 0, accBits = 0;
    for (let i = 0; i < count; i++) {
      const v = values[from + i]!;
      for (let p = 0; p < pieces; p++) {
        acc |= (p === 0 ? v & 0xffff : Math.floor(v / 0x10000)) << accBits;
        accBits += p === 0 ? lowBits : width - 16;
        while (accBits >= 8) {
          out[at++] = acc & 0xff;
          acc >>>= 8;
          accBits -= 8;
        }
      }
    }
    if (accBits > 0) out[at] = acc & 0xff;
  } else {
    let acc = 0, accBits = 0;
    for (let i = 0; i < count; i++) {
      let v = values[from + i]!;
      let bits = width;
      while (bits > 0) {
        const take = Math.min(bits, 24);
        const piece = v % 2 ** take;
        v = (v - piece) / 2 ** take;
        bits -= take;
        acc += piece * 2 ** accBits;
        accBits += take;
        while (accBits >= 8) {
          const byte = acc % 256;
          out[at++] = byte;
          acc = (acc - byte) / 256;
          accBits -= 8;
        }
      }
    }
    if (accBits > 0) out[at] = acc;
  }
  w.appendBytes(out);
}

/**
 * RLE/bit-packed hybrid, as RLE runs only: `runs` gives (value, count) pairs, which suits
 * per-series values (long runs) and definition levels. Not length-prefixed.
 */
export function writeRleRuns(w: ByteWriter, width: number, runs: (emit: (value: number, count: number) => void) => void): void {
  const valueBytes = (width + 7) >> 3;
  runs((value, count) => {
    if (count <= 0) return;
    writeUleb(w, count * 2);
    for (let b = 0, v = value; b < valueBytes; b++, v = Math.floor(v / 256)) w.appendUint8(v % 256);
  });
}

/** RLE/bit-packed hybrid as one bit-packed run of `values` (for values without long runs). */
export function writeBitPackedRun(w: ByteWriter, width: number, values: Uint32Array): void {
  if (values.length === 0) return;
  const groups = Math.ceil(values.length / 8);
  writeUleb(w, groups * 2 + 1);
  bitPack(w, values, 0, values.length, groups * 8, width);
}

const BLOCK = 128;
const MINIBLOCKS = 4;
const MINIBLOCK = BLOCK / MINIBLOCKS;

/**
 * DELTA_BINARY_PACKED of integers `values[from, to)` (as INT64): blocks of 128 deltas in 4
 * miniblocks of 32, each packed at its own bit width after subtracting the block's least
 * delta. A series' times one second apart pack into 0 bits a value.
 */
export function writeDeltaBinaryPacked(w: ByteWriter, values: Float64Array, from: number, to: number): void {
  const count = to - from;
  writeUleb(w, BLOCK);
  writeUleb(w, MINIBLOCKS);
  writeUleb(w, count);
  writeZigzag(w, count > 0 ? values[from]! : 0);
  const deltas = new Float64Array(BLOCK);
  const widths = new Uint8Array(MINIBLOCKS);
  for (let start = from + 1; start < to; start += BLOCK) {
    const n = Math.min(BLOCK, to - start);
    let minDelta = Infinity;
    for (let i = 0; i < n; i++) {
      const d = values[start + i]! - values[start + i - 1]!;
      deltas[i] = d;
      if (d < minDelta) minDelta = d;
    }
    writeZigzag(w, minDelta);
    widths.fill(0);
    const used = Math.ceil(n / MINIBLOCK);
    for (let i = 0; i < n; i++) deltas[i] = deltas[i]! - minDelta;
    for (let m = 0; m < used; m++) {
      let max = 0;
      for (let i = m * MINIBLOCK; i < Math.min(n, (m + 1) * MINIBLOCK); i++) if (deltas[i]! > max) max = deltas[i]!;
      widths[m] = bitWidth(max);
    }
    for (let m = 0; m < MINIBLOCKS; m++) w.appendUint8(widths[m]!);
    for (let m = 0; m < used; m++) {
      const base = m * MINIBLOCK;
      bitPack(w, deltas, base, Math.min(MINIBLOCK, n - base), MINIBLOCK, widths[m]!);
    }
  }
}

/** PLAIN INT64 of one integer below 2^53 in magnitude (statistics). */
export function int64Bytes(value: number): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  const high = Math.floor(value / TWO_32);
  view.setUint32(0, value - high * TWO_32, true);
  view.setInt32(4, high, true);
  return out;
}
