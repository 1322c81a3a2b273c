/**
 * The fast paths of the telemetry queries (issue 4 benchmark work) against the plain ones they
 * replace: cached timestamp formatting, top-k page selection, wire spans read straight from the
 * index, and span trees over parent links that form a cycle.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SpanIndex, type TraceSummary } from '../../src/index/spans.ts';
import { Store } from '../../src/store.ts';
import { formatTime, wireSpan, wireSpanAt } from '../../src/telemetry/format.ts';
import { bucketSums, sparseBucketSums } from '../../src/telemetry/metrics.ts';
import { getNestedSpanTree, getSpanTree, querySpans } from '../../src/telemetry/span-tree.ts';
import { formatMicros } from '../../src/telemetry/time.ts';
import { firstSorted, nthSmallest, queryTraces, traceComparator } from '../../src/telemetry/traces.ts';

const T0 = 1_733_299_710_000_000;
const FAR = Number.MAX_SAFE_INTEGER;

describe('formatTime', () => {
  it('formats exactly as formatMicros, cache hits and collisions alike', () => {
    const micros = fc.oneof(
      fc.integer({ min: -10_000_000, max: 10_000_000 }).map((d) => T0 + d),
      fc.maxSafeInteger(),
      fc.constantFrom(0, -0, -1, 1, 999_999, -1_000_000, -999_999, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
    );
    fc.assert(fc.property(fc.array(micros, { minLength: 1, maxLength: 50 }), (xs) => {
      for (const x of [...xs, ...xs]) expect(formatTime(x)).toBe(formatMicros(x));
    }), { numRuns: 500 });
  });

  it('rejects what formatMicros rejects', () => {
    for (const bad of [NaN, 1.5, 2 ** 53, -Infinity]) expect(() => formatTime(bad)).toThrow(RangeError);
  });
});

describe('firstSorted (a page without sorting every trace)', () => {
  const summary = fc.record({
    traceId: fc.string({ minLength: 1, maxLength: 3 }), rootSpanId: fc.constantFrom('a', 'b', 'c'),
    start: fc.integer({ min: 0, max: 5 }), end: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
  });
  const orderBy = fc.subarray(['trace_id', '-trace_id', 'root_span_id', '-root_span_id', 'start_time', '-start_time', 'end_time', '-end_time']);

  it('equals sort + slice, for any order_by and page size', () => {
    fc.assert(fc.property(fc.uniqueArray(summary, { selector: (s) => s.traceId, maxLength: 200 }), orderBy, fc.nat(60), (items, order, k) => {
      const compare = traceComparator(order.length ? order : ['-start_time']);
      const expected = [...items].sort(compare).slice(0, k);
      expect(firstSorted([...items] as TraceSummary[], compare, k)).toEqual(expected);
    }), { numRuns: 500 });
  });

  it('pages through many traces as a full sort would, in both directions', () => {
    const store = new Store({ clock: () => T0 });
    const events = [];
    for (let t = 0; t < 500; t++) {
      // Starts collide (t % 37) so that ties fall to trace_id; arrival order is scrambled.
      const id = `t${(t * 7919) % 500}`;
      events.push({ kind: 'span_start' as const, traceId: id, spanId: `${id}-root`, ts: T0 - 1000 * (t % 37), name: 'n' });
    }
    store.apply({ ttlSeconds: 3600, events, series: [] });
    const all = queryTraces(store, { limit: 1000 });
    expect(all).toHaveLength(500);
    for (const [offset, limit] of [[0, 10], [10, 10], [95, 20], [490, 100], [0, 100]]) {
      expect(queryTraces(store, { limit, offset })).toEqual(all.slice(offset, offset + limit));
    }
    const ascending = queryTraces(store, { limit: 1000, order_by: ['start_time'] });
    expect(queryTraces(store, { limit: 7, offset: 3, order_by: ['start_time'] })).toEqual(ascending.slice(3, 10));
  });
});

describe('query_traces pages', () => {
  it('nthSmallest finds what a numeric sort puts at n', () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constant(Infinity), fc.constant(-Infinity)), { minLength: 1, maxLength: 300 }), fc.nat(), (xs, i) => {
      const n = i % xs.length;
      expect(nthSmallest(Float64Array.from(xs), n)).toBe([...xs].sort((a, b) => a - b)[n]);
    }), { numRuns: 500 });
  });

  it('equal a slice of the fully sorted list for every order_by, open traces included', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ start: fc.integer({ min: 0, max: 20 }), end: fc.option(fc.integer({ min: 21, max: 30 }), { nil: undefined }) }), { minLength: 1, maxLength: 120 }),
      fc.subarray(['start_time', '-start_time', 'end_time', '-end_time', 'trace_id', '-root_span_id'], { minLength: 1 }),
      fc.nat(40), fc.integer({ min: 1, max: 30 }),
      (traces, orderBy, offset, limit) => {
        const store = new Store({ clock: () => T0 });
        const events = traces.flatMap((t, i) => [
          { kind: 'span_start' as const, traceId: `t${i}`, spanId: `s${i}`, ts: T0 + t.start, name: 'n' },
          ...(t.end === undefined ? [] : [{ kind: 'span_end' as const, traceId: `t${i}`, spanId: `s${i}`, ts: T0 + t.end, status: 'ok' as const }]),
        ]);
        store.apply({ ttlSeconds: 3600, events, series: [] });
        const all = queryTraces(store, { limit: 10_000, order_by: orderBy });
        expect(all).toHaveLength(traces.length);
        expect(queryTraces(store, { limit, offset, order_by: orderBy })).toEqual(all.slice(offset, offset + limit));
      },
    ), { numRuns: 300 });
  });
});

describe('wireSpanAt', () => {
  it('builds the same wire span, field order included, as wireSpan of a view', () => {
    const value = fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.boolean(), fc.constant(null));
    fc.assert(fc.property(
      fc.dictionary(fc.constantFrom('a', 'b', 'session_id', 'input'), value),
      fc.option(fc.constantFrom('p', ''), { nil: undefined }),
      fc.option(fc.record({ ts: fc.integer({ min: 0, max: 10 ** 9 }), status: fc.constantFrom('ok' as const, 'error' as const) }), { nil: undefined }),
      fc.option(fc.subarray(['a', 'b', 'missing']), { nil: undefined }),
      fc.boolean(),
      (attributes, parentSpanId, end, keys, withStatus) => {
        const idx = new SpanIndex();
        idx.addStart({ traceId: 't', spanId: 's', parentSpanId, name: 'op', ts: T0, expiry: FAR, attributes });
        if (end) idx.addEnd({ traceId: 't', spanId: 's', ts: T0 + end.ts, expiry: FAR, status: end.status });
        const slot = idx.find('s', 0) as number;
        expect(JSON.stringify(wireSpanAt(idx, slot, keys, withStatus))).toBe(JSON.stringify(wireSpan(idx.view(slot), keys, withStatus)));
      },
    ), { numRuns: 300 });
  });

  it('hands out a copy of the attributes, never the index’s own object', () => {
    const idx = new SpanIndex();
    idx.addStart({ traceId: 't', spanId: 's', name: 'op', ts: T0, expiry: FAR, attributes: { a: 1 } });
    const wire = wireSpanAt(idx, idx.find('s', 0) as number);
    (wire.attributes as Record<string, unknown>).a = 2;
    expect(idx.view(idx.find('s', 0) as number).attributes).toEqual({ a: 1 });
  });
});

describe('span trees over parent links that form a cycle', () => {
  const store = new Store({ clock: () => T0 });
  const start = (spanId: string, parentSpanId: string | undefined, ts: number, attributes = {}) =>
    ({ kind: 'span_start' as const, traceId: 'cyc', spanId, parentSpanId, name: spanId, ts, attributes });
  store.apply({
    ttlSeconds: 3600, series: [],
    events: [start('root', undefined, T0, { session_id: 'S', k: 1 }), start('self', 'self', T0 + 1, { k: 1 }), start('x', 'y', T0 + 2, { k: 1 }), start('y', 'x', T0 + 3, { k: 1 }), start('z', 'y', T0 + 4)],
  });

  it('get_span_tree lists each span once and ends', () => {
    expect(Object.keys(getSpanTree(store, 'self', {}))).toEqual(['self']);
    expect(Object.keys(getSpanTree(store, 'x', {}))).toEqual(['x', 'y', 'z']);
  });

  it('the legacy nested tree shows each span once', () => {
    const nested = getNestedSpanTree(store, 'x', {});
    expect(nested.span_id).toBe('x');
    expect(nested.children.map((c) => c.span_id)).toEqual(['y']);
    expect(nested.children[0].children.map((c) => c.span_id)).toEqual(['z']);
    expect(getNestedSpanTree(store, 'self', {}).children).toEqual([]);
  });

  it('query_spans walks from the root as before', () => {
    expect(querySpans(store, { attribute_filters: [{ key: 'session_id', op: 'eq', value: 'S' }], attributes_to_return: ['k'] }).map((s) => s.span_id)).toEqual(['root']);
  });
});

describe('query_metrics bucket sums', () => {
  it('the dense form sums exactly as the Map form, sealed segments and head alike', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ dt: fc.integer({ min: 0, max: 7200 }), v: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), fc.constant(-0)) }), { maxLength: 80 }),
      fc.nat(80), fc.constantFrom(1, 60, 600, 3600), fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 8000 }),
      (samples, sealAt, bucketS, from, span) => {
        const base = 1_733_270_400;
        const store = new Store({ clock: () => (base + 10 * 86_400) * 1_000_000 });
        const batch = (part: typeof samples) => ({
          ttlSeconds: 86_400 * 30, series: [],
          events: part.map((x) => ({ kind: 'metric' as const, traceId: 't', spanId: 's', ts: (base + x.dt) * 1_000_000 + 123, metric: 'm', value: x.v, unit: 'u', attributes: { a: 'b' } })),
        });
        store.apply(batch(samples.slice(0, sealAt)));
        store.sealAll();
        store.apply(batch(samples.slice(sealAt)));
        const [id] = store.selectSeries([{ name: '__name__', op: '=', value: 'm' }]);
        if (id === undefined) return;
        const minTs = (base + from) * 1_000_000, maxTs = (base + from + span) * 1_000_000;
        const dense = bucketSums(store, id, minTs, maxTs, bucketS, 'u');
        const sparse = sparseBucketSums(store, id, minTs, maxTs, bucketS, 'u');
        expect(dense.map((p) => [p.timestamp, Object.is(p.value, -0) ? '-0' : p.value, p.unit])).toEqual(sparse.map((p) => [p.timestamp, Object.is(p.value, -0) ? '-0' : p.value, p.unit]));
      },
    ), { numRuns: 300 });
  });
});
