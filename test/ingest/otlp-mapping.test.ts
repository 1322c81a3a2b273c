/** OTLP/JSON -> engine events and series: the mapping rules, one by one. */
import { describe, expect, it } from 'vitest';
import { otlpMetricsToSeries } from '../../src/telemetry/otlp-metrics.ts';
import { otlpTracesToEvents } from '../../src/telemetry/otlp-traces.ts';
import { flattenAttributes, nanosToMicros, OtlpShapeError } from '../../src/telemetry/otlp-values.ts';

const T = '1790000000123456789';
const T_US = 1790000000123456;

describe('OTLP values', () => {
  it('flattens every AnyValue kind into primitives', () => {
    expect(flattenAttributes([
      { key: 's', value: { stringValue: 'x' } },
      { key: 'b', value: { boolValue: true } },
      { key: 'i', value: { intValue: '42' } },
      { key: 'big', value: { intValue: '9007199254740993' } },
      { key: 'd', value: { doubleValue: 1.5 } },
      { key: 'inf', value: { doubleValue: 'Infinity' } },
      { key: 'bytes', value: { bytesValue: 'AQI=' } },
      { key: 'arr', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 1 }, {}] } } },
      { key: 'kv', value: { kvlistValue: { values: [{ key: 'a', value: { stringValue: 'x' } }, { key: 'n', value: { kvlistValue: { values: [{ key: 'deep', value: { boolValue: false } }] } } }] } } },
      { key: 'empty', value: {} },
    ], 'attributes')).toEqual({
      s: 'x', b: true, i: 42, big: '9007199254740993', d: 1.5, inf: Infinity, bytes: 'AQI=', arr: '["a",1,null]', 'kv.a': 'x', 'kv.n.deep': false,
    });
  });

  it('reads nanosecond times as decimal strings, numbers and protobufjs longs, to µs', () => {
    expect(nanosToMicros(T, 't')).toBe(T_US);
    expect(nanosToMicros(1_000_000_999, 't')).toBe(1_000_000);
    const n = BigInt(T);
    expect(nanosToMicros({ low: Number(n & 0xffffffffn) | 0, high: Number(n >> 32n) }, 't')).toBe(T_US);
    expect(() => nanosToMicros('12:00', 'span.startTimeUnixNano')).toThrow(OtlpShapeError);
  });
});

describe('OTLP traces', () => {
  const span = {
    traceId: '0AF7651916CD43DD8448EB211C80319C', spanId: 'B7AD6B7169203331', parentSpanId: '',
    name: 'op', kind: 2, startTimeUnixNano: T, endTimeUnixNano: '1790000001000000000',
    attributes: [{ key: 'service.name', value: { stringValue: 'overridden' } }, { key: 'k', value: { intValue: 1 } }],
    events: [
      { timeUnixNano: T, name: 'exception', attributes: [{ key: 'exception.message', value: { stringValue: 'boom' } }] },
      { timeUnixNano: T, name: 'note' },
    ],
    status: { code: 'STATUS_CODE_ERROR', message: 'boom' },
  };
  const request = { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }, { key: 'host', value: { stringValue: 'h1' } }] }, scopeSpans: [{ scope: { name: 'lib' }, spans: [span] }] }] };

  it('maps a span to start, logs and end, with lower-cased ids and span attributes over resource attributes', () => {
    const { items, rejected } = otlpTracesToEvents(request);
    expect(rejected).toBe(0);
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const spanId = 'b7ad6b7169203331';
    expect(items).toEqual([
      { kind: 'span_start', traceId, spanId, ts: T_US, name: 'op', parentSpanId: undefined, attributes: { 'service.name': 'overridden', host: 'h1', k: 1 } },
      { kind: 'log', traceId, spanId, ts: T_US, message: 'exception', severity: 'error', attributes: { 'exception.message': 'boom' } },
      { kind: 'log', traceId, spanId, ts: T_US, message: 'note', severity: 'info', attributes: undefined },
      { kind: 'span_end', traceId, spanId, ts: 1790000001000000, status: 'error' },
    ]);
  });

  it('reads status codes as numbers too, and leaves a span without end time open', () => {
    const open = { ...span, endTimeUnixNano: undefined, events: [], status: { code: 1 } };
    const ok = { ...span, spanId: 'c'.repeat(16), status: { code: 1 }, events: [] };
    const { items } = otlpTracesToEvents({ resourceSpans: [{ scopeSpans: [{ spans: [open, ok] }] }] });
    expect(items.map((e) => e.kind)).toEqual(['span_start', 'span_start', 'span_end']);
    expect(items[2]).toMatchObject({ status: 'ok' });
  });

  it('rejects a bad span alone, and the first reason is kept', () => {
    const { items, rejected, firstProblem } = otlpTracesToEvents({ resourceSpans: [{ scopeSpans: [{ spans: [{ ...span, traceId: 'short' }, span, { ...span, startTimeUnixNano: null }] }] }] });
    expect(rejected).toBe(2);
    expect(firstProblem).toBe('resourceSpans[0].scopeSpans[0].spans[0].traceId: expected 32 hex digits, got "short"');
    expect(items.filter((e) => e.kind === 'span_start')).toHaveLength(1);
  });

  it('throws on a malformed envelope', () => {
    expect(() => otlpTracesToEvents([])).toThrow('body: expected an object, got array');
    expect(() => otlpTracesToEvents({ resourceSpans: [{ scopeSpans: {} }] })).toThrow('resourceSpans[0].scopeSpans: expected an array');
  });
});

