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
      r = ids.encode(seg.idValue(c));
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
    idValues: withIds ? ids.values : [''],
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

// ---------------------------------------------------------------------------------------------
// Merging: compacted (or low-traffic) segments are small, and a table of many small segments
// costs memory per segment and time per query; adjacent small ones are merged in memory.
// ---------------------------------------------------------------------------------------------

/** Segments under this many rows may be merged… */
export const MERGE_SMALLER_THAN = 1024;
/** …in runs of at least this many adjacent ones… */
export const MERGE_MIN_RUN = 4;
/** …into a segment of at most this many rows… */
export const MERGE_MAX_ROWS = 16_384;
/** …when their last rows expire within this of each other (or a tenth of the time they have left). */
export const MERGE_EXPIRY_SLACK_MICROS = 60_000_000;

/** For merged segments: the earliest time one of their parts had fully expired (when its file could have gone). */
const partExpiry = new WeakMap<object, number>();

function earliestPartExpiry(s: { maxExpiry: number }): number {
  return partExpiry.get(s) ?? s.maxExpiry;
}

/** A segment rebuilt from another (compaction) keeps what it knew of its parts. */
export function inheritParts(from: object, to: object): void {
  const earliest = partExpiry.get(from);
  if (earliest !== undefined) partExpiry.set(to, earliest);
}

/**
 * Replaces runs of adjacent small segments by merged ones; `onMerged` is told of each. Row
 * tables keep their base-row order: a run of adjacent segments merges into the first one's
 * base row, and its rows end before the next segment's base row (each part's rows ended
 * before the next part began).
 */
export function mergeSmallRuns<S extends { rows: number; maxExpiry: number }>(
  segments: readonly S[], eligible: (s: S) => boolean, merge: (run: S[]) => S, onMerged: (run: S[], merged: S) => void, now: number,
): S[] | null {
  const out: S[] = [];
  let run: S[] = [];
  let runRows = 0;
  let changed = false;
  const close = () => {
    if (run.length >= MERGE_MIN_RUN) {
      const merged = merge(run);
      partExpiry.set(merged, Math.min(...run.map(earliestPartExpiry)));
      onMerged(run, merged);
      out.push(merged);
      changed = true;
    } else {
      out.push(...run);
    }
    run = [];
    runRows = 0;
  };
  let minExpiry = Infinity, maxExpiry = -Infinity;
  for (const s of segments) {
    const small = s.rows < MERGE_SMALLER_THAN && eligible(s);
    // A merged segment (and its parts' files) goes when its last row expires: only parts that
    // expire about together are merged — counting the parts of earlier merges, so a chain of
    // merges cannot keep an old file alive forever.
    const earliest = earliestPartExpiry(s);
    const lo = Math.min(minExpiry, earliest), hi = Math.max(maxExpiry, s.maxExpiry);
    const together = hi - lo <= Math.max(MERGE_EXPIRY_SLACK_MICROS, 0.1 * (lo - now));
    if (!small || runRows + s.rows > MERGE_MAX_ROWS || !together) {
      close();
      minExpiry = Infinity;
      maxExpiry = -Infinity;
    }
    if (small) {
      minExpiry = Math.min(minExpiry, earliest);
      maxExpiry = Math.max(maxExpiry, s.maxExpiry);
    }
    if (small) {
      run.push(s);
      runRows += s.rows;
    } else {
      out.push(s);
    }
  }
  close();
  return changed ? out : null;
}

