/**
 * Validated wire bodies to the engine's IngestBatch: timestamps to µs, span events to
 * start/end, series columns to Float64Arrays of µs. Pure conversion; validation already
 * rejected anything malformed, so a batch converts whole or not at all.
 */
import type { EngineEvent, IngestBatch, SeriesEntry } from '../storage/events.ts';
import type { Event, IngestBody, Series } from './schema.ts';
import { readNumberColumn } from './schema.ts';
import { timestampToMicros } from './time.ts';
import { badRequest } from './errors.ts';

export const DEFAULT_TTL_SECONDS = 604_800;

export function toIngestBatch(body: IngestBody, defaultTtlSeconds = DEFAULT_TTL_SECONDS): IngestBatch {
  switch (body.kind) {
    case 'event':
      return { ttlSeconds: body.body.ttl_seconds ?? defaultTtlSeconds, events: [toEngineEvent(body.body.event, 'event')], series: [] };
    case 'batch':
      return { ttlSeconds: body.body.ttl_seconds ?? defaultTtlSeconds, events: body.body.events.map((e, i) => toEngineEvent(e, `events[${i}]`)), series: [] };
    case 'series':
      return { ttlSeconds: body.body.ttl_seconds ?? defaultTtlSeconds, events: [], series: body.body.series.map(toSeriesEntry) };
  }
}

function micros(value: unknown, at: string): number {
  try {
    return Math.round(timestampToMicros(value));
  } catch (e) {
    throw badRequest(`${at}.timestamp: ${(e as Error).message}`);
  }
}

export function toEngineEvent(e: Event, at: string): EngineEvent {
  const base = { traceId: e.trace_id, spanId: e.span_id, ts: micros(e.timestamp, at), attributes: e.attributes ?? undefined };
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
  const ms = readNumberColumn(s.timestamps);
  const timestamps = new Float64Array(ms.length);
  for (let i = 0; i < ms.length; i++) timestamps[i] = Math.round(ms[i] * 1000);
  const labels: Record<string, string> = {};
  for (const k in s.labels) {
    const v = s.labels[k];
    if (v !== null && !k.startsWith('__')) labels[k] = String(v);
  }
  return {
    metric: s.metric, labels, unit: s.unit, timestamps, values: readNumberColumn(s.values),
    traceIds: s.trace_ids, spanIds: s.span_ids,
  };
}
