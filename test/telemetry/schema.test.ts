import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Packr, Unpackr } from 'msgpackr';
import { ApiError } from '../../src/telemetry/errors.ts';
import {
  fieldPath,
  numberColumnLength,
  parseBody,
  readNumberColumn,
  validate,
  validateIngest,
  type SchemaName,
} from '../../src/telemetry/schema.ts';
import { MicrosDate, registerExactMsgpackTimestamps, timestampToMicros } from '../../src/telemetry/time.ts';

const common = { trace_id: '6902f54b83b4b48be18a6f422b13e16f', span_id: '5f37b85543afc15a', timestamp: '2024-12-04T08:08:30.501587Z' };
const spanStart = { type: 'structured_log', ...common, payload: { type: 'span_start', name: 'turn', parent_span_id: null }, attributes: { session_id: 's1', __root__: true } };
const spanEnd = { type: 'structured_log', ...common, payload: { type: 'span_end', status: 'ok' } };
const metric = { type: 'metric', ...common, metric: 'prompt_tokens', value: 12, unit: 'tokens', attributes: { model_id: 'llama' } };
const log = { type: 'unstructured_log', ...common, message: 'hello', severity: 'info', attributes: null };

function detail(name: SchemaName, value: unknown): string {
  const result = validate(name, value);
  if (result.ok) throw new Error(`expected ${JSON.stringify(value)} to be rejected`);
  expect(result.error).toBeInstanceOf(ApiError);
  expect(result.error.status).toBe(400);
  return result.error.detail;
}

