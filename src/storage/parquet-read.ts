/**
 * Parquet segment file -> MetricSegment / RowSegment (hyparquet), the inverse of
 * parquet-write.ts. Series ids are process-local, so a metric file names its series by
 * metric + labels + unit and the caller maps each to an id of this process.
 */
import { parquetMetadata, parquetRead, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { StringDictionary } from './column.ts';
import { MetricSegment } from './metric-segment.ts';
import { keyValuesToMeta, type StoredSegmentMeta } from './parquet-meta.ts';
import { RowSegment, type SealedColumn } from './row-segment.ts';
import type { ColumnSpec } from './row-table.ts';

/** Returns this process' id of the series; `labelsJson` is the JSON object of labels other than __name__. */
export type ResolveSeries = (metric: string, labelsJson: string, unit: string) => number;

export interface ParquetFile {
  buffer: ArrayBuffer;
  metadata: FileMetaData;
  meta: StoredSegmentMeta;
}

/** Parses the footer and the segment metadata; throws on a file that is not a readable segment. */
export function openSegmentParquet(buffer: ArrayBuffer): ParquetFile {
  const metadata = parquetMetadata(buffer);
  const meta = keyValuesToMeta(metadata.key_value_metadata);
  if (Number(metadata.num_rows) !== meta.rows) throw new Error(`footer says ${metadata.num_rows} rows, metadata ${meta.rows}`);
  return { buffer, metadata, meta };
}

export async function decodeMetricParquet(file: ParquetFile, resolveSeries: ResolveSeries): Promise<MetricSegment> {
  const { meta } = file;
  const uniform = meta.uniformTtlMicros !== null;
  const names = ['metric', 'labels', 'unit', 'timestamp', 'value'];
  if (!uniform) names.push('expiry');
  if (meta.hasIds) names.push('trace_id', 'span_id');
  const cols = await readColumns(file, names);
  const metric = cols.get('metric') as string[];
  const labels = cols.get('labels') as string[];
  const unit = cols.get('unit') as (string | null)[];
  const runs = seriesRuns(meta.rows, metric, labels, unit, resolveSeries);
  const order = runs.map((_, i) => i).sort((a, b) => runs[a].id - runs[b].id || runs[a].start - runs[b].start);
  const gather = rowGatherer(runs, order, meta.rows);
  const ts = gather.f64(cols.get('timestamp') as Float64Array);
  const values = gather.f64(cols.get('value') as Float64Array);
  const expiry = uniform ? null : gather.f64(cols.get('expiry') as Float64Array);
  let traceCodes: Uint32Array | null = null, spanCodes: Uint32Array | null = null;
  const ids = new StringDictionary();
  if (meta.hasIds) {
    traceCodes = gather.u32(encodeStrings(cols.get('trace_id') as (string | null)[], ids));
    spanCodes = gather.u32(encodeStrings(cols.get('span_id') as (string | null)[], ids));
  }
  const { seriesIds, seriesStart } = gather;
  sortEachSeries(seriesStart, ts, [values, expiry, traceCodes, spanCodes]);
  return new MetricSegment({
    id: meta.segmentId, seriesIds, seriesStart, ts, values, expiry,
    ttlMicros: meta.uniformTtlMicros ?? 0, traceCodes, spanCodes, idValues: ids.values,
  });
}

/** `schema` is the table's full column list, ts and expiry first (RowTable.columns). */
export async function decodeRowParquet(file: ParquetFile, schema: ColumnSpec[]): Promise<RowSegment> {
  const { meta } = file;
  const cols = await readColumns(file, schema.map((c) => c.name));
  const sealed = new Map<string, SealedColumn>();
  for (const spec of schema) {
    const data = cols.get(spec.name) as ArrayLike<unknown>;
    if (spec.kind === 'f64') sealed.set(spec.name, { kind: 'f64', values: data as Float64Array });
    else if (spec.kind === 'u8') sealed.set(spec.name, { kind: 'u8', values: Uint8Array.from(data as ArrayLike<number>) });
    else if (spec.kind === 'dict') {
      const dict = new StringDictionary();
      sealed.set(spec.name, { kind: 'dict', codes: encodeStrings(data as (string | null)[], dict), values: dict.values });
    } else sealed.set(spec.name, { kind: 'str', strings: data as (string | null)[] });
  }
  return new RowSegment(meta.segmentId, meta.table, meta.baseRow, sealed);
}

interface Run { id: number; start: number; end: number }

/** Rows are grouped by series in the file; each maximal run of one series becomes a Run. */
function seriesRuns(rows: number, metric: string[], labels: string[], unit: (string | null)[], resolve: ResolveSeries): Run[] {
  const runs: Run[] = [];
  let start = 0;
  for (let i = 1; i <= rows; i++) {
    if (i < rows && metric[i] === metric[start] && labels[i] === labels[start] && unit[i] === unit[start]) continue;
    runs.push({ id: resolve(metric[start], labels[start], unit[start] ?? ''), start, end: i });
    start = i;
  }
  return runs;
}

/** Copies columns into series-id order; runs of the same series become one slice. */
function rowGatherer(runs: Run[], order: number[], rows: number) {
  const ids: number[] = [];
  const starts: number[] = [];
  let offset = 0;
  for (const r of order) {
    if (ids.length === 0 || ids[ids.length - 1] !== runs[r].id) {
      ids.push(runs[r].id);
      starts.push(offset);
    }
    offset += runs[r].end - runs[r].start;
  }
  starts.push(rows);
  const identity = order.every((r, k) => r === k);
  function gather<T extends Float64Array | Uint32Array>(src: T, make: (n: number) => T): T {
    if (identity) return src;
    const out = make(rows);
    let o = 0;
    for (const r of order) {
      out.set(src.subarray(runs[r].start, runs[r].end), o);
      o += runs[r].end - runs[r].start;
    }
    return out;
  }
  return {
    seriesIds: Uint32Array.from(ids),
    seriesStart: Uint32Array.from(starts),
    f64: (src: Float64Array) => gather(src, (n) => new Float64Array(n)),
    u32: (src: Uint32Array) => gather(src, (n) => new Uint32Array(n)),
  };
}

/** Restores per-series time order where merged runs broke it (stable). Written files never need it. */
function sortEachSeries(seriesStart: Uint32Array, ts: Float64Array, others: (Float64Array | Uint32Array | null)[]): void {
  for (let i = 0; i + 1 < seriesStart.length; i++) {
    const s = seriesStart[i], e = seriesStart[i + 1];
    let sorted = true;
    for (let j = s + 1; j < e && sorted; j++) if (ts[j] < ts[j - 1]) sorted = false;
    if (sorted) continue;
    const order = Array.from({ length: e - s }, (_, k) => s + k).sort((a, b) => ts[a] - ts[b] || a - b);
    for (const col of [ts, ...others]) {
      if (!col) continue;
      const copy = col.slice(s, e);
      for (let k = 0; k < order.length; k++) col[s + k] = copy[order[k] - s];
    }
  }
}

function encodeStrings(values: (string | null)[], dict: StringDictionary): Uint32Array {
  const codes = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    codes[i] = v === null || v === undefined ? 0 : dict.encode(v);
  }
  return codes;
}

