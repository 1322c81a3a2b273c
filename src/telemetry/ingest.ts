/**
 * Validated wire bodies to the engine's IngestBatch: timestamps to µs, span events to
 * start/end, metric events regrouped into series columns (series-grouper.ts), series
 * columns to Float64Arrays of µs. Pure conversion; validation already rejected anything
 * malformed, so a batch converts whole or not at all.
 */
import type { EngineEvent, IngestBatch, SeriesEntry } from '../storage/events.ts';
import { metricEventLabels } from '../storage/events.ts';
import type { Event, IngestBody, NumberColumn, Series } from './schema.ts';
import { readNumberColumn } from './schema.ts';
import { sampleIdsFromStrings } from '../storage/sample-ids.ts';
import { SeriesGrouper } from './series-grouper.ts';
import { timestampToMicros } from './time.ts';
import { badRequest } from './errors.ts';

export const DEFAULT_TTL_SECONDS = 604_800;

export function toIngestBatch(body: IngestBody, defaultTtlSeconds = DEFAULT_TTL_SECONDS): IngestBatch {
  const ttlSeconds = body.body.ttl_seconds ?? defaultTtlSeconds;
  switch (body.kind) {
    case 'event':
      return eventsBatch([body.body.event], () => 'event', ttlSeconds);
    case 'batch':
      return eventsBatch(body.body.events, (i) => `events[${i}]`, ttlSeconds);
    case 'series':
      return { ttlSeconds, events: [], series: body.body.series.map(toSeriesEntry) };
  }
}

function eventsBatch(wire: readonly Event[], at: (i: number) => string, ttlSeconds: number): IngestBatch {
  const metrics = new SeriesGrouper(wire.length);
  const events: EngineEvent[] = [];
  for (let i = 0; i < wire.length; i++) {
    const e = wire[i]!;
    if (e.type === 'metric') {
      metrics.add(e.metric, e.attributes, e.unit, micros(e.timestamp, at, i), e.value, e.trace_id, e.span_id);
    } else {
      events.push(toEngineEvent(e, at(i)));
    }
  }
  return { ttlSeconds, events, series: metrics.samples > 0 ? metrics.finish() : [] };
}

function micros(value: unknown, at: (i: number) => string, i: number): number {
  try {
    return Math.round(timestampToMicros(value));
  } catch (e) {
    throw badRequest(`${at(i)}.timestamp: ${(e as Error).message}`);
  }
}

/** One event as the engine's event (metric events stay events here; batches group them). */
export function toEngineEvent(e: Event, at: string): EngineEvent {
  const base = { traceId: e.trace_id, spanId: e.span_id, ts: micros(e.timestamp, () => at, 0), attributes: e.attributes ?? undefined };
  switch (e.type) {
    case 'metric':
      return { kind: 'metric', ...base, metric: e.metric, value: e.value, unit: e.unit };
    case 'unstructured_log':
      return { kind: 'log', ...base, message: e.message, severity: e.severity };
    case 'structured_log':
      if (e.payload.type === 'span_start') {
        return { kind: 'span_start', ...base, name: e.payload.name, parentSpanId: e.payload.parent_span_id ?? undefined };
      }
      return { kind: 'span_end', ...base, status: e.payload.status };
  }
}

function toSeriesEntry(s: Series): SeriesEntry {
  const timestamps = millisToMicros(s.timestamps);
  const entry: SeriesEntry = { metric: s.metric, labels: metricEventLabels(s.labels), unit: s.unit, timestamps, values: readNumberColumn(s.values) };
  const ids = sampleIdsFromStrings(timestamps.length, s.trace_ids ?? undefined, s.span_ids ?? undefined);
  if (ids) entry.ids = ids;
  return entry;
}

/** Epoch ms column -> a new µs Float64Array (a Float64Array given may be the caller's, so it is copied, not converted in place). */
function millisToMicros(column: NumberColumn): Float64Array {
  const owned = column instanceof Float64Array ? new Float64Array(column) : readNumberColumn(column);
  for (let i = 0; i < owned.length; i++) owned[i] = Math.round(owned[i]! * 1000);
  return owned;
}