describe('events', () => {
  it.each([
    ['span_start', spanStart],
    ['span_end', spanEnd],
    ['metric', metric],
    ['unstructured_log', log],
  ])('accepts a %s event', (_, event) => {
    expect(validate('LogEventBody', { event, ttl_seconds: 60 })).toEqual({ ok: true, value: { event, ttl_seconds: 60 } });
  });

  it('accepts every timestamp form and every severity', () => {
    for (const timestamp of ['2024-12-04T08:08:30.501587', '2024-12-04T10:08:30+02:00', '2024-12-04', 1733299710501.587, 1733299710501n, new Date(), new MicrosDate(1)]) {
      expect(validate('Event', { ...metric, timestamp }).ok).toBe(true);
    }
    for (const severity of ['verbose', 'debug', 'info', 'warn', 'error', 'critical']) {
      expect(validate('Event', { ...log, severity }).ok).toBe(true);
    }
  });

  it('accepts primitive attribute values only', () => {
    expect(validate('Event', { ...metric, attributes: { s: 'x', n: 1.5, b: false, z: null } }).ok).toBe(true);
    expect(detail('Event', { ...metric, attributes: { list: [1] } })).toBe('attributes.list: expected string, number, boolean or null, got array');
    expect(detail('Event', { ...metric, attributes: { 'http.route': {} } })).toBe('attributes["http.route"]: expected string, number, boolean or null, got object');
  });

  it('ignores unknown fields, as pydantic does, and keeps them untouched', () => {
    const body = { event: { ...metric, extra: 1, payload: 'ignored' }, ttl_seconds: 5, client: 'x' };
    const result = validate('LogEventBody', body);
    expect(result.ok && result.value).toBe(body);
  });

  it.each<[string, unknown, string]>([
    ['bad timestamp', { event: { ...metric, timestamp: '2024-13-01T00:00:00Z' } },
      'event.timestamp: expected ISO 8601 timestamp string or epoch milliseconds, got "2024-13-01T00:00:00Z" (expected month 01-12 then "-")'],
    ['timestamp of the wrong type', { event: { ...metric, timestamp: true } },
      'event.timestamp: expected ISO 8601 timestamp string or epoch milliseconds, got true'],
    ['missing timestamp', { event: { ...metric, timestamp: undefined } },
      'event.timestamp: expected ISO 8601 timestamp string or epoch milliseconds, got nothing'],
    ['missing field', { event: { type: 'metric', trace_id: 't', span_id: 's', timestamp: 0, value: 1, unit: 'u' } },
      'event.metric: missing, expected non-empty string'],
    ['empty id', { event: { ...metric, span_id: '' } }, 'event.span_id: expected non-empty string, got ""'],
    ['unknown event type', { event: { ...metric, type: 'trace' } },
      'event.type: expected one of "unstructured_log", "metric", "structured_log", got "trace"'],
    ['missing event type', { event: { ...common, metric: 'm', value: 1, unit: 'u' } },
      'event.type: missing, expected one of "unstructured_log", "metric", "structured_log"'],
    ['bad severity', { event: { ...log, severity: 'fatal' } },
      'event.severity: expected one of "verbose", "debug", "info", "warn", "error", "critical", got "fatal"'],
    ['bad span status', { event: { ...spanEnd, payload: { type: 'span_end', status: 'OK' } } },
      'event.payload.status: expected one of "ok", "error", got "OK"'],
    ['unknown payload type', { event: { ...spanEnd, payload: { type: 'span_middle' } } },
      'event.payload.type: expected one of "span_start", "span_end", got "span_middle"'],
    ['span_start without name', { event: { ...spanStart, payload: { type: 'span_start' } } }, 'event.payload.name: missing, expected string'],
    ['non-numeric metric value', { event: { ...metric, value: '12' } }, 'event.value: expected finite number, got "12"'],
    ['negative ttl', { event: metric, ttl_seconds: -1 }, 'ttl_seconds: expected integer >= 0, got -1'],
    ['null ttl (not optional in Python)', { event: metric, ttl_seconds: null }, 'ttl_seconds: expected integer >= 0, got null'],
    ['missing event', { ttl_seconds: 1 }, 'event: missing, expected Event object'],
    ['body not an object', [metric], 'body: expected LogEventRequest object, got array'],
  ])('rejects %s', (_, body, message) => {
    expect(detail('LogEventBody', body)).toBe(message);
  });

  it('names the index of the bad event in a batch', () => {
    expect(validate('EventBatchBody', { events: [metric, spanStart, spanEnd, log] }).ok).toBe(true);
    expect(detail('EventBatchBody', { events: [metric, { ...metric, unit: 5 }] })).toBe('events[1].unit: expected string, got 5');
    expect(detail('EventBatchBody', { events: {} })).toBe('events: expected array, got object');
  });

  it('every corruption of a valid event is reported at the corrupted field (property)', () => {
    const fields = ['trace_id', 'span_id', 'timestamp', 'metric', 'value', 'unit', 'attributes'] as const;
    const junk = fc.constantFrom<unknown>([], { a: 1 }, true, 'not-a-time', -0.5, null);
    fc.assert(
      fc.property(fc.constantFrom(...fields), junk, (field, value) => {
        const event = { ...metric, [field]: value };
        const result = validate('LogEventBody', { event });
        if (result.ok) return true; // e.g. a string where a string is expected
        return result.error.detail.startsWith(`event.${field}`);
      }),
      { numRuns: 300 },
    );
  });

  it('accepts arbitrary valid metric events (property)', () => {
    const primitive = fc.oneof(fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
    const event = fc.record({
      type: fc.constant('metric'),
      trace_id: fc.string({ minLength: 1 }),
      span_id: fc.string({ minLength: 1 }),
      timestamp: fc.integer({ min: 0, max: 4_000_000_000_000 }).map((ms) => new Date(ms).toISOString()),
      metric: fc.string({ minLength: 1 }),
      value: fc.double({ noNaN: true, noDefaultInfinity: true }),
      unit: fc.string(),
      attributes: fc.dictionary(fc.string(), primitive),
    });
    fc.assert(fc.property(event, (e) => validate('LogEventBody', { event: e }).ok), { numRuns: 500 });
  });
});

describe('series batches', () => {
  const series = { metric: 'tokens', labels: { model: 'llama', gpu: 0 }, unit: 'tokens', timestamps: [1000, 2000, 2000], values: [1, 2.5, 3] };

  it('accepts number arrays, Float64Array and little-endian float64 bytes', () => {
    const bytes = new Uint8Array(new Float64Array([1000, 2000, 2000]).buffer);
    for (const timestamps of [series.timestamps, new Float64Array(series.timestamps), bytes, [1000n, 2000n, 2000n]]) {
      const result = validate('SeriesBatchBody', { series: [{ ...series, timestamps }], ttl_seconds: 60 });
      expect(result.ok).toBe(true);
      expect(Array.from(readNumberColumn(timestamps))).toEqual([1000, 2000, 2000]);
    }
  });

  it('reads bytes that are not 8-aligned in their buffer, and copies them', () => {
    const buffer = new Uint8Array(8 * 2 + 3);
    const view = new DataView(buffer.buffer);
    view.setFloat64(3, 1.5, true);
    view.setFloat64(11, -2, true);
    const bytes = buffer.subarray(3);
    const column = readNumberColumn(bytes);
    expect(Array.from(column)).toEqual([1.5, -2]);
    buffer.fill(0);
    expect(Array.from(column)).toEqual([1.5, -2]);
    expect(numberColumnLength(bytes)).toBe(2);
  });

  it('accepts NaN values and optional per-sample trace and span ids', () => {
    const body = { series: [{ ...series, values: [Number.NaN, 1, 2], trace_ids: ['a', 'b', 'c'], span_ids: ['x', 'y', 'z'] }] };
    expect(validate('SeriesBatchBody', body).ok).toBe(true);
  });

  it.each<[string, unknown, string]>([
    ['columns of different lengths', { ...series, values: [1, 2] }, 'series[0].values: expected 3 entries (as many as timestamps), got 2'],
    ['too few trace ids', { ...series, trace_ids: ['a'] }, 'series[0].trace_ids: expected 3 entries (as many as timestamps), got 1'],
    ['timestamps out of order', { ...series, timestamps: [2000, 1000, 3000] }, 'series[0].timestamps[1]: expected timestamps in time order, got 1000 after 2000'],
    ['non-finite timestamp', { ...series, timestamps: [1, 2, Infinity] }, 'series[0].timestamps[2]: expected epoch milliseconds within ±9007199254740, got Infinity'],
    ['a string among the numbers', { ...series, values: [1, '2', 3] },
      'series[0].values: expected array of numbers, Float64Array, or bin of little-endian float64, got "2" at index 1'],
    ['bytes that are not whole float64s', { ...series, values: new Uint8Array(20) },
      'series[0].values: expected array of numbers, Float64Array, or bin of little-endian float64, got 20 bytes, not a multiple of 8'],
    ['object label value', { ...series, labels: { a: {} } }, 'series[0].labels.a: expected string, number, boolean or null, got object'],
    ['missing metric', { ...series, metric: undefined }, 'series[0].metric: expected non-empty string, got nothing'],
  ])('rejects %s', (_, entry, message) => {
    expect(detail('SeriesBatchBody', { series: [entry] })).toBe(message);
  });

  it('survives a msgpack round trip in every column encoding', () => {
    registerExactMsgpackTimestamps();
    const packr = new Packr({ moreTypes: true, useRecords: true });
    const body = { series: [{ ...series, timestamps: new Float64Array(series.timestamps), values: Buffer.from(new Float64Array(series.values).buffer) }] };
    const decoded = new Unpackr({ useRecords: true }).unpack(packr.pack(body));
    const result = validateIngest(decoded);
    expect(result.ok && result.value.kind).toBe('series');
    if (result.ok && result.value.kind === 'series') {
      expect(Array.from(readNumberColumn(result.value.body.series[0].values))).toEqual(series.values);
    }
  });
});

describe('validateIngest', () => {
  it('tells the three shapes apart by their top-level key', () => {
    const one = validateIngest({ event: metric });
    const many = validateIngest({ events: [metric] });
    const columns = validateIngest({ series: [] });
    expect(one.ok && one.value.kind).toBe('event');
    expect(many.ok && many.value.kind).toBe('batch');
    expect(columns.ok && columns.value.kind).toBe('series');
  });

  it('reports errors in the shape the body claims to be', () => {
    const result = validateIngest({ events: [{ ...metric, value: null }] });
    expect(!result.ok && result.error.detail).toBe('events[0].value: expected finite number, got null');
    const scalar = validateIngest('event');
    expect(!scalar.ok && scalar.error.detail).toBe('body: expected object, got "event"');
  });

  it('keeps msgpack timestamps to the microsecond', () => {
    registerExactMsgpackTimestamps();
    // A msgpack timestamp96 with 501587000 ns, then the rest of a metric event.
    const packed = new Packr().pack({ event: { ...metric, timestamp: new Date(0) } });
    const decoded = new Unpackr().unpack(patchTimestamp(packed)) as { event: { timestamp: Date } };
    expect(validateIngest(decoded).ok).toBe(true);
    expect(timestampToMicros(decoded.event.timestamp)).toBe(1733299710501587);
  });
});

describe('query bodies', () => {
  it('accept the seeds\' example requests and the nullable fields as null', () => {
    const seedQuery = { attribute_filters: [{ key: 'session_id', op: 'eq', value: 'dd667b87' }], limit: 100, offset: 0, order_by: ['start_time'] };
    expect(validate('QueryTracesBody', seedQuery).ok).toBe(true);
    expect(validate('QueryTracesBody', {}).ok).toBe(true);
    expect(validate('QueryTracesBody', { attribute_filters: null, limit: null, offset: null, order_by: null }).ok).toBe(true);
    expect(validate('QueryTracesBody', { order_by: ['-start_time', 'trace_id', '-end_time', 'root_span_id'] }).ok).toBe(true);
    expect(validate('LegacyGetSpanTreeBody', { span_id: '6cceb4b48a156913', max_depth: 2, attributes_to_return: ['input'] }).ok).toBe(true);
    expect(validate('GetSpanTreeBody', { attributes_to_return: null, max_depth: null }).ok).toBe(true);
    expect(validate('QuerySpansBody', { attribute_filters: [], attributes_to_return: [] }).ok).toBe(true);
    expect(validate('SaveSpansToDatasetBody', { attribute_filters: [], attributes_to_save: ['input'], dataset_id: 'evals.v1_x-2' }).ok).toBe(true);
    expect(validate('QueryMetricsBody', { start_time: 1733299710 }).ok).toBe(true);
    for (const granularity of ['1s', '15m', '2h', '1d', '1w', '', null]) {
      expect(validate('QueryMetricsBody', { start_time: 0, end_time: null, granularity, query_type: 'instant' }).ok).toBe(true);
    }
    expect(validate('QueryMetricsBody', { start_time: 0, label_matchers: [{ name: 'model', value: 'l.*' , operator: '=~' }, { name: 'a', value: 'b' }] }).ok).toBe(true);
  });

  it('accept any JSON value in a condition', () => {
    for (const value of ['x', 1, true, null, [1], { a: 1 }]) {
      expect(validate('QueryCondition', { key: 'k', op: 'gt', value }).ok).toBe(true);
    }
  });

  it.each<[SchemaName, unknown, string]>([
    ['QueryTracesBody', { limit: -1 }, 'limit: expected integer >= 0, got -1'],
    ['QueryTracesBody', { offset: 1.5 }, 'offset: expected integer >= 0, got 1.5'],
    ['QueryTracesBody', { order_by: ['foo'] },
      'order_by[0]: unknown field "foo", expected one of trace_id, root_span_id, start_time, end_time (prefix "-" for descending)'],
    ['QueryTracesBody', { order_by: ['start_time', '--end_time'] },
      'order_by[1]: unknown field "--end_time", expected one of trace_id, root_span_id, start_time, end_time (prefix "-" for descending)'],
    ['QueryTracesBody', { order_by: 'start_time' }, 'order_by: expected array or null, got "start_time"'],
    ['QueryTracesBody', { attribute_filters: [{ key: 'a', op: 'ge', value: 1 }] }, 'attribute_filters[0].op: expected one of "eq", "ne", "gt", "lt", got "ge"'],
    ['QueryTracesBody', { attribute_filters: [{ key: 'a', op: 'eq' }] }, 'attribute_filters[0].value: missing, expected any value'],
    ['GetSpanTreeBody', { max_depth: 0 }, 'max_depth: expected integer >= 1, got 0'],
    ['GetSpanTreeBody', { attributes_to_return: [1] }, 'attributes_to_return[0]: expected string, got 1'],
    ['LegacyGetSpanTreeBody', {}, 'span_id: missing, expected non-empty string'],
    ['QuerySpansBody', { attribute_filters: [] }, 'attributes_to_return: missing, expected array'],
    ['QuerySpansBody', { attribute_filters: null, attributes_to_return: [] }, 'attribute_filters: expected array, got null'],
    ['SaveSpansToDatasetBody', { attribute_filters: [], attributes_to_save: [], dataset_id: '..' },
      'dataset_id: expected 1-128 characters of A-Z a-z 0-9 . _ - (and not "." or ".."), got ".."'],
    ['SaveSpansToDatasetBody', { attribute_filters: [], attributes_to_save: [], dataset_id: 'a/b' },
      'dataset_id: expected 1-128 characters of A-Z a-z 0-9 . _ - (and not "." or ".."), got "a/b"'],
    ['SaveSpansToDatasetBody', { attribute_filters: [], attributes_to_save: [], dataset_id: 'x'.repeat(129) },
      `dataset_id: expected 1-128 characters of A-Z a-z 0-9 . _ - (and not "." or ".."), got "${'x'.repeat(60)}…"`],
    ['QueryMetricsBody', {}, 'start_time: missing, expected integer'],
    ['QueryMetricsBody', { start_time: '2024-01-01' }, 'start_time: expected integer, got "2024-01-01"'],
    ['QueryMetricsBody', { start_time: 0, granularity: '0d' }, 'granularity: expected a duration Ns, Nm, Nh, Nd or Nw (e.g. "5m"), "" or null, got "0d"'],
    ['QueryMetricsBody', { start_time: 0, granularity: '1y' }, 'granularity: expected a duration Ns, Nm, Nh, Nd or Nw (e.g. "5m"), "" or null, got "1y"'],
    ['QueryMetricsBody', { start_time: 0, query_type: 'range_vector' }, 'query_type: expected one of "range", "instant", got "range_vector"'],
    ['QueryMetricsBody', { start_time: 0, query_type: null }, 'query_type: expected one of "range", "instant", got null'],
    ['QueryMetricsBody', { start_time: 0, label_matchers: [{ name: 'a', value: 'b', operator: '~=' }] },
      'label_matchers[0].operator: expected one of "=", "!=", "=~", "!~", got "~="'],
    ['QueryMetricsBody', { start_time: 0, label_matchers: [{ name: 'a' }] }, 'label_matchers[0].value: missing, expected string'],
  ])('%s rejects %j', (name, body, message) => {
    expect(detail(name, body)).toBe(message);
  });
});

describe('response schemas', () => {
  it('describe what the server sends', () => {
    const span = { span_id: 's', trace_id: 't', name: 'n', start_time: '2024-12-04T08:08:30.501587Z', attributes: { input: null } };
    expect(validate('Span', span).ok).toBe(true);
    expect(validate('SpanWithStatus', { ...span, end_time: '2024-12-04T08:08:36.026463Z', status: 'error' }).ok).toBe(true);
    expect(validate('QuerySpanTreeResponse', { data: { s: { ...span, status: 'ok' } } }).ok).toBe(true);
    expect(validate('SpanWithChildren', { ...span, status: 'ok', children: [{ ...span, children: [] }] }).ok).toBe(true);
    expect(validate('Trace', { trace_id: 't', root_span_id: 's', start_time: '2024-12-04T08:08:30.501587Z' }).ok).toBe(true);
    expect(validate('QueryMetricsResponse', {
      data: [{ metric: 'm', labels: [{ name: 'a', value: 'b' }], values: [{ timestamp: 1733299200, value: 3, unit: 'tokens' }] }],
    }).ok).toBe(true);
    expect(validate('IterRowsResponse', { data: [{ a: 1 }], has_more: false }).ok).toBe(true);
    expect(validate('ErrorResponse', { error: { detail: 'x' } }).ok).toBe(true);
    expect(detail('Trace', { trace_id: 't', root_span_id: 's', start_time: 'yesterday' })).toBe('start_time: expected ISO 8601 timestamp string, got "yesterday"');
    expect(detail('SpanWithChildren', { ...span, children: [{ ...span }] })).toBe('children[0].children: missing, expected array');
  });
});

describe('parseBody and fieldPath', () => {
  it('parseBody returns the typed value or throws the 400', () => {
    expect(parseBody('QueryTracesBody', { limit: 5 }).limit).toBe(5);
    expect(() => parseBody('QueryTracesBody', { limit: 'x' })).toThrow(ApiError);
    try {
      parseBody('QueryTracesBody', { limit: 'x' });
    } catch (e) {
      expect((e as ApiError).status).toBe(400);
      expect((e as ApiError).detail).toBe('limit: expected integer >= 0 or null, got "x"');
    }
  });

  it('writes JSON pointers as paths a user reads', () => {
    expect(fieldPath('')).toBe('body');
    expect(fieldPath('/events/12/payload/status')).toBe('events[12].payload.status');
    expect(fieldPath('/attributes/a~1b~0c')).toBe('attributes["a/b~c"]');
    expect(fieldPath('/attributes/with space')).toBe('attributes["with space"]');
  });
});

/** Replaces the timestamp64 of `new Date(0)` (d6 ff 00000000: timestamp32) with a timestamp96 of 1733299710.501587 s. */
function patchTimestamp(packed: Uint8Array): Uint8Array {
  const bytes = Array.from(packed);
  const at = bytes.findIndex((b, i) => b === 0xd6 && bytes[i + 1] === 0xff);
  const ts96 = [0xc7, 12, 0xff, ...be32(501_587_000), ...be32(0), ...be32(1733299710)];
  return Uint8Array.from([...bytes.slice(0, at), ...ts96, ...bytes.slice(at + 6)]);
}

function be32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}
