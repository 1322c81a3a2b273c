import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Packr } from 'msgpackr';
import { decodeBatch as decodeRecord, encodeBatch } from '../../src/storage/batch-codec.ts';
import { allSeriesEntries } from '../../src/storage/series-columns.ts';
import { sampleIdAt, sampleIdsFromStrings } from '../../src/storage/sample-ids.ts';
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

const ids = (n: number) => fc.option(fc.array(fc.option(fc.string(), { nil: null }), { minLength: n, maxLength: n }), { nil: undefined });
/** Series labels: `__proto__` included, since series-only batches use the binary layout, which keeps it. */
const seriesLabels = (withProto: boolean) => fc.dictionary(withProto ? fc.oneof(key(), fc.constant('__proto__')) : key(), fc.string(), { maxKeys: 3 });
const series = (withProto: boolean): fc.Arbitrary<SeriesEntry> => fc.integer({ min: 0, max: 20 }).chain((n) => fc.record({
  metric: fc.string(),
  labels: seriesLabels(withProto),
  unit: fc.option(fc.string(), { nil: undefined }),
  timestamps: fc.array(micros, { minLength: n, maxLength: n }).map((a) => Float64Array.from(a)),
  values: fc.array(fc.double(), { minLength: n, maxLength: n }).map((a) => Float64Array.from(a)),
  traceIds: ids(n),
  spanIds: ids(n),
}, { requiredKeys: ['metric', 'labels', 'timestamps', 'values', 'traceIds', 'spanIds'] }).map(({ traceIds, spanIds, ...entry }) => {
  const coded = sampleIdsFromStrings(n, traceIds, spanIds);
  return coded ? { ...entry, ids: coded } : entry;
}));

const batchOf = (events: fc.Arbitrary<EngineEvent[]>, withProto: boolean): fc.Arbitrary<IngestBatch> => fc.record({
  ttlSeconds: fc.integer({ min: 1, max: 10 ** 9 }),
  events,
  series: fc.array(series(withProto), { maxLength: 4 }),
});
const batch = batchOf(fc.array(event, { maxLength: 12 }), false);
const seriesBatch = batchOf(fc.constant([]), true);

/** Float64 bit patterns, so -0 vs 0 and NaN payloads count as differences. */
function bits(a: Float64Array | number): string {
  const f = typeof a === 'number' ? Float64Array.of(a) : a;
  return Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('hex');
}

/**
 * A record decoded as series entries: binary records decode to columns, where a series without
 * ids reads as all-zero codes; the entries say "no ids" for those, as the encoded batch did.
 */
function decodeBatch(bytes: Uint8Array): IngestBatch {
  const batch = decodeRecord(bytes);
  return { ttlSeconds: batch.ttlSeconds, events: batch.events, series: allSeriesEntries(batch) };
}

/** A batch with its series' id codes read as strings: what they mean, whichever dictionary holds them. */
function meaning(batch: IngestBatch) {
  return { ...batch, series: batch.series.map(({ ids, ...s }) => {
    const pairs = ids ? Array.from(s.timestamps, (_, i) => sampleIdAt(ids, i)) : [];
    return pairs.some((p) => p.traceId !== null || p.spanId !== null) ? { ...s, ids: pairs } : s;
  }) };
}

