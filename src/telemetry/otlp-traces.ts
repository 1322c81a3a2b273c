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
  arrayField, flattenAttributes, hexIdField, isObject, nanosToMicros, objectAt, OtlpShapeError, stringField, type Json,
} from './otlp-values.ts';

export interface OtlpConversion<T> {
  items: T;
  /** Spans or data points left out, and why the first was. */
  rejected: number;
  firstProblem?: string;
}

const STATUS_CODE_ERROR = 2;

export function otlpTracesToEvents(body: unknown): OtlpConversion<EngineEvent[]> {
  const request = objectAt(body, 'body');
  const events: EngineEvent[] = [];
  const result: OtlpConversion<EngineEvent[]> = { items: events, rejected: 0 };
  const resources = arrayField(request, 'resourceSpans', 'body');
  for (let r = 0; r < resources.length; r++) {
    const at = `resourceSpans[${r}]`;
    const resourceSpans = objectAt(resources[r], at);
    const resourceAttributes = readResourceAttributes(resourceSpans, at);
    const scopes = arrayField(resourceSpans, 'scopeSpans', at);
    for (let s = 0; s < scopes.length; s++) {
      const scopeAt = `${at}.scopeSpans[${s}]`;
      const spans = arrayField(objectAt(scopes[s], scopeAt), 'spans', scopeAt);
      for (let i = 0; i < spans.length; i++) {
        try {
          events.push(...spanEvents(spans[i], resourceAttributes, `${scopeAt}.spans[${i}]`));
        } catch (error) {
          if (!(error instanceof OtlpShapeError)) throw error;
          result.rejected++;
          result.firstProblem ??= error.message;
        }
      }
    }
  }
  return result;
}

/** The resource's attributes (`service.name`, …), which every span and point of it carries. */
export function readResourceAttributes(resourceHolder: Json, at: string): Attributes {
  const resource = resourceHolder.resource;
  if (resource === undefined || resource === null) return {};
  return flattenAttributes(arrayField(objectAt(resource, `${at}.resource`), 'attributes', `${at}.resource`), `${at}.resource.attributes`);
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
