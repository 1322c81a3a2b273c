/** The shared decode path: bytes -> IngestBatch, and metric events regrouped into series. */
import { sampleIdAt } from '../../src/storage/sample-ids.ts';
import fc from 'fast-check';
import { Packr, pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/store.ts';
import type { EngineEvent } from '../../src/storage/events.ts';
import { toEngineEvent } from '../../src/telemetry/ingest.ts';
import { decodeIngestBatch } from '../../src/telemetry/msgpack-ingest.ts';
import type { Event } from '../../src/telemetry/schema.ts';

const BASE_MS = Date.now() - 3600_000;

function metricEvent(metric: string, ms: number, value: number, attributes: Record<string, string | number | boolean | null>, unit = 'u') {
  return { type: 'metric' as const, trace_id: 't', span_id: `s${ms}`, timestamp: BASE_MS + ms, metric, value, unit, attributes };
}

/** Every live sample in the store, by series labels, as [µs, value, trace code?] in time order. */
function dump(store: Store): Record<string, [number, number][]> {
  const out: Record<string, [number, number][]> = {};
  for (let id = 0; id < store.series.size; id++) {
    const info = store.series.info(id);
    if (!info) continue;
    const key = JSON.stringify([info.labels, info.unit]);
    const rows: [number, number][] = (out[key] ??= []);
    store.visitSeries(id, -Infinity, Infinity, (ts, values, lo, hi) => {
      for (let i = lo; i < hi; i++) rows.push([ts[i]!, values[i]!]);
    });
  }
  return out;
}

describe('metric events regrouped into series', () => {
  it('groups by metric + labels + unit, keeping arrival order within each series', () => {
    const events = [
      metricEvent('a', 3, 1, { x: 1 }), metricEvent('a', 1, 2, { x: '1' }), metricEvent('b', 2, 3, { x: 1 }),
      metricEvent('a', 2, 4, { x: 1, __hidden: 'no', gone: null }), metricEvent('a', 4, 5, { x: 1 }, 'other'),
    ];
    // JSON takes the general path, whose grouping is by label values (msgpack's fast path groups by bytes).
    const batch = decodeIngestBatch(new TextEncoder().encode(JSON.stringify({ events })), 'json');
    expect(batch.events).toEqual([]);
    expect(batch.series.map((s) => [s.metric, s.labels, s.unit, [...s.values], s.ids && Array.from(s.values, (_, i) => sampleIdAt(s.ids!, i).spanId)])).toEqual([
      ['a', { x: '1' }, 'u', [1, 2, 4], ['s3', 's1', 's2']],
      ['b', { x: '1' }, 'u', [3], ['s2']],
      ['a', { x: '1' }, 'other', [5], ['s4']],
    ]);
    expect([...batch.series[0]!.timestamps]).toEqual([3, 1, 2].map((ms) => (BASE_MS + ms) * 1000));
  });

  it('keeps label sets apart that a naive separator would merge', () => {
    const body = { events: [metricEvent('m', 1, 1, { a: 'x\xffb\xffy' }), metricEvent('m', 2, 2, { a: 'x', b: 'y' })] };
    const batch = decodeIngestBatch(new TextEncoder().encode(JSON.stringify(body)), 'json');
    expect(batch.series).toHaveLength(2);
  });

  it('applies exactly as the same events applied one by one (property)', () => {
    const event = fc.record({
      metric: fc.constantFrom('m1', 'm2'),
      ms: fc.integer({ min: 0, max: 100_000 }),
      value: fc.double({ noNaN: true, noDefaultInfinity: true }),
      attributes: fc.dictionary(fc.constantFrom('a', 'b', 'c', '__x'), fc.oneof(fc.constantFrom('p', 'q'), fc.integer({ min: 0, max: 2 }), fc.constant(null))),
    });
    fc.assert(fc.property(fc.array(event, { maxLength: 60 }), (generated) => {
      // msgpack writes -0 as the integer 0, so compare values the wire can carry.
      const events = generated.map((e) => metricEvent(e.metric, e.ms, e.value === 0 ? 0 : e.value, e.attributes));
      const grouped = new Store();
      grouped.apply(decodeIngestBatch(pack({ events }), 'msgpack'));
      const oneByOne = new Store();
      const engineEvents: EngineEvent[] = events.map((e, i) => toEngineEvent(e as Event, `events[${i}]`));
      oneByOne.apply({ ttlSeconds: 604800, events: engineEvents, series: [] });
      expect(dump(grouped)).toEqual(dump(oneByOne));
    }), { numRuns: 150 });
  });
});

describe('decodeIngestBatch', () => {
  it('reads every series column encoding to the same µs timestamps and values', () => {
    const ms = [BASE_MS, BASE_MS + 1.5, BASE_MS + 2000];
    const values = [0.1, -2, Number.NaN];
    const le = (xs: number[]) => Buffer.from(new Float64Array(xs).buffer);
    const encodings = [
      pack({ series: [{ metric: 'm', labels: {}, timestamps: ms, values }] }),
      new Packr({ moreTypes: true }).pack({ series: [{ metric: 'm', labels: {}, timestamps: new Float64Array(ms), values: new Float64Array(values) }] }),
      pack({ series: [{ metric: 'm', labels: {}, timestamps: le(ms), values: le(values) }] }),
      new Packr({ useRecords: true, moreTypes: true }).pack({ series: [{ metric: 'm', labels: {}, timestamps: new Float64Array(ms), values: le(values) }] }),
    ];
    for (const bytes of encodings) {
      const [entry] = decodeIngestBatch(bytes, 'msgpack').series;
      expect([...entry!.timestamps]).toEqual(ms.map((t) => Math.round(t * 1000)));
      expect([...entry!.values]).toEqual(values);
    }
  });

  it('owns what it returns: the input buffer can be reused right after', () => {
    const bytes = pack({ series: [{ metric: 'm', labels: {}, timestamps: Buffer.from(new Float64Array([BASE_MS]).buffer), values: Buffer.from(new Float64Array([7]).buffer) }] });
    const batch = decodeIngestBatch(bytes, 'msgpack');
    bytes.fill(0);
    expect([...batch.series[0]!.values]).toEqual([7]);
    expect([...batch.series[0]!.timestamps]).toEqual([BASE_MS * 1000]);
  });

  it('refuses a JSON key named __proto__ (it would become a prototype, not a label), and still takes the string', () => {
    const event = (attributes: string) => new TextEncoder().encode(`{"event": {"type": "metric", "trace_id": "t", "span_id": "s", "timestamp": "2026-11-22T00:00:00Z", "metric": "m", "value": 1, "unit": "", "attributes": ${attributes}}}`);
    expect(() => decodeIngestBatch(event('{"__proto__": "x"}'), 'json')).toThrow(/keys named "__proto__" are not accepted/);
    const batch = decodeIngestBatch(event('{"note": "__proto__"}'), 'json');
    expect(batch.series[0].labels).toEqual({ note: '__proto__' });
  });

  it('keeps spans and logs as events, in order', () => {
    const events = [
      { type: 'structured_log', trace_id: 't', span_id: 's', timestamp: BASE_MS, payload: { type: 'span_start', name: 'op' } },
      metricEvent('m', 1, 1, {}),
      { type: 'unstructured_log', trace_id: 't', span_id: 's', timestamp: BASE_MS, message: 'hi', severity: 'warn' },
    ];
    const batch = decodeIngestBatch(new TextEncoder().encode(JSON.stringify({ events, ttl_seconds: 60 })), 'json');
    expect(batch.ttlSeconds).toBe(60);
    expect(batch.events.map((e) => e.kind)).toEqual(['span_start', 'log']);
    expect(batch.series).toHaveLength(1);
  });
});
