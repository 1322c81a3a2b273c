/**
 * Segment snapshot -> Parquet bytes. One row per sample or event, in the segment's own
 * order, columns typed for other engines: times as INT64 TIMESTAMP_MICROS (UTC), strings
 * as UTF-8, a metric series as its `metric` name plus a `labels` JSON object string.
 * Column statistics are on where readers prune by them; the segment's own statistics and
 * the schema version go in the key-value metadata (see parquet-meta.ts).
 *
 * Metric segments, the bulk of the data, are laid out by parquet-metric-write.ts; span
 * events and logs go through hyparquet-writer (~1 µs per row per column). Either way the
 * encoding runs on the Parquet worker thread.
 */
import type { SchemaElement } from 'hyparquet';
import { ByteWriter, parquetWrite, type ColumnSource } from 'hyparquet-writer';
import { metaToKeyValues } from './parquet-meta.ts';
import { encodeMetricParquet, metricParquetSteps } from './parquet-metric-write.ts';
import type { RowSnapshot, RowSnapshotColumn, SegmentSnapshot } from './segment-snapshot.ts';

/** Rows per row group: big enough for good compression, small enough for useful min/max pruning. */
const ROW_GROUP_ROWS = 1 << 17;
const CREATED_BY = 'strata (hyparquet-writer)';

type Column = { element: SchemaElement; source: ColumnSource };

export function encodeSegmentParquet(snapshot: SegmentSnapshot): Uint8Array {
  if (snapshot.table === 'metrics') return encodeMetricParquet(snapshot, ROW_GROUP_ROWS, CREATED_BY);
  const writer = new ByteWriter();
  parquetWrite({ ...writeOptions(snapshot, ROW_GROUP_ROWS), writer });
  return new Uint8Array(writer.getBuffer());
}

/**
 * The same file, encoded on the calling thread in row groups of `rowGroupRows` with an
 * event-loop turn between them: the fallback when no worker thread is available.
 */
export async function encodeSegmentParquetChunked(snapshot: SegmentSnapshot, rowGroupRows: number): Promise<Uint8Array> {
  if (snapshot.table === 'metrics') {
    const steps = metricParquetSteps(snapshot, rowGroupRows, CREATED_BY);
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  const writer = new ByteWriter() as ByteWriter & { flush?: () => Promise<void> };
  writer.flush = () => new Promise((resolve) => setImmediate(resolve));
  await parquetWrite({ ...writeOptions(snapshot, rowGroupRows), writer });
  return new Uint8Array(writer.getBuffer());
}

function writeOptions(snapshot: RowSnapshot, rowGroupRows: number) {
  const columns = rowColumns(snapshot);
  return {
    columnData: columns.map((c) => c.source),
    schema: [{ name: 'root', num_children: columns.length }, ...columns.map((c) => c.element)],
    statistics: true,
    rowGroupSize: rowGroupRows,
    kvMetadata: metaToKeyValues(snapshot),
    createdBy: CREATED_BY,
  };
}

function rowColumns(s: RowSnapshot): Column[] {
  return s.columns.map(rowColumn);
}

function rowColumn(c: RowSnapshotColumn): Column {
  switch (c.kind) {
    case 'f64': return c.name === 'ts' || c.name === 'expiry' ? timestampColumn(c.name, c.values) : doubleColumn(c.name, c.values);
    case 'u8': return {
      element: { name: c.name, type: 'INT32', converted_type: 'UINT_8', repetition_type: 'REQUIRED' },
      source: { name: c.name, data: c.values },
    };
    case 'dict': return stringColumn(c.name, byCode(c.codes, c.values.map(utf8)), true);
    case 'str': return withoutStatistics(stringColumn(c.name, utf8Views(c.offsets, c.bytes, c.validity), true));
  }
}

function timestampColumn(name: string, micros: Float64Array): Column {
  return {
    element: {
      name, type: 'INT64', converted_type: 'TIMESTAMP_MICROS', repetition_type: 'REQUIRED',
      logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
    },
    // Mostly ascending integers: deltas pack into a few bits each.
    source: { name, data: micros, encoding: 'DELTA_BINARY_PACKED' },
  };
}

function doubleColumn(name: string, values: Float64Array): Column {
  return { element: { name, type: 'DOUBLE', repetition_type: 'REQUIRED' }, source: { name, data: values } };
}

/**
 * Strings go to the writer as UTF-8 bytes: each distinct string is encoded once and rows
 * share its bytes (the writer would otherwise encode every row), and free-text columns
 * are views straight into the segment's Arrow buffer.
 */
function stringColumn(name: string, values: (Uint8Array | null)[], nullable: boolean, dictionary = false): Column {
  return {
    element: { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: nullable ? 'OPTIONAL' : 'REQUIRED' },
    source: { name, data: values, ...(dictionary ? { encoding: 'RLE_DICTIONARY' as const } : {}) },
  };
}

/**
 * Columns no reader prunes by (JSON objects, free text, values, random ids, expiry, which
 * the segment's own statistics carry): computing min/max is the costliest part of writing
 * them. Time and metric name keep theirs, for engines that skip row groups by them.
 */
function withoutStatistics(c: Column): Column {
  return { ...c, source: { ...c.source, statistics: false } };
}

const encoder = new TextEncoder();

function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Dictionary codes -> the bytes of their values; code 0 is "absent". */
function byCode(codes: Uint32Array, values: Uint8Array[]): (Uint8Array | null)[] {
  const out: (Uint8Array | null)[] = new Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = codes[i] === 0 ? null : values[codes[i]];
  return out;
}

function utf8Views(offsets: Int32Array, bytes: Uint8Array, validity: Uint8Array | null): (Uint8Array | null)[] {
  const rows = offsets.length - 1;
  const out: (Uint8Array | null)[] = new Array(rows);
  for (let i = 0; i < rows; i++) {
    out[i] = validity && (validity[i >> 3] & (1 << (i & 7))) === 0 ? null : bytes.subarray(offsets[i], offsets[i + 1]);
  }
  return out;
}