/** Metric segments as one: each series' rows from every part, in time order (stable). */
export function mergeMetricSegments(parts: readonly MetricSegment[]): MetricSegment {
  const slices = new Map<number, [MetricSegment, number, number][]>();
  let rows = 0;
  let withIds = false;
  for (const seg of parts) {
    if (seg.traceCodes && seg.spanCodes) withIds = true;
    for (let k = 0; k < seg.seriesIds.length; k++) {
      const s = seg.seriesStart[k]!, e = seg.seriesStart[k + 1]!;
      if (e <= s) continue;
      const id = seg.seriesIds[k]!;
      const list = slices.get(id);
      if (list) list.push([seg, s, e]);
      else slices.set(id, [[seg, s, e]]);
      rows += e - s;
    }
  }
  const seriesIds = Uint32Array.from([...slices.keys()].sort((a, b) => a - b));
  const seriesStart = new Uint32Array(seriesIds.length + 1);
  const ts = new Float64Array(rows);
  const values = new Float64Array(rows);
  const expiry = new Float64Array(rows);
  const traceCodes = withIds ? new Uint32Array(rows) : null;
  const spanCodes = withIds ? new Uint32Array(rows) : null;
  const ids = new StringDictionary();
  const recoders = new Map<MetricSegment, Map<number, number>>();
  const recode = (seg: MetricSegment, c: number) => {
    if (c === 0) return 0;
    let map = recoders.get(seg);
    if (!map) recoders.set(seg, (map = new Map()));
    let r = map.get(c);
    if (r === undefined) {
      r = ids.encode(seg.idValue(c));
      map.set(c, r);
    }
    return r;
  };
  let ttl: number | null = null;
  let uniform = true;
  let out = 0;
  for (let k = 0; k < seriesIds.length; k++) {
    seriesStart[k] = out;
    const start = out;
    let sorted = true;
    for (const [seg, s, e] of slices.get(seriesIds[k]!)!) {
      for (let i = s; i < e; i++) {
        const t = seg.ts[i]!;
        const x = seg.expiry ? seg.expiry[i]! : t + seg.ttlMicros;
        if (out > start && t < ts[out - 1]!) sorted = false;
        ts[out] = t;
        values[out] = seg.values[i]!;
        expiry[out] = x;
        if (ttl === null) ttl = x - t;
        else if (x - t !== ttl) uniform = false;
        if (traceCodes && spanCodes) {
          traceCodes[out] = seg.traceCodes ? recode(seg, seg.traceCodes[i]!) : 0;
          spanCodes[out] = seg.spanCodes ? recode(seg, seg.spanCodes[i]!) : 0;
        }
        out++;
      }
    }
    if (!sorted) sortRun(start, out, ts, [values, expiry], traceCodes && spanCodes ? [traceCodes, spanCodes] : []);
  }
  seriesStart[seriesIds.length] = out;
  return new MetricSegment({
    id: parts[0]!.id, seriesIds, seriesStart, ts, values,
    expiry: uniform ? null : expiry,
    ttlMicros: uniform && ttl !== null ? ttl : 0,
    traceCodes, spanCodes, idValues: withIds ? ids.values : [''],
  });
}

/** Sorts rows [start, end) by time, stably, moving the other columns along. */
function sortRun(start: number, end: number, ts: Float64Array, f64: Float64Array[], u32: Uint32Array[]): void {
  const order = Array.from({ length: end - start }, (_, i) => start + i);
  order.sort((a, b) => ts[a]! - ts[b]! || a - b);
  for (const col of [ts, ...f64]) {
    const copy = col.slice(start, end);
    for (let i = 0; i < order.length; i++) col[start + i] = copy[order[i]! - start]!;
  }
  for (const col of u32) {
    const copy = col.slice(start, end);
    for (let i = 0; i < order.length; i++) col[start + i] = copy[order[i]! - start]!;
  }
}

/** Adjacent row segments as one, at the first one's base row, rows in order. */
export function mergeRowSegments(parts: readonly RowSegment[], columns: readonly ColumnSpec[]): RowSegment {
  const sealed = new Map<string, SealedColumn>();
  const rows = parts.reduce((n, s) => n + s.rows, 0);
  for (const spec of columns) {
    const present = parts.map((p) => p.column(spec.name));
    if (present.some((c) => c === undefined)) continue;
    const kind = present[0]!.kind;
    if (kind === 'f64' || kind === 'u8') {
      const values = kind === 'f64' ? new Float64Array(rows) : new Uint8Array(rows);
      let at = 0;
      for (const c of present as ({ values: Float64Array | Uint8Array })[]) {
        values.set(c.values, at);
        at += c.values.length;
      }
      sealed.set(spec.name, { kind, values } as SealedColumn);
    } else if (kind === 'dict') {
      const dict = new StringDictionary();
      const codes = new Uint32Array(rows);
      let at = 0;
      for (const c of present as { codes: Uint32Array; values: string[] }[]) {
        for (let i = 0; i < c.codes.length; i++) codes[at++] = c.codes[i] === 0 ? 0 : dict.encode(c.values[c.codes[i]!]!);
      }
      sealed.set(spec.name, { kind: 'dict', codes, values: dict.values });
    } else {
      const strings: (string | null)[] = [];
      for (const part of parts) for (let i = 0; i < part.rows; i++) strings.push((part.get(i, spec.name) as string | undefined) ?? null);
      sealed.set(spec.name, { kind: 'str', strings });
    }
  }
  return new RowSegment(parts[0]!.id, parts[0]!.table, parts[0]!.baseRow, sealed);
}
