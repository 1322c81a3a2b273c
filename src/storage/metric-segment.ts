/**
 * An immutable block of metric samples ordered by (series id, time), the analogue of a
 * Prometheus block: each series' samples are one contiguous slice, found by binary
 * search over the segment's series ids, so reading a series never touches the others.
 */
import type { Data, RecordBatch, Utf8, Vector } from 'apache-arrow';
import { dictionaryData, float64Data, idDictionaryData, recordBatch, utf8BuffersOf, type ArrowColumn, type Utf8Buffers } from './arrow.ts';
import { lowerBound, upperBound } from './sorted-ids.ts';

/** Receives the unexpired samples of one series in [start, end) of the shared arrays. */
export type SliceVisitor = (ts: Float64Array, values: Float64Array, start: number, end: number) => void;

export interface MetricSegmentParts {
  id: number;
  seriesIds: Uint32Array;
  /** seriesStart[i]..seriesStart[i+1] is the row range of seriesIds[i]. */
  seriesStart: Uint32Array;
  ts: Float64Array;
  values: Float64Array;
  /** Per-row expiry, or null when every row expires at ts + ttlMicros. */
  expiry: Float64Array | null;
  ttlMicros: number;
  traceCodes: Uint32Array | null;
  spanCodes: Uint32Array | null;
  /** Dictionary of trace and span ids (entry 0 = absent). */
  idValues: string[];
}

export class MetricSegment {
  readonly id: number;
  readonly seriesIds: Uint32Array;
  readonly seriesStart: Uint32Array;
  readonly ts: Float64Array;
  readonly values: Float64Array;
  readonly expiry: Float64Array | null;
  readonly ttlMicros: number;
  readonly traceCodes: Uint32Array | null;
  readonly spanCodes: Uint32Array | null;
  readonly rows: number;
  readonly minTs: number;
  readonly maxTs: number;
  readonly minExpiry: number;
  readonly maxExpiry: number;
  /** The segment as an Arrow record batch over the same buffers. */
  readonly batch: RecordBatch;
  private seriesIndexBytes = 0;
  /**
   * The trace and span ids, kept as the Arrow dictionary's UTF-8 only: a JS string per id
   * (hundreds of thousands in a store of metric events) would sit in the main heap, which
   * every full GC marks. Null without ids.
   */
  private readonly idDictionary: Vector<Utf8> | null;

