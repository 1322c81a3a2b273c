/**
 * OTLP/JSON ExportTraceServiceRequest -> engine events (SPEC §3): each span becomes a
 * span_start (name, parent, attributes = resource attributes overlaid by the span's) and,
 * when it has an end time, a span_end (status ERROR -> "error", anything else "ok"); each
 * span event becomes an unstructured log on that span (severity "error" for `exception`
 * events, else "info"). A span that cannot be read is rejected alone and counted, as OTLP's
 * partial success allows; a request whose envelope is malformed is a 400.
 */
import type { EngineEvent } from '../storage/events.ts';
import type { Attributes } from './schema.ts';
import {
  arrayField, flattenAttributes, forEachItem, hexIdField, isObject, nanosToMicros, objectAt, OtlpShapeError, stringField,
  type Json, type OtlpConversion,
} from './otlp-values.ts';

const STATUS_CODE_ERROR = 2;

export function otlpTracesToEvents(body: unknown): OtlpConversion<EngineEvent[]> {
  const result: OtlpConversion<EngineEvent[]> = { items: [], rejected: 0 };
  forEachItem(body, 'Spans', 'spans', result, (span, resourceAttributes, at) => {
    result.items.push(...spanEvents(span, resourceAttributes, at));
  });
  return result;
}

function spanEvents(value: unknown, resourceAttributes: Attributes, at: string): EngineEvent[] {
  const span = objectAt(value, at);
  const traceId = hexIdField(span, 'traceId', 32, at, true);
  const spanId = hexIdField(span, 'spanId', 16, at, true);
  const parentSpanId = hexIdField(span, 'parentSpanId', 16, at, false);
  const name = stringField(span, 'name', at, false);
  const start = nanosToMicros(span.startTimeUnixNano, `${at}.startTimeUnixNano`);
  const attributes = flattenAttributes(arrayField(span, 'attributes', at), `${at}.attributes`, { ...resourceAttributes });
  const out: EngineEvent[] = [{
    kind: 'span_start', traceId, spanId, ts: start, name,
    parentSpanId: parentSpanId || undefined,
    attributes: Object.keys(attributes).length ? attributes : undefined,
  }];
  for (const log of spanLogs(span, traceId, spanId, at)) out.push(log);
  const endNanos = span.endTimeUnixNano;
  if (endNanos !== undefined && endNanos !== null && endNanos !== '0' && endNanos !== 0) {
    out.push({ kind: 'span_end', traceId, spanId, ts: nanosToMicros(endNanos, `${at}.endTimeUnixNano`), status: spanStatus(span, at) });
  }
  return out;
}

function spanLogs(span: Json, traceId: string, spanId: string, at: string): EngineEvent[] {
  const list = arrayField(span, 'events', at);
  return list.map((value, i) => {
    const eventAt = `${at}.events[${i}]`;
    const event = objectAt(value, eventAt);
    const message = stringField(event, 'name', eventAt, false);
    const attributes = flattenAttributes(arrayField(event, 'attributes', eventAt), `${eventAt}.attributes`);
    return {
      kind: 'log', traceId, spanId, ts: nanosToMicros(event.timeUnixNano, `${eventAt}.timeUnixNano`),
      message, severity: message === 'exception' ? 'error' : 'info',
      attributes: Object.keys(attributes).length ? attributes : undefined,
    };
  });
}

/** The JSON mapping allows the enum as its number or its name. */
function spanStatus(span: Json, at: string): 'ok' | 'error' {
  const status = span.status;
  if (status === undefined || status === null) return 'ok';
  if (!isObject(status)) throw new OtlpShapeError(`${at}.status`, 'expected an object');
  return status.code === STATUS_CODE_ERROR || status.code === 'STATUS_CODE_ERROR' ? 'error' : 'ok';
}
