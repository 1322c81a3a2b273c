/**
 * Series headers (metric, unit, labels) recognised by their encoded bytes: a batch decoder
 * looks the bytes up before decoding any string, so a label set that comes again costs one
 * hash and one compare, and yields the same objects as the first time. The same labels
 * object lets the series registry find the series by identity (series.ts), and the WAL
 * encoder reuse its encoded header (batch-codec.ts), so the objects must not be mutated.
 */

export interface SeriesHeader {
  metric: string;
  unit: string | undefined;
  labels: Record<string, string>;
}

interface Entry {
  key: Uint8Array;
  header: SeriesHeader;
  next: Entry | null;
}

/** Enough for every live series of a large deployment; past it the cache starts over. */
const MAX_ENTRIES = 200_000;

export class HeaderCache {
  private readonly entries = new Map<number, Entry>();

  /** The header encoded in `src[start, start + length)`, if seen before; allocates nothing. */
  lookup(src: Uint8Array, start: number, length: number): SeriesHeader | undefined {
    for (let e = this.entries.get(hashBytes(0x811c9dc5 ^ length, src, start, start + length)) ?? null; e !== null; e = e.next) {
      if (sameBytes(e.key, src, start, length)) return e.header;
    }
    return undefined;
  }

  remember(bytes: Uint8Array, header: SeriesHeader): void {
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    const h = hashBytes(0x811c9dc5 ^ bytes.length, bytes, 0, bytes.length);
    // A copy (a Buffer's slice() would be a view, keeping a whole WAL file alive).
    this.entries.set(h, { key: new Uint8Array(bytes), header, next: this.entries.get(h) ?? null });
  }
}

/**
 * FNV-1a over `b[start, end)` continuing from `h`, four bytes a step (read by hand: a
 * DataView per call would allocate). Also keys the msgpack fast path's label sets.
 */
export function hashBytes(h: number, b: Uint8Array, start: number, end: number): number {
  let i = start;
  for (; i + 4 <= end; i += 4) h = Math.imul(h ^ (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)), 0x01000193);
  for (; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h;
}

function sameBytes(key: Uint8Array, src: Uint8Array, start: number, length: number): boolean {
  if (key.length !== length) return false;
  for (let i = 0; i < length; i++) if (key[i] !== src[start + i]) return false;
  return true;
}
