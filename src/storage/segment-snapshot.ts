/**
 * A sealed segment as plain data — typed arrays, string arrays and numbers only — so it
 * can be posted to the Parquet worker thread (structured clone) and encoded there. Taking
 * a snapshot is cheap: no per-row work on the calling thread, only per-series label JSON
 * and references to the segment's own arrays.
 */
import type { Vector } from 'apache-arrow';
import type { SeriesRegistry } from '../index/series.ts';
import type { Utf8Buffers } from './arrow.ts';
import type { MetricSegment, MetricSegmentParts } from './metric-segment.ts';
import type { RowSegment } from './row-segment.ts';
import type { ColumnSpec } from './row-table.ts';

export const SCHEMA_VERSION = 1;

export type SegmentTable = 'metrics' | 'span_events' | 'logs';

/** What every segment file says about itself (Parquet key-value metadata). */
export interface SegmentFileMeta {
  table: SegmentTable;
  schemaVersion: number;
  nodeId: string;
  segmentId: number;
  rows: number;
  minTs: number;
  maxTs: number;
  maxExpiry: number;
  /** Every ingest batch up to this log sequence number is in this segment or an earlier one. */
  walLsn: number;
}

/**
 * The segment's own columns (see MetricSegmentParts) plus, per series in segment order, its
 * name, other labels (JSON, sorted) and unit; the id dictionary goes as UTF-8 buffers (two
 * arrays to copy, not a string per id).
 */
export interface MetricSnapshot
  extends SegmentFileMeta, Pick<MetricSegmentParts, 'seriesStart' | 'ts' | 'values' | 'expiry' | 'ttlMicros' | 'traceCodes' | 'spanCodes'> {
  table: 'metrics';
  /** The ids codes point into (entry 0, absent, is empty); null when no row has one. */
  ids: Utf8Buffers | null;
  seriesMetric: string[];
  seriesLabels: string[];
  seriesUnit: string[];
}

export type RowSnapshotColumn =
  | { name: string; kind: 'f64'; values: Float64Array }
  | { name: string; kind: 'u8'; values: Uint8Array }
  | { name: string; kind: 'dict'; codes: Uint32Array; values: string[] }
  /** Arrow's UTF-8 layout: row i is bytes[offsets[i]..offsets[i+1]], null where the validity bit is 0. */
  | { name: string; kind: 'str'; offsets: Int32Array; bytes: Uint8Array; validity: Uint8Array | null };

export interface RowSnapshot extends SegmentFileMeta {
  table: 'span_events' | 'logs';
  baseRow: number;
  columns: RowSnapshotColumn[];
}

export type SegmentSnapshot = MetricSnapshot | RowSnapshot;

/**
 * A metric segment with each series' labels from the registry. Series the registry no
 * longer knows were forgotten because every sample of theirs expired; their rows are
 * left out (the rows of the others are copied only in that rare case).
 */
export function metricSnapshot(segment: MetricSegment, registry: SeriesRegistry, nodeId: string, walLsn: number): MetricSnapshot {
  const known: number[] = [];
  for (let i = 0; i < segment.seriesIds.length; i++) if (registry.info(segment.seriesIds[i])) known.push(i);
  const parts = known.length === segment.seriesIds.length ? segment : keepSeries(segment, known);
  const seriesMetric: string[] = [], seriesLabels: string[] = [], seriesUnit: string[] = [];
  for (const i of known) {
    const info = registry.info(segment.seriesIds[i]);
    if (!info) continue;
    const others: Record<string, string> = {};
    let metric = '';
    for (const [name, value] of info.labels) {
      if (name === '__name__') metric = value;
      else others[name] = value;
    }
    seriesMetric.push(metric);
    seriesLabels.push(JSON.stringify(others));
    seriesUnit.push(info.unit);
  }
  return {
    table: 'metrics', schemaVersion: SCHEMA_VERSION, nodeId, segmentId: segment.id, walLsn,
    rows: parts.ts.length, minTs: segment.minTs, maxTs: segment.maxTs, maxExpiry: segment.maxExpiry,
    seriesMetric, seriesLabels, seriesUnit,
    seriesStart: parts.seriesStart, ts: parts.ts, values: parts.values, expiry: parts.expiry, ttlMicros: segment.ttlMicros,
    traceCodes: parts.traceCodes, spanCodes: parts.spanCodes, ids: segment.idUtf8(),
  };
}

