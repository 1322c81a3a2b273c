/**
 * Dictionaries for the metric Parquet writer (parquet-metric-write.ts). A column's values
 * are coded once per file against its distinct byte strings (series' metric names, labels and
 * units; the segment's trace and span ids); each row group's dictionary page then holds just
 * the entries that group uses, renumbered in order of first use. One mechanism for both
 * kinds of column, and no string is encoded or compared per row group.
 */
import type { ByteWriter } from 'hyparquet-writer';
import type { Utf8Buffers } from './arrow.ts';
import { bitWidth } from './parquet-encoding.ts';

export class GroupDictionary {
  /** File code -> index in this group's dictionary + 1 (0: not used in this group yet). */
  private readonly local: Uint32Array;
  private used: number[] = [];

  constructor(codes: number, private readonly bytesOf: (code: number) => Uint8Array) {
    this.local = new Uint32Array(codes);
  }

  /** The group's index of file code `code`, added to the group's dictionary on first use. */
  indexOf(code: number): number {
    let index = this.local[code]!;
    if (index === 0) {
      this.used.push(code);
      index = this.local[code] = this.used.length;
    }
    return index - 1;
  }

  get size(): number {
    return this.used.length;
  }

  /** Bits per index in this group (at least 1). */
  indexWidth(): number {
    return Math.max(1, bitWidth(this.used.length - 1));
  }

  /** The group's entries, in index order. */
  values(): Uint8Array[] {
    return this.used.map(this.bytesOf);
  }

  /** The dictionary page's values: PLAIN byte arrays (u32 length, bytes). */
  writePlain(w: ByteWriter): void {
    for (const code of this.used) {
      const bytes = this.bytesOf(code);
      w.appendUint32(bytes.length);
      w.appendBytes(bytes);
    }
  }

  /** Ready for the next row group. */
  reset(): void {
    for (const code of this.used) this.local[code] = 0;
    this.used = [];
  }
}

const encoder = new TextEncoder();

/** Per-entry codes (-1 for null) into a dictionary of the distinct strings, each encoded once. */
export function stringDictionary(values: readonly (string | null)[]): { codes: Int32Array; dictionary: GroupDictionary } {
  const codeOf = new Map<string, number>();
  const bytes: Uint8Array[] = [];
  const codes = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      codes[i] = -1;
      continue;
    }
    let code = codeOf.get(v);
    if (code === undefined) {
      code = bytes.length;
      bytes.push(encoder.encode(v));
      codeOf.set(v, code);
    }
    codes[i] = code;
  }
  return { codes, dictionary: new GroupDictionary(bytes.length, (code) => bytes[code]!) };
}

/** The segment's id dictionary, already UTF-8 (code c is bytes[offsets[c], offsets[c + 1])). */
export function utf8Dictionary(ids: Utf8Buffers): GroupDictionary {
  return new GroupDictionary(ids.offsets.length - 1, (code) => ids.bytes.subarray(ids.offsets[code], ids.offsets[code + 1]));
}
