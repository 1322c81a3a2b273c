import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch } from '../../src/storage/batch-codec.ts';
import type { EngineEvent, IngestBatch, SeriesEntry } from '../../src/storage/events.ts';

/** Attribute numbers: -0 becomes 0, as in the JSON the span and log tables keep attributes in. */
const primitive = fc.oneof(fc.string(), fc.double().map((x) => x + 0), fc.boolean(), fc.constant(null), fc.integer());
// msgpackr drops `__proto__` keys when decoding (its prototype-pollution guard), so such a key
// does not survive the WAL: a known gap listed in the README, kept out of the generator.
const key = (maxLength?: number) => fc.string({ minLength: 1, maxLength }).filter((k) => k !== '__proto__');
const attributes = fc.option(fc.dictionary(key(8), primitive, { maxKeys: 4 }), { nil: undefined });
const micros = fc.integer({ min: 0, max: 2 ** 52 });
const base = { traceId: fc.string(), spanId: fc.string(), ts: micros, attributes };

const event: fc.Arbitrary<EngineEvent> = fc.oneof(
  fc.record({ kind: fc.constant('metric' as const), ...base, metric: fc.string(), value: fc.double(), unit: fc.string() }, { requiredKeys: ['kind', 'traceId', 'spanId', 'ts', 'metric', 'value', 'unit'] }),
  fc.record({ kind: fc.constant('log' as const), ...base, message: fc.string(), severity: fc.constantFrom('info', 'warn', 'error') }, { requiredKeys: ['kind', 'traceId', 'spanId', 'ts', 'message', 'severity'] }),
  fc.record({ kind: fc.constant('span_start' as const), ...base, name: fc.string(), parentSpanId: fc.string() }, { requiredKeys: ['kind', 'traceId', 'spanId', 'ts', 'name'] }),
  fc.record({ kind: fc.constant('span_end' as const), ...base, status: fc.constantFrom('ok' as const, 'error' as const) }, { requiredKeys: ['kind', 'traceId', 'spanId', 'ts', 'status'] }),
);

const series: fc.Arbitrary<SeriesEntry> = fc.integer({ min: 0, max: 20 }).chain((n) => fc.record({
  metric: fc.string(),
  labels: fc.dictionary(key(), fc.string(), { maxKeys: 3 }),
  unit: fc.option(fc.string(), { nil: undefined }),
  timestamps: fc.array(micros, { minLength: n, maxLength: n }).map((a) => Float64Array.from(a)),
  values: fc.array(fc.double(), { minLength: n, maxLength: n }).map((a) => Float64Array.from(a)),
  traceIds: fc.option(fc.array(fc.option(fc.string(), { nil: null }), { minLength: n, maxLength: n }), { nil: undefined }),
  spanIds: fc.option(fc.array(fc.option(fc.string(), { nil: null }), { minLength: n, maxLength: n }), { nil: undefined }),
}, { requiredKeys: ['metric', 'labels', 'timestamps', 'values'] }));

const batch: fc.Arbitrary<IngestBatch> = fc.record({
  ttlSeconds: fc.integer({ min: 1, max: 10 ** 9 }),
  events: fc.array(event, { maxLength: 12 }),
  series: fc.array(series, { maxLength: 4 }),
});

/** Float64 bit patterns, so -0 vs 0 and NaN payloads count as differences. */
function bits(a: Float64Array | number): string {
  const f = typeof a === 'number' ? Float64Array.of(a) : a;
  return Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('hex');
}

describe('batch codec', () => {
  it('round-trips any batch exactly', () => {
    fc.assert(fc.property(batch, (b) => {
      const back = decodeBatch(encodeBatch(b));
      expect(back).toEqual(b);
      back.events.forEach((e, i) => {
        expect(bits(e.ts)).toBe(bits(b.events[i].ts));
        if (e.kind === 'metric') expect(bits(e.value)).toBe(bits((b.events[i] as typeof e).value));
      });
      back.series.forEach((s, i) => {
        expect(s.timestamps).toBeInstanceOf(Float64Array);
        expect(bits(s.values)).toBe(bits(b.series[i].values));
      });
    }), { numRuns: 300 });
  });

  it('decodes every message on its own, with a fresh decoder state (WAL replay after a crash)', () => {
    const messages = [0, 1, 2].map((i) => encodeBatch({ ttlSeconds: 60, series: [], events: [
      { kind: 'metric', traceId: 't', spanId: 's', ts: i, metric: 'm', value: i, unit: '' },
    ] }));
    expect(decodeBatch(messages[2]).events[0]).toMatchObject({ ts: 2, value: 2 });
  });

  it('encodes typed-array views by their own bytes and decodes into arrays it owns', () => {
    const big = new Float64Array([9, 1, 2, 3, 9]);
    const b: IngestBatch = { ttlSeconds: 1, events: [], series: [{ metric: 'm', labels: {}, timestamps: big.subarray(1, 4), values: big.subarray(1, 4) }] };
    const bytes = encodeBatch(b);
    const back = decodeBatch(bytes);
    expect(Array.from(back.series[0].timestamps)).toEqual([1, 2, 3]);
    expect(back.series[0].values.buffer).not.toBe(bytes.buffer);
  });

  it('keeps -0, NaN and infinities in metric values', () => {
    const values = [-0, NaN, Infinity, -Infinity, 5e-324];
    const b: IngestBatch = { ttlSeconds: 1, series: [], events: values.map((value, i) => ({ kind: 'metric', traceId: '', spanId: '', ts: i, metric: 'm', value, unit: '' })) };
    const back = decodeBatch(encodeBatch(b));
    expect(back.events.map((e) => bits((e as { value: number }).value))).toEqual(values.map(bits));
  });

  it('rejects bytes of another format', () => {
    expect(() => decodeBatch(new Uint8Array([0x81, 0xa1, 0x76, 0x09]))).toThrow(/format version/);
  });
});