describe('OTLP metrics', () => {
  const point = (extra: object) => ({ attributes: [{ key: 'route', value: { stringValue: '/chat' } }], timeUnixNano: T, ...extra });
  const request = (metrics: object[]) => ({
    resourceMetrics: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] }, scopeMetrics: [{ metrics }] }],
  });
  const flat = (body: unknown) => otlpMetricsToSeries(body).items.map((s) => ({ metric: s.metric, labels: s.labels, unit: s.unit, values: [...s.values], ts: [...s.timestamps] }));

  it('maps sums and gauges (double, int64 string, omitted zero) to samples with resource labels', () => {
    expect(flat(request([
      { name: 'tokens', unit: '1', sum: { dataPoints: [point({ asInt: '12' }), point({ asDouble: 0.5, timeUnixNano: '1790000001000000000' })], isMonotonic: true, aggregationTemporality: 2 } },
      { name: 'depth', gauge: { dataPoints: [point({})] } },
    ]))).toEqual([
      { metric: 'tokens', labels: { 'service.name': 'svc', route: '/chat' }, unit: '1', values: [12, 0.5], ts: [T_US, 1790000001000000] },
      { metric: 'depth', labels: { 'service.name': 'svc', route: '/chat' }, unit: '', values: [0], ts: [T_US] },
    ]);
  });

  it('maps a histogram to cumulative buckets ending at +Inf, _sum and _count', () => {
    const series = flat(request([{ name: 'latency', unit: 'ms', histogram: { dataPoints: [point({ count: '4', sum: 605, bucketCounts: ['1', '2', '1'], explicitBounds: [10, 100.5] })] } }]));
    expect(series.map((s) => [s.metric, s.labels.le ?? '', s.values[0]])).toEqual([
      ['latency_bucket', '10', 1], ['latency_bucket', '100.5', 3], ['latency_bucket', '+Inf', 4], ['latency_sum', '', 605], ['latency_count', '', 4],
    ]);
  });

  it('maps a summary to quantile series, _sum and _count', () => {
    const series = flat(request([{ name: 'rt', summary: { dataPoints: [point({ count: 2, sum: 3, quantileValues: [{ quantile: 0.5, value: 1 }, { quantile: 0.99, value: 2 }] })] } }]));
    expect(series.map((s) => [s.metric, s.labels.quantile ?? '', s.values[0]])).toEqual([['rt', '0.5', 1], ['rt', '0.99', 2], ['rt_sum', '', 3], ['rt_count', '', 2]]);
  });

  it('skips points flagged as having no value, and rejects exponential histograms and bad points, counted', () => {
    const result = otlpMetricsToSeries(request([
      { name: 'gap', gauge: { dataPoints: [point({ flags: 1, asDouble: 1 })] } },
      { name: 'exp', exponentialHistogram: { dataPoints: [point({}), point({})] } },
      { name: 'h', histogram: { dataPoints: [point({ bucketCounts: ['1'], explicitBounds: [1, 2] }), point({ count: 1, bucketCounts: [], explicitBounds: [] })] } },
      { unit: 'no name', gauge: { dataPoints: [point({})] } },
    ]));
    expect(result.rejected).toBe(4);
    expect(result.firstProblem).toBe('resourceMetrics[0].scopeMetrics[0].metrics[1]: exponential histograms are not supported');
    expect(result.items.map((s) => s.metric)).toEqual(['h_count']);
  });
});