  constructor(p: MetricSegmentParts) {
    this.id = p.id;
    this.seriesIds = p.seriesIds;
    this.seriesStart = p.seriesStart;
    this.ts = p.ts;
    this.values = p.values;
    this.expiry = p.expiry;
    this.ttlMicros = p.ttlMicros;
    this.traceCodes = p.traceCodes;
    this.spanCodes = p.spanCodes;
    this.rows = p.ts.length;
    let minTs = Infinity, maxTs = -Infinity;
    // Rows are time-ordered within each series only, so the extremes are per-slice ends.
    for (let i = 0; i < p.seriesIds.length; i++) {
      const s = p.seriesStart[i], e = p.seriesStart[i + 1];
      if (e > s) {
        if (p.ts[s] < minTs) minTs = p.ts[s];
        if (p.ts[e - 1] > maxTs) maxTs = p.ts[e - 1];
      }
    }
    this.minTs = minTs;
    this.maxTs = maxTs;
    if (p.expiry) {
      let lo = Infinity, hi = -Infinity;
      const ex = p.expiry;
      for (let i = 0; i < ex.length; i++) {
        const x = ex[i];
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      this.minExpiry = lo;
      this.maxExpiry = hi;
    } else {
      this.minExpiry = minTs + p.ttlMicros;
      this.maxExpiry = maxTs + p.ttlMicros;
    }
    this.batch = this.buildBatch(p.idValues);
    this.idDictionary = (this.batch.getChild('trace_id')?.data[0]?.dictionary as Vector<Utf8> | undefined) ?? null;
  }

  /** Index of `seriesId` in this segment, or -1. */
  seriesIndex(seriesId: number): number {
    const ids = this.seriesIds;
    let lo = 0, hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ids[mid] < seriesId) lo = mid + 1; else hi = mid;
    }
    return lo < ids.length && ids[lo] === seriesId ? lo : -1;
  }

  overlaps(minTs: number, maxTs: number): boolean {
    return this.maxTs >= minTs && this.minTs <= maxTs;
  }

  /** Visits the samples of one series with minTs <= ts <= maxTs that have not expired at `now`. */
  visitSeries(seriesId: number, minTs: number, maxTs: number, now: number, visit: SliceVisitor): void {
    const idx = this.seriesIndex(seriesId);
    if (idx < 0) return;
    this.visitSlice(this.seriesStart[idx], this.seriesStart[idx + 1], minTs, maxTs, now, visit);
  }

  visitSlice(s: number, e: number, minTs: number, maxTs: number, now: number, visit: SliceVisitor): void {
    const ts = this.ts;
    let lo = lowerBound(ts, minTs, s, e);
    const hi = upperBound(ts, maxTs, lo, e);
    if (this.minExpiry > now) {
      if (lo < hi) visit(ts, this.values, lo, hi);
      return;
    }
    if (this.expiry === null) {
      // Uniform TTL: a row is live while ts + ttl > now, i.e. ts > now - ttl.
      lo = Math.max(lo, upperBound(ts, now - this.ttlMicros, s, e));
      if (lo < hi) visit(ts, this.values, lo, hi);
      return;
    }
    visitLiveRuns(ts, this.values, this.expiry, lo, hi, now, visit);
  }

  get hasIds(): boolean {
    return this.traceCodes !== null;
  }

  /** The trace or span id with this code; code 0 (absent) is ''. Decoded on each call (compaction caches what it recodes). */
  idValue(code: number): string {
    if (code === 0) return '';
    const value = this.idDictionary?.get(code);
    if (typeof value !== 'string') throw new RangeError(`metric segment ${this.id}: no id with code ${code}`);
    return value;
  }

  /** How many codes the id dictionary has, absent (0) included; 1 without ids. */
  get idCount(): number {
    return this.idDictionary?.length ?? 1;
  }

  private buildBatch(idValues: readonly string[]): RecordBatch {
    // Per row, the series' index in this segment: the Arrow dictionary maps it to the id.
    const seriesIndex = this.seriesIds.length <= 0x10000 ? new Uint16Array(this.rows) : new Uint32Array(this.rows);
    for (let i = 0; i < this.seriesIds.length; i++) seriesIndex.fill(i, this.seriesStart[i], this.seriesStart[i + 1]);
    this.seriesIndexBytes = seriesIndex.byteLength;
    const columns: ArrowColumn[] = [
      { name: 'series_id', data: idDictionaryData(seriesIndex, this.seriesIds) },
      { name: 'timestamp', data: float64Data(this.ts) },
      { name: 'value', data: float64Data(this.values) },
    ];
    if (this.expiry) columns.push({ name: 'expiry', data: float64Data(this.expiry) });
    if (this.traceCodes && this.spanCodes) {
      columns.push({ name: 'trace_id', data: dictionaryData(this.traceCodes, idValues), nullable: true });
      columns.push({ name: 'span_id', data: dictionaryData(this.spanCodes, idValues), nullable: true });
    }
    return recordBatch(columns, {
      'strata.table': 'metrics',
      'strata.min_ts': String(this.minTs),
      'strata.max_ts': String(this.maxTs),
      'strata.max_expiry': String(this.maxExpiry),
      'strata.ttl_micros': String(this.ttlMicros),
    });
  }

  /**
   * The id dictionary as UTF-8 (entry 0, absent, is empty), straight from the Arrow column:
   * what a snapshot sends the Parquet worker instead of a string per id. Null without ids.
   */
  idUtf8(): Utf8Buffers | null {
    return this.idDictionary ? utf8BuffersOf(this.idDictionary.data[0] as Data<Utf8>) : null;
  }

  /** Bytes held by the column buffers (what the memory-per-sample figure counts). */
  get byteSize(): number {
    let n = this.ts.byteLength + this.values.byteLength + this.seriesIds.byteLength + this.seriesStart.byteLength
      + this.seriesIndexBytes;
    if (this.expiry) n += this.expiry.byteLength;
    if (this.traceCodes) n += this.traceCodes.byteLength;
    if (this.spanCodes) n += this.spanCodes.byteLength;
    return n;
  }
}

/** Emits the maximal runs of rows in [lo, hi) whose expiry is after `now`. */
export function visitLiveRuns(
  ts: Float64Array, values: Float64Array, expiry: Float64Array, lo: number, hi: number, now: number, visit: SliceVisitor,
): void {
  let runStart = -1;
  for (let i = lo; i < hi; i++) {
    if (expiry[i] > now) {
      if (runStart < 0) runStart = i;
    } else if (runStart >= 0) {
      visit(ts, values, runStart, i);
      runStart = -1;
    }
  }
  if (runStart >= 0) visit(ts, values, runStart, hi);
}