type MetricColumns = Pick<MetricSegment, 'seriesStart' | 'ts' | 'values' | 'expiry' | 'traceCodes' | 'spanCodes'>;

function keepSeries(segment: MetricSegment, keep: number[]): MetricColumns {
  let rows = 0;
  for (const i of keep) rows += segment.seriesStart[i + 1] - segment.seriesStart[i];
  const out: MetricColumns = {
    seriesStart: new Uint32Array(keep.length + 1),
    ts: new Float64Array(rows),
    values: new Float64Array(rows),
    expiry: segment.expiry ? new Float64Array(rows) : null,
    traceCodes: segment.traceCodes ? new Uint32Array(rows) : null,
    spanCodes: segment.spanCodes ? new Uint32Array(rows) : null,
  };
  let offset = 0;
  keep.forEach((i, k) => {
    const s = segment.seriesStart[i], e = segment.seriesStart[i + 1];
    out.seriesStart[k] = offset;
    out.ts.set(segment.ts.subarray(s, e), offset);
    out.values.set(segment.values.subarray(s, e), offset);
    out.expiry?.set((segment.expiry as Float64Array).subarray(s, e), offset);
    out.traceCodes?.set((segment.traceCodes as Uint32Array).subarray(s, e), offset);
    out.spanCodes?.set((segment.spanCodes as Uint32Array).subarray(s, e), offset);
    offset += e - s;
  });
  out.seriesStart[keep.length] = offset;
  return out;
}

/** A span-event or log segment; `schema` is its table's full column list (ts and expiry first). */
export function rowSnapshot(segment: RowSegment, schema: ColumnSpec[], nodeId: string, walLsn: number): RowSnapshot {
  const columns: RowSnapshotColumn[] = schema.map((spec) => snapshotColumn(segment, spec));
  return {
    table: segment.table as RowSnapshot['table'], schemaVersion: SCHEMA_VERSION, nodeId, segmentId: segment.id, walLsn,
    rows: segment.rows, minTs: segment.minTs, maxTs: segment.maxTs, maxExpiry: segment.maxExpiry,
    baseRow: segment.baseRow, columns,
  };
}

function snapshotColumn(segment: RowSegment, spec: ColumnSpec): RowSnapshotColumn {
  const c = segment.column(spec.name);
  if (!c) throw new Error(`${segment.table} segment ${segment.id} has no column ${spec.name}`);
  switch (c.kind) {
    case 'f64': return { name: spec.name, kind: 'f64', values: c.values };
    case 'u8': return { name: spec.name, kind: 'u8', values: c.values };
    case 'dict': return { name: spec.name, kind: 'dict', codes: c.codes, values: c.values };
    case 'str': return { name: spec.name, kind: 'str', ...utf8Parts(segment.batch.getChild(spec.name) as Vector) };
  }
}

/** The raw buffers of an Arrow UTF-8 vector (sealed string columns live only there). */
function utf8Parts(vector: Vector): { offsets: Int32Array; bytes: Uint8Array; validity: Uint8Array | null } {
  const data = vector.data[0];
  if (vector.data.length !== 1 || data.offset !== 0) throw new Error('expected one unsliced Arrow chunk');
  return {
    offsets: (data.valueOffsets as Int32Array).subarray(0, data.length + 1),
    bytes: data.values as Uint8Array,
    validity: data.nullCount > 0 ? (data.nullBitmap as Uint8Array) : null,
  };
}