const TIMESTAMP_PARSERS = { timestampFromMicroseconds: (micros: bigint) => Number(micros) };

/**
 * Reads whole columns: timestamps and doubles into Float64Arrays, 32-bit integers into
 * Int32Arrays, strings into arrays (null for a missing value).
 */
async function readColumns(file: ParquetFile, names: string[]): Promise<Map<string, ArrayLike<unknown>>> {
  const rows = file.meta.rows;
  const types = new Map(file.metadata.schema.slice(1).map((e) => [e.name, e.type]));
  const out = new Map<string, Float64Array | Int32Array | unknown[]>();
  for (const name of names) {
    const type = types.get(name);
    if (type === undefined) throw new Error(`segment file has no column ${name}`);
    out.set(name, type === 'DOUBLE' || type === 'INT64' ? new Float64Array(rows) : type === 'INT32' ? new Int32Array(rows) : new Array(rows).fill(null));
  }
  const asyncBuffer: AsyncBuffer = { byteLength: file.buffer.byteLength, slice: (s, e) => file.buffer.slice(s, e) };
  await parquetRead({
    file: asyncBuffer,
    metadata: file.metadata,
    columns: names,
    parsers: TIMESTAMP_PARSERS,
    onChunk: ({ columnName, columnData, rowStart }) => {
      const target = out.get(columnName) as Float64Array | Int32Array | unknown[];
      const n = Math.min(columnData.length, rows - rowStart);
      if (ArrayBuffer.isView(target) && ArrayBuffer.isView(columnData) && n === columnData.length) {
        target.set(columnData as unknown as ArrayLike<number>, rowStart);
      } else {
        for (let i = 0; i < n; i++) (target as unknown[])[rowStart + i] = (columnData as ArrayLike<unknown>)[i];
      }
    },
  });
  return out;
}
