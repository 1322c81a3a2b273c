/**
 * Series headers (metric, unit, labels) recognised by their encoded bytes: a batch decoder
 * looks the bytes up before decoding any string, so a label set that comes again costs one
 * hash and one compare, and yields the same objects as the first time. The same labels
 * object lets the series registry find the series by identity (series.ts), and the WAL
 * encoder reuse its encoded header (batch-codec.ts), so the objects must not be mutated,
 * except for the two memo fields their consumers keep on them.
 */
import type { SeriesName } from '../index/series.ts';
import { KeyArena } from './key-arena.ts';

/** A decoded series header: a SeriesName (with the registry's memo) whose unit is given or not. */
export interface SeriesHeader extends SeriesName {
  unit: string | undefined;
  /** The ingest limiter that found the labels within its limits (IngestLimiter.checkSeriesLabels). */
  labelsCheckedBy?: object | undefined;
}

/**
 * Headers are made by a constructor, not an object literal: V8 tracks each literal's
 * allocation site and, once enough of its objects outlive a young-generation collection,
 * switches the site to old-space allocation, throwing away every optimised function that
 * inlined it — which long-lived headers made happen again each time new series came in,
 * recompiling the decoders in the middle of an ingest.
 */
class Header implements SeriesHeader {
  seriesMemo: SeriesHeader['seriesMemo'] = undefined;
  labelsCheckedBy: object | undefined = undefined;
  constructor(readonly metric: string, readonly unit: string | undefined, readonly labels: Record<string, string>) {}
}

/** A header with both memo fields present from the start: one object shape for every header. */
export function seriesHeader(metric: string, unit: string | undefined, labels: Record<string, string>): SeriesHeader {
  return new Header(metric, unit, labels);
}

/** A remembered header (a class, not a literal: see Header). */
class Entry {
  /** The entry looked up right after this one last time. */
  follower: Entry | null = null;
  /** `keyAt`, `keyLength`: where the header's bytes are in the cache's KeyArena, and how many. */
  constructor(readonly keyAt: number, readonly keyLength: number, readonly header: SeriesHeader, readonly next: Entry | null) {}
}

/** Enough for every live series of a large deployment; past it the cache starts over. */
const MAX_ENTRIES = 200_000;

export class HeaderCache {
  private readonly entries = new Map<number, Entry>();
  private readonly keys = new KeyArena();
  /** The entry found by the last lookup. */
  private last: Entry | null = null;

  /**
   * The header encoded in `src[start, start + length)`, if seen before; allocates nothing.
   * Senders repeat their series in the same order batch after batch, so the header that
   * followed the last one found last time is tried first: one compare, no hash.
   */
  lookup(src: Uint8Array, srcView: DataView, start: number, length: number): SeriesHeader | undefined {
    const last = this.last;
    const guess = last === null ? null : last.follower;
    if (guess !== null && this.sameBytes(guess, src, srcView, start, length)) {
      this.last = guess;
      return guess.header;
    }
    for (let e = this.entries.get(smallKey(hashBytes(0x811c9dc5 ^ length, src, start, start + length))) ?? null; e !== null; e = e.next) {
      if (this.sameBytes(e, src, srcView, start, length)) {
        if (last !== null) last.follower = e;
        this.last = e;
        return e.header;
      }
    }
    return undefined;
  }

  remember(bytes: Uint8Array, header: SeriesHeader): void {
    if (this.entries.size >= MAX_ENTRIES) {
      this.entries.clear();
      this.keys.clear();
      this.last = null;
    }
    const h = smallKey(hashBytes(0x811c9dc5 ^ bytes.length, bytes, 0, bytes.length));
    // Copied into the arena (a view would keep a whole WAL file alive).
    const keyAt = this.keys.append(bytes, 0, bytes.length);
    const entry = new Entry(keyAt, bytes.length, header, this.entries.get(h) ?? null);
    this.entries.set(h, entry);
    if (this.last !== null) this.last.follower = entry;
    this.last = entry;
  }

  private sameBytes(e: Entry, src: Uint8Array, srcView: DataView, start: number, length: number): boolean {
    return e.keyLength === length && this.keys.equals(e.keyAt, src, srcView, start, length);
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

/**
 * A hash as a Map key: folded into 30 bits, a small integer V8 keeps unboxed (a full 32-bit
 * one would be a heap number, allocated on every lookup).
 */
export function smallKey(h: number): number {
  return (h ^ (h >>> 30)) & 0x3fffffff;
}

