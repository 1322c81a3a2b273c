/** Engine spans and traces to the Llama Stack wire shapes (absent optionals omitted). */
import type { Attributes, SpanIndex, SpanView, TraceSummary } from '../index/spans.ts';
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

/** wireSpan of the span at `slot`, read straight from the index (no SpanView in between). */
export function wireSpanAt(spans: SpanIndex, slot: number, attributesToReturn?: readonly string[] | null, withStatus = false): WireSpan {
  const out = { span_id: spans.spanIdOf(slot), trace_id: spans.traceIdOf(slot) } as WireSpan;
  const parent = spans.parentIdOf(slot);
  if (parent !== undefined) out.parent_span_id = parent;
  out.name = spans.nameOf(slot);
  out.start_time = formatTime(spans.startOf(slot));
  const end = spans.endOf(slot);
  if (end !== undefined) out.end_time = formatTime(end);
  const attributes = spans.attributesOf(slot);
  out.attributes = attributesToReturn?.length ? pick(attributes, attributesToReturn) : { ...attributes };
  if (withStatus) {
    const status = spans.statusOf(slot);
    if (status !== undefined) out.status = status;
  }
  return out;
}

export function pick(attributes: Readonly<Attributes>, keys: readonly string[]): Attributes {
  const out: Attributes = {};
  for (const k of keys) out[k] = k in attributes ? attributes[k] : null;
  return out;
}

export function wireTrace(t: TraceSummary): WireTrace {
  const out: WireTrace = { trace_id: t.traceId, root_span_id: t.rootSpanId, start_time: formatTime(t.start) };
  if (t.end !== undefined) out.end_time = formatTime(t.end);
  return out;
}

// The spans of a response mostly share a few seconds (a trace lasts seconds), so the
// `YYYY-MM-DDTHH:MM:SS.` part is remembered per second in a small direct-mapped cache and only
// the microseconds are formatted per timestamp.
const CACHE_SIZE = 64;
const cachedSecond = new Float64Array(CACHE_SIZE).fill(NaN);
const cachedPrefix: string[] = new Array<string>(CACHE_SIZE).fill('');

/** formatMicros, exactly (same string, same RangeError), faster for timestamps in recently seen seconds. */
export function formatTime(micros: number): string {
  if (!Number.isSafeInteger(micros)) return formatMicros(micros);
  let fraction = micros % 1_000_000;
  if (fraction < 0) fraction += 1_000_000;
  const second = (micros - fraction) / 1_000_000;
  const i = second & (CACHE_SIZE - 1);
  if (cachedSecond[i] !== second) {
    const full = formatMicros(micros);
    cachedPrefix[i] = full.slice(0, full.length - 7);
    cachedSecond[i] = second;
  }
  return cachedPrefix[i] + (fraction >= 100_000 ? String(fraction) : String(fraction).padStart(6, '0')) + 'Z';
}