describe('batch codec', () => {
  it('round-trips any batch exactly', () => {
    fc.assert(fc.property(fc.oneof(batch, seriesBatch), (b) => {
      const back = decodeBatch(encodeBatch(b));
      expect(meaning(back)).toEqual(meaning(b));
      back.events.forEach((e, i) => {
        expect(bits(e.ts)).toBe(bits(b.events[i].ts));
        if (e.kind === 'metric') expect(bits(e.value)).toBe(bits((b.events[i] as typeof e).value));
      });
      back.series.forEach((s, i) => {
        expect(s.timestamps).toBeInstanceOf(Float64Array);
        expect(bits(s.values)).toBe(bits(b.series[i].values));
        expect(Object.keys(s.labels)).toEqual(Object.keys(b.series[i].labels));
      });
    }), { numRuns: 400 });
  });

  it('with headroom: leaves that many bytes first, then the same encoding, in a buffer of exactly that size', () => {
    fc.assert(fc.property(fc.oneof(batch, seriesBatch), fc.integer({ min: 0, max: 16 }), (b, headroom) => {
      const plain = encodeBatch(b);
      const roomy = encodeBatch(b, headroom);
      expect(Buffer.from(roomy.subarray(headroom)).equals(Buffer.from(plain))).toBe(true);
      // A buffer of its own (what a decode thread transfers): always with headroom, and for a
      // series-only batch without (a batch with events, msgpack, is a view of the packer's buffer).
      if (headroom > 0 || b.events.length === 0) {
        expect(roomy.byteOffset).toBe(0);
        expect(roomy.buffer.byteLength).toBe(roomy.byteLength);
      }
    }), { numRuns: 300 });
  });

  it('lays series-only batches out in binary, one dictionary shared by the entries that share it', () => {
    const dictionary = ['trace-a', 'span-1', 'span-2'];
    const labels = { host: 'h1' };
    const b: IngestBatch = { ttlSeconds: 60, events: [], series: [
      { metric: 'm', labels, unit: 'ms', timestamps: Float64Array.of(1, 2), values: Float64Array.of(3, -0), ids: { dictionary, trace: Uint32Array.of(1, 1), span: Uint32Array.of(2, 0) } },
      { metric: 'n', labels, timestamps: Float64Array.of(5), values: Float64Array.of(6), ids: { dictionary, trace: Uint32Array.of(0), span: Uint32Array.of(3) } },
      { metric: 'm', labels: {}, unit: '', timestamps: new Float64Array(0), values: new Float64Array(0) },
    ] };
    const bytes = encodeBatch(b);
    expect(bytes[0]).toBe(0xc1);
    // Encoded again (the label header now comes from the cache), the bytes are the same.
    expect(Buffer.from(encodeBatch(b)).equals(Buffer.from(bytes))).toBe(true);
    expect(bytes.length).toBeLessThan(2 + 8 + 4 + 4 + 3 * 12 + 4 + 3 * 40 + 3 * 16 + 3 * 8 + 3 * 4);
    const back = decodeBatch(bytes);
    expect(meaning(back)).toEqual(meaning(b));
    expect(back.series[0].ids!.dictionary).toBe(back.series[1].ids!.dictionary);
    expect(sampleIdAt(back.series[1].ids!, 0)).toEqual({ traceId: null, spanId: 'span-2' });
    expect(back.series[1].unit).toBeUndefined();
  });

  it('hands out one labels object per label set, however many batches repeat it, and copies runs of one buffer at once', () => {
    const column = Float64Array.of(1, 2, 3, 4);
    const b: IngestBatch = { ttlSeconds: 1, events: [], series: [
      { metric: 'm', labels: { host: 'same' }, timestamps: column.subarray(0, 1), values: column.subarray(0, 1) },
      { metric: 'm', labels: { host: 'other' }, timestamps: column.subarray(1, 4), values: column.subarray(1, 4) },
    ] };
    const first = decodeBatch(encodeBatch(b));
    const again = decodeBatch(encodeBatch({ ...b, series: b.series.map((s) => ({ ...s, labels: { ...s.labels } })) }));
    expect(again.series[0].labels).toBe(first.series[0].labels);
    expect(again.series[1].labels).toBe(first.series[1].labels);
    expect(Array.from(again.series[1].timestamps)).toEqual([2, 3, 4]);
    // A decoded column is one array for the batch: the series' arrays are views of it.
    expect(again.series[1].values.buffer).toBe(again.series[0].values.buffer);
  });

  it('refuses truncated or overlong binary records instead of reading past them', () => {
    const bytes = encodeBatch({ ttlSeconds: 60, events: [], series: [{ metric: 'm', labels: { a: 'b' }, timestamps: Float64Array.of(1, 2), values: Float64Array.of(3, 4) }] });
    for (const cut of [1, 9, 20, bytes.length - 1]) expect(() => decodeBatch(bytes.subarray(0, cut))).toThrow(/truncated/);
    expect(() => decodeBatch(Uint8Array.from([...bytes, 0]))).toThrow(/after the last column/);
  });

  it('reads format-1 records whose series carry id strings (WAL files of earlier versions)', () => {
    const old = new Packr({ useRecords: true, moreTypes: true }).pack({
      v: 1, ttl: 5, values: new Float64Array(0), events: [],
      series: [{ metric: 'm', labels: {}, timestamps: Float64Array.of(1, 2), values: Float64Array.of(3, 4), traceIds: ['t', null], spanIds: [null, 's'] }],
    });
    const back = decodeBatch(old);
    expect(back.series[0]).not.toHaveProperty('traceIds');
    expect([0, 1].map((i) => sampleIdAt(back.series[0].ids!, i))).toEqual([{ traceId: 't', spanId: null }, { traceId: null, spanId: 's' }]);
  });

  it('decodes every message on its own, with a fresh decoder state (WAL replay after a crash)', () => {
    const messages = [0, 1, 2].map((i) => encodeBatch({ ttlSeconds: 60, series: [], events: [
      { kind: 'metric', traceId: 't', spanId: 's', ts: i, metric: 'm', value: i, unit: '' },
    ] }));
    expect(decodeBatch(messages[2]).events[0]).toMatchObject({ ts: 2, value: 2 });
  });

  it('encodes typed-array views by their own bytes, and decodes columns in place where the message is aligned', () => {
    const big = new Float64Array([9, 1, 2, 3, 9]);
    const b: IngestBatch = { ttlSeconds: 1, events: [], series: [{ metric: 'm', labels: {}, timestamps: big.subarray(1, 4), values: big.subarray(1, 4) }] };
    const bytes = encodeBatch(b);
    const back = decodeBatch(bytes);
    expect(Array.from(back.series[0].timestamps)).toEqual([1, 2, 3]);
    // Aligned (the message at the start of its buffer): views of the message, no copy.
    expect(back.series[0].values.buffer).toBe(bytes.buffer);
    // At an odd offset: copied into arrays of their own, the same values.
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const copied = decodeBatch(shifted.subarray(1));
    expect(copied.series[0].values.buffer).not.toBe(shifted.buffer);
    expect(Array.from(copied.series[0].values)).toEqual([1, 2, 3]);
  });

  it('decodes format 2 series records (written before the padding) as before', () => {
    // magic, version 2, f64 ttl 60, no dictionaries, one series: header ('m', unit 'ms', {host: 'a'}), 2 rows, no ids; then the columns unpadded.
    const str = (t: string) => { const u = Buffer.from(t); const n = Buffer.alloc(4); n.writeUInt32LE(u.length); return Buffer.concat([n, u]); };
    const u32 = (v: number) => { const n = Buffer.alloc(4); n.writeUInt32LE(v); return n; };
    const f64 = (...v: number[]) => Buffer.from(Float64Array.from(v).buffer);
    const header = Buffer.concat([str('m'), str('ms'), Buffer.of(1), u32(1), str('host'), str('a')]);
    const v2 = Buffer.concat([Buffer.of(0xc1, 2), f64(60), u32(0), u32(1), u32(header.length), header, u32(2), u32(0), f64(1000, 2000), f64(0.5, -0)]);
    const back = decodeBatch(new Uint8Array(v2));
    expect(back.ttlSeconds).toBe(60);
    expect(back.series).toHaveLength(1);
    expect({ ...back.series[0], timestamps: Array.from(back.series[0].timestamps), values: Array.from(back.series[0].values, bits) })
      .toEqual({ metric: 'm', unit: 'ms', labels: { host: 'a' }, timestamps: [1000, 2000], values: [bits(0.5), bits(-0)] });
  });

  it('keeps -0, NaN and infinities in metric values', () => {
    const values = [-0, NaN, Infinity, -Infinity, 5e-324];
    const b: IngestBatch = { ttlSeconds: 1, series: [], events: values.map((value, i) => ({ kind: 'metric', traceId: '', spanId: '', ts: i, metric: 'm', value, unit: '' })) };
    const back = decodeBatch(encodeBatch(b));
    expect(back.events.map((e) => bits((e as { value: number }).value))).toEqual(values.map(bits));
  });

  it('encodes a series entry\'s own fields only, not what consumers remembered on it (memo fields may point at the whole store)', () => {
    const store: Record<string, unknown> = {};
    store.self = store;
    const entry = { metric: 'm', labels: { a: '1' }, timestamps: Float64Array.of(1), values: Float64Array.of(2), labelsCheckedBy: store, seriesMemo: { registry: store } };
    const b: IngestBatch = { ttlSeconds: 1, series: [entry], events: [{ kind: 'log', traceId: 't', spanId: 's', ts: 1, severity: 'info', message: 'x' }] };
    const back = decodeBatch(encodeBatch(b));
    expect(back.series).toEqual([{ metric: 'm', labels: { a: '1' }, timestamps: Float64Array.of(1), values: Float64Array.of(2) }]);
  });

  it('rejects bytes of another format', () => {
    expect(() => decodeBatch(new Uint8Array([0x81, 0xa1, 0x76, 0x09]))).toThrow(/format version/);
  });
});
