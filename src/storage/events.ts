/**
 * The engine's own event model: what ingest decodes into, what the WAL records and
 * what the tables apply. Times are integer microseconds since the epoch.
 */
import type { Attributes } from '../index/spans.ts';
import type { SeriesColumns } from './series-columns.ts';

interface EventBase {
  traceId: string;
  spanId: string;
  ts: number;
  attributes?: Attributes;
}

export interface MetricEvent extends EventBase { kind: 'metric'; metric: string; value: number; unit: string }
export interface LogEvent extends EventBase { kind: 'log'; message: string; severity: string }
export interface SpanStartEvent extends EventBase { kind: 'span_start'; name: string; parentSpanId?: string }
export interface SpanEndEvent extends EventBase { kind: 'span_end'; status: 'ok' | 'error' }
export type EngineEvent = MetricEvent | LogEvent | SpanStartEvent | SpanEndEvent;

/** Samples of one series, the high-throughput shape. */
export interface SeriesEntry {
  metric: string;
  labels: Record<string, string>;
  unit?: string;
  timestamps: Float64Array;
  values: Float64Array;
  /** Exemplar links of the samples, present when any sample carries a trace or span id. */
  ids?: SampleIds;
}

/**
 * Trace/span ids of a series entry's samples as codes (sample-ids.ts): 0 = none, k =
 * `dictionary[k - 1]`. Entries of one batch usually share one dictionary.
 */
export interface SampleIds {
  dictionary: string[];
  trace: Uint32Array;
  span: Uint32Array;
}

export interface IngestBatch {
  ttlSeconds: number;
  events: EngineEvent[];
  series: SeriesEntry[];
  /**
   * More series samples, as columns: what the binary WAL encoding decodes to, so that a batch
   * of thousands of short series costs no object per series on the main thread.
   */
  columns?: SeriesColumns;
  /**
   * The batch's WAL entry (wal-entry.ts) but its LSN, when it arrived that way (an ingest
   * decode thread encodes its batches so): bytes [0, 8) are left for the LSN and the batch's
   * encoding follows. The WAL writes this buffer as it is, with no encoding and no copy.
   */
  walEntry?: Uint8Array;
}

/**
 * A metric event's labels (SPEC §2): its attributes, values stringified, `__*` keys and
 * nulls left out. The one rule for ingest grouping, limits and the store.
 */
export function metricEventLabels(attributes: Readonly<Record<string, unknown>> | null | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!attributes) return labels;
  for (const name in attributes) {
    const value = attributes[name];
    if (value === null || value === undefined || name.startsWith('__')) continue;
    labels[name] = String(value);
  }
  return labels;
}

export function countSamples(batch: IngestBatch): number {
  let n = batch.events.length;
  for (const s of batch.series) n += s.timestamps.length;
  return n + (batch.columns?.timestamps.length ?? 0);
}
