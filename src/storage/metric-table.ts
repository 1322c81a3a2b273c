/**
 * The metric-sample table: a per-series mutable head plus immutable segments sorted by
 * (series, time). Appends go to the head; at a row-count or age threshold the head is
 * sealed into a MetricSegment. Reads merge the segments' slices with the head's.
 */
import type { Clock } from './clock.ts';
import type { SampleIds } from './events.ts';
import { MetricHead, type RunIds } from './metric-head.ts';
import { MetricSegment, type SliceVisitor } from './metric-segment.ts';

export interface TableLimits {
  /** Seal the head once it holds this many rows. */
  maxHeadRows: number;
  /** Seal a non-empty head this long (µs) after its first row arrived. */
  maxHeadAgeMicros: number;
}

export class MetricTable {
  readonly head = new MetricHead();
  segments: MetricSegment[] = [];
  private nextSegmentId = 1;

  constructor(private readonly limits: TableLimits, private readonly clock: Clock) {}

  /** One sample; the per-event ingest path. `traceId`/`spanId` are optional exemplar links. */
  append(seriesId: number, ts: number, value: number, ttlMicros: number, traceId?: string, spanId?: string): void {
    const head = this.head;
    const traceCode = traceId ? head.ids.encode(traceId) : 0;
    const spanCode = spanId ? head.ids.encode(spanId) : 0;
    head.seriesFor(seriesId).append(ts, value, ts + ttlMicros, traceCode, spanCode);
    head.noteRows(1, ts, ts, ttlMicros, this.clock);
  }

  /**
   * Rows [from, to) of a batch's columns, all of one series (the series-batch path): one
   * series lookup per run. Returns the run's latest timestamp (-Infinity for an empty run).
   */
  appendRange(seriesId: number, ts: Float64Array, values: Float64Array, from: number, to: number, ttlMicros: number, ids: RunIds | null = null): number {
    if (to <= from) return -Infinity;
    const head = this.head;
    head.seriesFor(seriesId).appendRange(ts, values, from, to, ttlMicros, ids);
    let minTs = Infinity, maxTs = -Infinity;
    for (let i = from; i < to; i++) {
      const t = ts[i]!;
      if (t < minTs) minTs = t;
      if (t > maxTs) maxTs = t;
    }
    head.noteRows(to - from, minTs, maxTs, ttlMicros, this.clock);
    return maxTs;
  }

  /**
   * A whole run of one series (series entries): `ids` are the samples' id codes with
   * `headCodes`, their dictionary translated to this head's codes (see headCodesOf).
   */
  appendMany(seriesId: number, ts: Float64Array, values: Float64Array, ttlMicros: number, ids?: SampleIds, headCodes?: Uint32Array): number {
    return this.appendRange(seriesId, ts, values, 0, ts.length, ttlMicros, ids && headCodes ? { trace: ids.trace, span: ids.span, headCodes } : null);
  }

  /** An id dictionary's strings as this head's codes, for appendRange. */
  headCodesOf(dictionary: readonly string[]): Uint32Array {
    const codes = new Uint32Array(dictionary.length);
    const ids = this.head.ids;
    for (let k = 0; k < dictionary.length; k++) codes[k] = ids.encode(dictionary[k]!);
    return codes;
  }

  shouldSeal(now = this.clock()): boolean {
    const h = this.head;
    return h.rows >= this.limits.maxHeadRows || (h.rows > 0 && now - h.openedAt >= this.limits.maxHeadAgeMicros);
  }

  /** Seals the head into a new segment (null when the head is empty). */
  seal(): MetricSegment | null {
    const head = this.head;
    if (head.rows === 0) return null;
    const segment = sealHead(head, this.nextSegmentId++);
    this.segments.push(segment);
    head.reset();
    return segment;
  }

  /** Adds a segment loaded from disk. */
  adopt(segment: MetricSegment): void {
    this.segments.push(segment);
    if (segment.id >= this.nextSegmentId) this.nextSegmentId = segment.id + 1;
  }

  /**
   * Visits every live sample of a series in [minTs, maxTs]: segment slices first (in
   * seal order), then the head. Slices of one series are each time-ordered; they are
   * ordered among themselves unless samples arrived out of order across seals.
   */
  visitSeries(seriesId: number, minTs: number, maxTs: number, visit: SliceVisitor, now = this.clock()): void {
    const segs = this.segments;
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i];
      if (seg.maxExpiry <= now || !seg.overlaps(minTs, maxTs)) continue;
      seg.visitSeries(seriesId, minTs, maxTs, now, visit);
    }
    if (this.head.rows > 0 && this.head.maxTs >= minTs && this.head.minTs <= maxTs) {
      this.head.get(seriesId)?.visit(minTs, maxTs, now, visit);
    }
  }

  /** Removes the segments whose every row has expired; returns them (their files go too). */
  dropExpired(now = this.clock()): MetricSegment[] {
    const dropped = this.segments.filter((s) => s.maxExpiry <= now);
    if (dropped.length) this.segments = this.segments.filter((s) => s.maxExpiry > now);
    return dropped;
  }

  get rowCount(): number {
    let n = this.head.rows;
    for (const s of this.segments) n += s.rows;
    return n;
  }
}

function sealHead(head: MetricHead, id: number): MetricSegment {
  const ordered = [...head.series].sort((a, b) => a.seriesId - b.seriesId);
  const seriesIds = Uint32Array.from(ordered, (s) => s.seriesId);
  const seriesStart = new Uint32Array(seriesIds.length + 1);
  const rows = head.rows;
  const ts = new Float64Array(rows);
  const values = new Float64Array(rows);
  const expiry = head.uniformTtl ? null : new Float64Array(rows);
  const withIds = ordered.some((s) => s.traceCodes !== null);
  const traceCodes = withIds ? new Uint32Array(rows) : null;
  const spanCodes = withIds ? new Uint32Array(rows) : null;
  let offset = 0;
  for (let i = 0; i < ordered.length; i++) {
    const s = ordered[i];
    s.sort();
    const n = s.length;
    seriesStart[i] = offset;
    ts.set(s.ts.subarray(0, n), offset);
    values.set(s.values.subarray(0, n), offset);
    if (expiry) expiry.set(s.expiry.subarray(0, n), offset);
    if (traceCodes && spanCodes && s.traceCodes && s.spanCodes) {
      traceCodes.set(s.traceCodes.subarray(0, n), offset);
      spanCodes.set(s.spanCodes.subarray(0, n), offset);
    }
    offset += n;
  }
  seriesStart[ordered.length] = offset;
  return new MetricSegment({
    id, seriesIds, seriesStart, ts, values, expiry,
    ttlMicros: head.uniformTtl ? head.ttlMicros : 0,
    traceCodes, spanCodes, idValues: head.ids.values,
  });
}
