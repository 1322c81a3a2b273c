/**
 * The fast msgpack path for series batches against the general path (msgpackr + schema):
 * whatever it accepts, the general path accepts and converts to the same samples; whatever
 * the general path refuses, it refuses too (returns null, so the general path answers).
 */
import fc from 'fast-check';
import { Packr, pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import type { IngestBatch } from '../../src/storage/events.ts';
import { checkCorruptedBodies, generalBatch } from './fast-path-checks.ts';
import { fastSeriesBatch, fastSeriesBatchColumns, newColumnScratch } from '../../src/telemetry/msgpack-series-batch.ts';

const BASE_MS = 1_790_000_000_000;
const TTL = 604_800;

/** Every sample with its series, in order; values as [Object.is-exact] strings (NaN and -0 kept apart). */
function samples(batch: IngestBatch): string[] {
  const out: string[] = [];
  for (const s of batch.series) {
    const labels = JSON.stringify(Object.entries(s.labels).sort());
    for (let i = 0; i < s.timestamps.length; i++) {
      out.push(JSON.stringify([s.metric, s.unit ?? null, labels, exact(s.timestamps[i]!), exact(s.values[i]!)]));
    }
  }
  return out;
}

const exact = (n: number) => (Object.is(n, -0) ? '-0' : String(n));

const littleEndianBytes = (numbers: number[]) => Buffer.from(new Float64Array(numbers).buffer);

/** A column as a client may send it: a Float64Array, a bin of float64s, an array of numbers (64-bit ones as BigInt when integral). */
type ColumnForm = 'typed' | 'bin' | 'array' | 'bigint';
function column(numbers: number[], form: ColumnForm): unknown {
  switch (form) {
    case 'typed': return new Float64Array(numbers);
    case 'bin': return littleEndianBytes(numbers);
    case 'array': return numbers;
    case 'bigint': return numbers.map((n) => (Number.isSafeInteger(n) && Math.abs(n) > 2 ** 32 ? BigInt(n) : n));
  }
}

const labelValue = fc.oneof(fc.constantFrom('p', 'q', 'üñí', '', 'x'.repeat(40)), fc.integer({ min: -200_000, max: 200_000 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
const value = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(-0, 64, 65, 127, 2 ** 53, -(2 ** 40)));
const series = fc.record({
  metric: fc.constantFrom('m', 'tokens', 'ü', 'a.b', 'metric_'.repeat(6)),
  labels: fc.dictionary(fc.constantFrom('host', 'region', '__hidden', 'a.b', 'ü'), labelValue, { maxKeys: 4 }),
  unit: fc.option(fc.constantFrom('', 'ms'), { nil: undefined }),
  samples: fc.array(fc.tuple(fc.oneof(fc.integer({ min: 0, max: 10_000_000 }), fc.double({ min: 0, max: 1e7, noNaN: true })), value), { minLength: 1, maxLength: 12 }),
  timestampsForm: fc.constantFrom<ColumnForm>('typed', 'bin', 'array', 'bigint'),
  valuesForm: fc.constantFrom<ColumnForm>('typed', 'bin', 'array', 'bigint'),
  valuesFirst: fc.boolean(),
});
type GeneratedSeries = typeof series extends fc.Arbitrary<infer T> ? T : never;

/** `typedArrays`: the encoder writes msgpackr's typed-array extension (moreTypes); plain pack garbles a Float64Array, so it gets bins. */
function wireSeries(s: GeneratedSeries, typedArrays: boolean): Record<string, unknown> {
  const timestamps = s.samples.map(([t]) => BASE_MS + t).sort((a, b) => a - b);
  const values = s.samples.map(([, v]) => v);
  const form = (f: ColumnForm) => (f === 'typed' && !typedArrays ? 'bin' : f);
  const entry: Record<string, unknown> = { metric: s.metric, labels: s.labels };
  if (s.unit !== undefined) entry.unit = s.unit;
  if (s.valuesFirst) entry.values = column(values, form(s.valuesForm));
  entry.timestamps = column(timestamps, form(s.timestampsForm));
  if (!s.valuesFirst) entry.values = column(values, form(s.valuesForm));
  return entry;
}

/** The ways a JavaScript client encodes: msgpackr's Packr (records and typed arrays, its default), without records, plain pack. */
const encoders: Record<string, (value: unknown) => Uint8Array> = {
  records: (v) => new Packr({ moreTypes: true }).pack(v),
  maps: (v) => new Packr({ moreTypes: true, useRecords: false }).pack(v),
  plain: (v) => pack(v),
};
const body = fc.record({
  series: fc.array(series, { maxLength: 8 }),
  ttl: fc.option(fc.integer({ min: 0, max: 1e9 }), { nil: undefined }),
  encoder: fc.constantFrom(...Object.keys(encoders)),
});
function encode(b: { series: GeneratedSeries[]; ttl: number | undefined; encoder: string }): Uint8Array {
  const wire: Record<string, unknown> = { series: b.series.map((s) => wireSeries(s, b.encoder !== 'plain')) };
  if (b.ttl !== undefined) wire.ttl_seconds = b.ttl;
  return encoders[b.encoder]!(wire);
}

describe('fast series batch path', () => {
  it('takes series batches in every column form and encoding and converts them as the general path does (property)', () => {
    fc.assert(fc.property(body, (b) => {
      const bytes = encode(b);
      const slow = generalBatch(bytes, TTL);
      expect(slow).not.toBeInstanceOf(Error);
      const fast = fastSeriesBatch(bytes, TTL);
      expect(fast).not.toBeNull();
      expect(fast!.ttlSeconds).toBe((slow as IngestBatch).ttlSeconds);
      expect(samples(fast!)).toEqual(samples(slow as IngestBatch));
    }), { numRuns: 400 });
  });

  it('never accepts what the general path refuses, and agrees on what both accept (corrupted bodies, property)', () => {
    checkCorruptedBodies(body, encode, (bytes) => fastSeriesBatch(bytes, TTL), samples, TTL, 3000);
  });

  const entry = (extra: Record<string, unknown> = {}) => ({ metric: 'm', labels: { host: 'a' }, timestamps: new Float64Array([BASE_MS, BASE_MS + 1]), values: new Float64Array([1, 2]), ...extra });
  it.each([
    ['trace ids', true, { series: [entry({ trace_ids: ['t', 't'] })] }],
    ['an unknown field', true, { series: [entry({ extra: 1 })] }],
    ['an unknown top-level field', true, { series: [entry()], extra: true }],
    ['timestamps out of order', false, { series: [entry({ timestamps: new Float64Array([BASE_MS + 1, BASE_MS]) })] }],
    ['a timestamp out of range', false, { series: [entry({ timestamps: new Float64Array([BASE_MS, 2 ** 60]) })] }],
    ['a NaN timestamp', false, { series: [entry({ timestamps: new Float64Array([BASE_MS, Number.NaN]) })] }],
    ['columns of different lengths', false, { series: [entry({ values: new Float64Array([1]) })] }],
    ['a series without samples', true, { series: [entry({ timestamps: new Float64Array(0), values: new Float64Array(0) })] }],
    ['a Float32Array column', true, { series: [entry({ values: new Float32Array([1, 2]) })] }],
    ['an Int32Array column', true, { series: [entry({ values: new Int32Array([1, 2]) })] }],
    ['a bin that is no whole number of float64s', false, { series: [entry({ values: Buffer.alloc(12) })] }],
    ['nil labels', false, { series: [entry({ labels: null })] }],
    ['nested labels', false, { series: [entry({ labels: { a: { b: 1 } } })] }],
    ['a nil unit', false, { series: [entry({ unit: null })] }],
    ['an empty metric', false, { series: [entry({ metric: '' })] }],
    ['a negative ttl', false, { series: [entry()], ttl_seconds: -1 }],
    ['metric events', true, { events: [] }],
  ])('leaves %s to the general path (valid: %s)', (_, valid, value) => {
    for (const name of ['records', 'maps']) {
      const bytes = encoders[name]!(value);
      expect(fastSeriesBatch(bytes, TTL), name).toBeNull();
      expect(generalBatch(bytes, TTL) instanceof Error, name).toBe(!valid);
    }
  });

  it('leaves a number that a record id has taken over (msgpackr then reads a record) to the general path', () => {
    // Packr writes 64..127 as uint8 (0xcc), since with records 0x40 + id names record id.
    // Written as the byte 0x41 instead, the ttl is record 1 (the series entry's shape) to msgpackr.
    const bytes = new Packr({ moreTypes: true }).pack({ series: [entry()], ttl_seconds: 100 });
    expect([...bytes.subarray(-2)]).toEqual([0xcc, 100]);
    const taken = Uint8Array.of(...bytes.subarray(0, -2), 0x41);
    expect(generalBatch(taken, TTL)).toBeInstanceOf(Error);
    expect(fastSeriesBatch(taken, TTL)).toBeNull();
    const free = Uint8Array.of(...bytes.subarray(0, -2), 0x7f);
    expect((generalBatch(free, TTL) as IngestBatch).ttlSeconds).toBe(127);
    expect(fastSeriesBatch(free, TTL)!.ttlSeconds).toBe(127);
  });

  it('decodes a label set once: later batches, as records or maps, reuse its header', () => {
    const labels = { host: 'only-here', region: 'r' };
    const first = fastSeriesBatch(encoders.records!({ series: [entry({ labels })] }), TTL)!;
    const again = fastSeriesBatch(encoders.records!({ series: [entry({ labels })] }), TTL)!;
    const asMap = fastSeriesBatch(encoders.maps!({ series: [entry({ labels })] }), TTL)!;
    expect(again.series[0]!.labels).toBe(first.series[0]!.labels);
    expect(asMap.series[0]!.labels).toEqual(first.series[0]!.labels);
  });

  it('tells apart label sets that differ only in the unit being absent or empty, or in a record\'s keys', () => {
    const bytes = encoders.records!({
      series: [entry(), entry({ unit: '' }), entry({ labels: { region: 'a' } }), entry({ labels: { host: 'a', region: 'b' } }), entry({ labels: { region: 'b', host: 'a' } })],
    });
    const fast = fastSeriesBatch(bytes, TTL)!;
    expect(samples(fast)).toEqual(samples(generalBatch(bytes, TTL) as IngestBatch));
    expect(fast.series.map((s) => [s.unit, s.labels])).toEqual([
      [undefined, { host: 'a' }], ['', { host: 'a' }], [undefined, { region: 'a' }], [undefined, { host: 'a', region: 'b' }], [undefined, { region: 'b', host: 'a' }],
    ]);
  });

  it('reads into lent columns, growing them when a batch needs more', () => {
    const scratch = newColumnScratch();
    const small = fastSeriesBatchColumns(encoders.records!({ series: [entry()] }), TTL, scratch)!;
    expect(small.columns.timestamps.buffer).toBe(scratch.timestamps.buffer);
    // Plain arrays of small integers take 2 bytes a sample: more rows than the body's size / 16 reserves.
    const n = 500;
    const many = { metric: 'm', labels: {}, timestamps: Array.from({ length: n }, (_, i) => i), values: Array.from({ length: n }, (_, i) => i % 100) };
    const bytes = pack({ series: [many, many] });
    const big = fastSeriesBatchColumns(bytes, TTL, scratch)!;
    expect(big.columns.timestamps.length).toBe(2 * n);
    expect(big.columns.timestamps.buffer).toBe(scratch.timestamps.buffer);
    expect(samples({ ttlSeconds: TTL, events: [], series: fastSeriesBatch(bytes, TTL)!.series })).toEqual(samples(generalBatch(bytes, TTL) as IngestBatch));
  });
});
