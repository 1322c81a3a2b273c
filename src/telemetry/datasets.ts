/**
 * save_spans_to_dataset and DatasetIO iterrows: each export appends one Parquet part
 * file under <data dir>/datasets/<dataset_id>/; a read concatenates the parts in order.
 */
import { mkdirSync, openSync, fsyncSync, closeSync, readdirSync, renameSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { SchemaElement } from 'hyparquet';
import type { Store } from '../store.ts';
import { badRequest, notFound } from './errors.ts';
import { querySpans } from './span-tree.ts';
import type { SpanCondition, Primitive } from '../index/spans.ts';
import { formatMicros, parseIsoTimestamp } from './time.ts';

const DATASET_ID = /^[A-Za-z0-9._-]{1,128}$/;

export function checkDatasetId(id: string): void {
  if (!DATASET_ID.test(id) || id === '.' || id === '..') {
    throw badRequest(`dataset_id: expected 1-128 characters of A-Z a-z 0-9 . _ - (and not "." or ".."), got ${JSON.stringify(id)}`);
  }
}

export interface SaveSpansInput {
  attribute_filters: SpanCondition[];
  attributes_to_save: string[];
  dataset_id: string;
  max_depth?: number | null;
}

type ColumnType = 'DOUBLE' | 'BOOLEAN' | 'STRING';

/** The Parquet type of an attribute column: DOUBLE or BOOLEAN when every value is one, else STRING. */
export function attributeColumnType(values: readonly (Primitive | undefined)[]): ColumnType {
  let numbers = 0, booleans = 0, present = 0;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    present++;
    if (typeof v === 'number') numbers++;
    else if (typeof v === 'boolean') booleans++;
  }
  if (present > 0 && numbers === present) return 'DOUBLE';
  if (present > 0 && booleans === present) return 'BOOLEAN';
  return 'STRING';
}

function asString(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Writes the query_spans rows as a new part file; returns the number of rows written. */
export function saveSpansToDataset(store: Store, dataDir: string, input: SaveSpansInput): number {
  checkDatasetId(input.dataset_id);
  const spans = querySpans(store, { attribute_filters: input.attribute_filters, attributes_to_return: input.attributes_to_save, max_depth: input.max_depth });
  const schema: SchemaElement[] = [
    { name: 'root', num_children: 6 + input.attributes_to_save.length },
    { name: 'trace_id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    { name: 'span_id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    { name: 'parent_span_id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    { name: 'name', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    { name: 'start_time', type: 'INT64', converted_type: 'TIMESTAMP_MICROS', repetition_type: 'REQUIRED' },
    { name: 'end_time', type: 'INT64', converted_type: 'TIMESTAMP_MICROS', repetition_type: 'OPTIONAL' },
  ];
  const columnData: { name: string; data: unknown[] }[] = [
    { name: 'trace_id', data: spans.map((s) => s.trace_id) },
    { name: 'span_id', data: spans.map((s) => s.span_id) },
    { name: 'parent_span_id', data: spans.map((s) => s.parent_span_id ?? null) },
    { name: 'name', data: spans.map((s) => s.name) },
    { name: 'start_time', data: spans.map((s) => BigInt(parseIsoTimestamp(s.start_time))) },
    { name: 'end_time', data: spans.map((s) => (s.end_time ? BigInt(parseIsoTimestamp(s.end_time)) : null)) },
  ];
  for (const key of input.attributes_to_save) {
    const values = spans.map((s) => s.attributes?.[key]);
    const type = attributeColumnType(values);
    if (type === 'DOUBLE') schema.push({ name: key, type: 'DOUBLE', repetition_type: 'OPTIONAL' });
    else if (type === 'BOOLEAN') schema.push({ name: key, type: 'BOOLEAN', repetition_type: 'OPTIONAL' });
    else schema.push({ name: key, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' });
    columnData.push({ name: key, data: type === 'STRING' ? values.map(asString) : values.map((v) => v ?? null) });
  }
  const buffer = parquetWriteBuffer({ columnData: columnData as never, schema, kvMetadata: [{ key: 'strata.dataset', value: input.dataset_id }] });
  const dir = join(dataDir, 'datasets', input.dataset_id);
  mkdirSync(dir, { recursive: true });
  const name = `part-${String(Date.now()).padStart(15, '0')}-${process.pid}-${partCounter++}.parquet`;
  writeDurably(join(dir, name), new Uint8Array(buffer));
  return spans.length;
}

let partCounter = 0;

/** temp name, fsync, rename: a crash never leaves a half file under the final name. */
function writeDurably(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, bytes);
  const fd = openSync(tmp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path);
}

export interface IterRowsResult {
  data: Record<string, unknown>[];
  has_more: boolean;
}

/** Rows of a dataset from `startIndex`, at most `limit` (all when absent), timestamps as ISO strings. */
export async function iterRows(dataDir: string, datasetId: string, startIndex = 0, limit?: number): Promise<IterRowsResult> {
  checkDatasetId(datasetId);
  if (startIndex < 0 || (limit !== undefined && limit < 0)) throw badRequest('start_index and limit must be >= 0');
  const dir = join(dataDir, 'datasets', datasetId);
  if (!existsSync(dir)) throw notFound(`dataset ${datasetId} not found`);
  const parts = readdirSync(dir).filter((f) => f.endsWith('.parquet')).sort();
  const end = limit === undefined ? Infinity : startIndex + limit;
  const out: Record<string, unknown>[] = [];
  let seen = 0;
  let hasMore = false;
  for (const part of parts) {
    const bytes = readFileSync(join(dir, part));
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const rows = await parquetReadObjects({ file, utf8: true, parsers: EXACT_TIMESTAMPS });
    for (const row of rows) {
      if (seen >= end) { hasMore = true; break; }
      if (seen >= startIndex) out.push(jsonRow(row));
      seen++;
    }
    if (hasMore) break;
  }
  return { data: out, has_more: hasMore };
}

/** Timestamps straight to ISO strings with their microseconds (the default parser rounds to ms Dates). */
const EXACT_TIMESTAMPS = {
  timestampFromMicroseconds: (micros: bigint) => formatMicros(Number(micros)),
  timestampFromMilliseconds: (millis: bigint) => formatMicros(Number(millis) * 1000),
};

function jsonRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in row) {
    const v = row[k];
    out[k] = typeof v === 'bigint' ? Number(v) : v;
  }
  return out;
}
