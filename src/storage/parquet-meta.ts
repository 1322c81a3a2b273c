/**
 * The key-value metadata of a segment file: what the engine needs to load it back
 * without reading its rows (table, time range, max expiry, WAL position) plus the
 * fields only a metric or a row segment has. Values are decimal strings, as Parquet
 * key-value metadata is text; `strata.` prefixes keep them apart from other writers'.
 */
import { SCHEMA_VERSION, type SegmentFileMeta, type SegmentSnapshot, type SegmentTable } from './segment-snapshot.ts';

export interface StoredSegmentMeta extends SegmentFileMeta {
  /** Metrics: the TTL every row shares (expiry = ts + ttl), or null when rows have their own expiry. */
  uniformTtlMicros: number | null;
  /** Metrics: whether samples carry trace/span ids. */
  hasIds: boolean;
  /** Span events and logs: global row id of the first row. */
  baseRow: number;
}

export interface KeyValue {
  key: string;
  value?: string;
}

const TABLES: readonly SegmentTable[] = ['metrics', 'span_events', 'logs'];

export function metaToKeyValues(s: SegmentSnapshot): KeyValue[] {
  const kv: Record<string, string> = {
    'strata.schema_version': String(s.schemaVersion),
    'strata.table': s.table,
    'strata.node_id': s.nodeId,
    'strata.segment_id': String(s.segmentId),
    'strata.rows': String(s.rows),
    'strata.min_ts': String(s.minTs),
    'strata.max_ts': String(s.maxTs),
    'strata.max_expiry': String(s.maxExpiry),
    'strata.wal_lsn': String(s.walLsn),
  };
  if (s.table === 'metrics') {
    if (!s.expiry) kv['strata.ttl_micros'] = String(s.ttlMicros);
    kv['strata.has_ids'] = String(s.traceCodes !== null);
  } else {
    kv['strata.base_row'] = String(s.baseRow);
  }
  return Object.entries(kv).map(([key, value]) => ({ key, value }));
}

/** Throws, naming the key, when the file is not a segment file this version can read. */
export function keyValuesToMeta(keyValues: KeyValue[] | undefined): StoredSegmentMeta {
  const kv = new Map((keyValues ?? []).map((e) => [e.key, e.value ?? '']));
  const text = (key: string): string => {
    const v = kv.get(key);
    if (v === undefined) throw new Error(`not a strata segment: no ${key} in key-value metadata`);
    return v;
  };
  const num = (key: string): number => {
    const v = Number(text(key));
    if (!Number.isFinite(v)) throw new Error(`bad ${key}: ${JSON.stringify(kv.get(key))}`);
    return v;
  };
  const schemaVersion = num('strata.schema_version');
  if (schemaVersion !== SCHEMA_VERSION) throw new Error(`unsupported segment schema version ${schemaVersion}`);
  const table = text('strata.table') as SegmentTable;
  if (!TABLES.includes(table)) throw new Error(`unknown segment table ${JSON.stringify(table)}`);
  return {
    table, schemaVersion,
    nodeId: text('strata.node_id'),
    segmentId: num('strata.segment_id'),
    rows: num('strata.rows'),
    minTs: num('strata.min_ts'),
    maxTs: num('strata.max_ts'),
    maxExpiry: num('strata.max_expiry'),
    walLsn: num('strata.wal_lsn'),
    uniformTtlMicros: table === 'metrics' && kv.has('strata.ttl_micros') ? num('strata.ttl_micros') : null,
    hasIds: kv.get('strata.has_ids') === 'true',
    baseRow: table === 'metrics' ? 0 : num('strata.base_row'),
  };
}
