/** Engine spans and traces to the Llama Stack wire shapes (absent optionals omitted). */
import type { Attributes, SpanView, TraceSummary } from '../index/spans.ts';
import { formatMicros } from './time.ts';

export interface WireSpan {
  span_id: string;
  trace_id: string;
  parent_span_id?: string;
  name: string;
  start_time: string;
  end_time?: string;
  attributes?: Attributes;
  status?: 'ok' | 'error';
}

export interface WireTrace {
  trace_id: string;
  root_span_id: string;
  start_time: string;
  end_time?: string;
}

/**
 * `attributesToReturn`: when given (non-empty), exactly those keys, a missing one as null.
 * `withStatus`: SpanWithStatus (span trees) rather than Span.
 */
export function wireSpan(span: SpanView, attributesToReturn?: readonly string[] | null, withStatus = false): WireSpan {
  // Built field by field to keep the wire order: span_id, trace_id, parent_span_id, name, ...
  const out = { span_id: span.spanId, trace_id: span.traceId } as WireSpan;
  if (span.parentSpanId !== undefined) out.parent_span_id = span.parentSpanId;
  out.name = span.name;
  out.start_time = formatMicros(span.start);
  if (span.end !== undefined) out.end_time = formatMicros(span.end);
  out.attributes = attributesToReturn?.length ? pick(span.attributes, attributesToReturn) : { ...span.attributes };
  if (withStatus && span.status !== undefined) out.status = span.status;
  return out;
}

export function pick(attributes: Attributes, keys: readonly string[]): Attributes {
  const out: Attributes = {};
  for (const k of keys) out[k] = k in attributes ? attributes[k] : null;
  return out;
}

export function wireTrace(t: TraceSummary): WireTrace {
  const out: WireTrace = { trace_id: t.traceId, root_span_id: t.rootSpanId, start_time: formatMicros(t.start) };
  if (t.end !== undefined) out.end_time = formatMicros(t.end);
  return out;
}
