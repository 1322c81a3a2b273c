/**
 * In-memory compaction of segments whose rows expire at different times. A segment is
 * dropped whole once its last row expires, so a head that mixed TTLs (a few long-lived
 * rows among many short-lived ones — e.g. a 1-day stream beside a 20 s one) would keep every
 * short-lived row's memory for the long TTL. Once most of such a segment has expired, it is
 * rebuilt in memory from its live rows: same id, same statistics where they still hold,
 * strings re-dictionaried so the expired rows' strings are released. Its Parquet file is left
 * as it is (the file goes when the segment is dropped, as before); a restart loads the file
 * and the next sweep compacts it again.
 *
 * Reads cannot tell: expired rows were never returned.
 */
import { StringDictionary } from './column.ts';
import { MetricSegment } from './metric-segment.ts';
import { RowSegment, type SealedColumn } from './row-segment.ts';
import type { ColumnSpec } from './row-table.ts';

/** Compact once at least this fraction of a segment's rows has expired… */
export const COMPACT_EXPIRED_FRACTION = 0.5;
/** …and it has at least this many rows (smaller ones are not worth the copy). */
export const COMPACT_MIN_ROWS = 64;

/** The live rows of `seg` as a new segment, or null when it is not worth it (or nothing expired). */
export function compactMetricSegment(seg: MetricSegment, now: number): MetricSegment | null {
  const expiry = seg.expiry;
  // A uniform-TTL segment expires in time order and goes soon after its newest row: nothing to gain.
  if (expiry === null || seg.rows < COMPACT_MIN_ROWS || seg.minExpiry > now || seg.maxExpiry <= now) return null;
  let live = 0;
  for (let i = 0; i < expiry.length; i++) if (expiry[i] > now) live++;
  if (live > seg.rows * (1 - COMPACT_EXPIRED_FRACTION)) return null;

  const ts = new Float64Array(live);
  const values = new Float64Array(live);
  const keptExpiry = new Float64Array(live);
  const withIds = seg.traceCodes !== null && seg.spanCodes !== null;
  const traceCodes = withIds ? new Uint32Array(live) : null;
  const spanCodes = withIds ? new Uint32Array(live) : null;
  const ids = new StringDictionary();
  const recode = new Map<number, number>();
  const code = (c: number) => {
    if (c === 0) return 0;
    let r = recode.get(c);
    if (r === undefined) {
      r = ids.encode(seg.idValues[c]!);
      recode.set(c, r);
    }
    return r;
  };
  const seriesIds: number[] = [];
  const seriesStart: number[] = [];
  let out = 0;
  let ttl: number | null = null;
  let uniform = true;
  for (let k = 0; k < seg.seriesIds.length; k++) {
    const start = out;
    for (let i = seg.seriesStart[k]!; i < seg.seriesStart[k + 1]!; i++) {
      if (!(expiry[i]! > now)) continue;
      ts[out] = seg.ts[i]!;
      values[out] = seg.values[i]!;
      keptExpiry[out] = expiry[i]!;
      const rowTtl = expiry[i]! - seg.ts[i]!;
      if (ttl === null) ttl = rowTtl;
      else if (rowTtl !== ttl) uniform = false;
      if (traceCodes && spanCodes) {
        traceCodes[out] = code(seg.traceCodes![i]!);
        spanCodes[out] = code(seg.spanCodes![i]!);
      }
      out++;
    }
    if (out > start) {
      seriesIds.push(seg.seriesIds[k]!);
      seriesStart.push(start);
    }
  }
  seriesStart.push(out);
  return new MetricSegment({
    id: seg.id,
    seriesIds: Uint32Array.from(seriesIds),
    seriesStart: Uint32Array.from(seriesStart),
    ts, values,
    // The rows left may share one TTL (the long-lived stream): one number instead of a column.
    expiry: uniform ? null : keptExpiry,
    ttlMicros: uniform && ttl !== null ? ttl : 0,
    traceCodes, spanCodes,
    idValues: withIds ? ids.values : seg.idValues.slice(0, 1),
  });
}

/**
 * The live rows of a row segment as a new segment with the same base row (row ids are only
 * read within one scan, and a shorter segment leaves a gap no id falls in), or null.
 */
export function compactRowSegment(seg: RowSegment, columns: readonly ColumnSpec[], now: number): RowSegment | null {
  if (seg.rows < COMPACT_MIN_ROWS || seg.maxExpiry <= now) return null;
  const expiry = seg.f64('expiry');
  const keep: number[] = [];
  for (let i = 0; i < expiry.length; i++) if (expiry[i]! > now) keep.push(i);
  if (keep.length > seg.rows * (1 - COMPACT_EXPIRED_FRACTION)) return null;
  const sealed = new Map<string, SealedColumn>();
  for (const spec of columns) {
    const column = seg.column(spec.name);
    if (!column) continue;
    switch (column.kind) {
      case 'f64':
        sealed.set(spec.name, { kind: 'f64', values: Float64Array.from(keep, (i) => column.values[i]!) });
        break;
      case 'u8':
        sealed.set(spec.name, { kind: 'u8', values: Uint8Array.from(keep, (i) => column.values[i]!) });
        break;
      case 'dict': {
        const dict = new StringDictionary();
        const codes = Uint32Array.from(keep, (i) => (column.codes[i] === 0 ? 0 : dict.encode(column.values[column.codes[i]!]!)));
        sealed.set(spec.name, { kind: 'dict', codes, values: dict.values });
        break;
      }
      case 'str':
        // Held in the segment's Arrow UTF-8 buffers: read back cell by cell.
        sealed.set(spec.name, { kind: 'str', strings: keep.map((i) => (seg.get(i, spec.name) as string | undefined) ?? null) });
        break;
    }
  }
  return new RowSegment(seg.id, seg.table, seg.baseRow, sealed);
}
