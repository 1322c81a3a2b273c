/**
 * The fast msgpack path for metric-event batches against the general path (msgpackr + schema):
 * whatever it accepts, the general path accepts and converts to the same samples; whatever
 * the general path refuses, it refuses too (returns null, so the general path answers).
 */
import { sampleIdAt } from '../../src/storage/sample-ids.ts';
import fc from 'fast-check';
import { Packr, pack } from 'msgpackr';
import { beforeAll, describe, expect, it } from 'vitest';
import type { IngestBatch } from '../../src/storage/events.ts';
import { fastMetricEventsBatch } from '../../src/telemetry/msgpack-metric-events.ts';
import { checkCorruptedBodies, generalBatch } from './fast-path-checks.ts';
import { registerExactMsgpackTimestamps } from '../../src/telemetry/time.ts';

const BASE_MS = 1_790_000_000_000;
const TTL = 604_800;

beforeAll(() => registerExactMsgpackTimestamps());

/** Every sample with its series, sorted: equal for batches that apply the same data. */
function samples(batch: IngestBatch): string[] {
  const out: string[] = [];
  for (const s of batch.series) {
    const labels = JSON.stringify(Object.entries(s.labels).sort());
    for (let i = 0; i < s.timestamps.length; i++) {
      out.push(JSON.stringify([s.metric, s.unit, labels, s.timestamps[i], s.values[i], s.ids && sampleIdAt(s.ids, i).traceId, s.ids && sampleIdAt(s.ids, i).spanId]));
    }
  }
  return out.sort();
}

function metricEvent(i: number, extra: Record<string, unknown> = {}) {
  return { type: 'metric', trace_id: `t${i % 3}`, span_id: `s${i}`, timestamp: BASE_MS + i, metric: `m${i % 2}`, value: i / 2, unit: 'ms', attributes: { host: `h${i % 4}`, n: i % 3, ok: i % 2 === 0 }, ...extra };
}

const attributeValue = fc.oneof(
  fc.constantFrom('p', 'q', 'üñí', ''), fc.integer({ min: -200_000, max: 200_000 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null),
);
const timestamp = fc.oneof(
  fc.integer({ min: 0, max: 10_000_000 }).map((d) => BASE_MS + d),
  fc.double({ min: BASE_MS, max: BASE_MS + 1e7, noNaN: true }),
  fc.integer({ min: 0, max: 10_000_000 }).map((d) => new Date(BASE_MS + d).toISOString().replace('Z', '123Z')),
  fc.integer({ min: 0, max: 10_000_000 }).map((d) => new Date(BASE_MS + d)),
  fc.integer({ min: 0, max: 10_000_000 }).map((d) => BigInt(BASE_MS + d)),
);
const event = fc.record({
  type: fc.constant('metric'),
  trace_id: fc.constantFrom('t1', 't2', 'trace-ü'),
  span_id: fc.constantFrom('s1', 's2'),
  timestamp,
  metric: fc.constantFrom('tokens', 'latency', 'ü'),
  value: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
  unit: fc.constantFrom('', 'ms'),
  attributes: fc.option(fc.dictionary(fc.constantFrom('model', 'host', '__hidden', 'a.b'), attributeValue, { maxKeys: 4 }), { nil: null }),
});
const body = fc.record({ events: fc.array(event, { maxLength: 40 }), ttl_seconds: fc.integer({ min: 0, max: 1e9 }) }, { requiredKeys: ['events'] });

describe('fast metric events path', () => {
  it('takes plain metric-event batches and converts them as the general path does (property)', () => {
    fc.assert(fc.property(body, (b) => {
      const bytes = pack(b);
      const fast = fastMetricEventsBatch(bytes, TTL);
      const slow = generalBatch(bytes, TTL);
      expect(slow).not.toBeInstanceOf(Error);
      expect(fast).not.toBeNull();
      expect(fast!.ttlSeconds).toBe((slow as IngestBatch).ttlSeconds);
      expect(fast!.events).toEqual([]);
      expect(samples(fast!)).toEqual(samples(slow as IngestBatch));
    }), { numRuns: 300 });
  });

  it('never accepts what the general path refuses, and agrees on what both accept (corrupted bodies, property)', () => {
    checkCorruptedBodies(body, (b) => pack(b), (bytes) => fastMetricEventsBatch(bytes, TTL), samples, TTL, 2000);
  });

  it.each([
    ['a span event among the metrics', { events: [metricEvent(1), { type: 'structured_log', trace_id: 't', span_id: 's', timestamp: BASE_MS, payload: { type: 'span_end', status: 'ok' } }] }],
    ['an unknown field', { events: [metricEvent(1, { extra: 1 })] }],
    ['an unknown top-level field', { events: [metricEvent(1)], extra: true }],
    ['a non-finite value', { events: [metricEvent(1, { value: Number.NaN })] }],
    ['a 64-bit integer value (msgpackr reads a BigInt)', { events: [metricEvent(1, { value: 2n ** 60n })] }],
    ['a nested attribute', { events: [metricEvent(1, { attributes: { a: { b: 1 } } })] }],
    ['an empty trace id', { events: [metricEvent(1, { trace_id: '' })] }],
    ['a bad ISO timestamp', { events: [metricEvent(1, { timestamp: '2026-13-01' })] }],
    ['a negative ttl', { events: [metricEvent(1)], ttl_seconds: -1 }],
    ['one event, not a batch', { event: metricEvent(1) }],
  ])('leaves %s to the general path', (_, value) => {
    expect(fastMetricEventsBatch(pack(value), TTL)).toBeNull();
  });

  it('leaves a body whose events array claims more events than it has bytes to the general path (no allocation sized by it)', () => {
    const bytes = new Uint8Array(pack({ events: [metricEvent(1)] }));
    const at = bytes.indexOf(0x91); // the one-element array header
    const corrupt = new Uint8Array([...bytes.subarray(0, at), 0xdd, 0xff, 0xff, 0xff, 0xf0, ...bytes.subarray(at + 1)]);
    expect(fastMetricEventsBatch(corrupt, TTL)).toBeNull();
    expect(generalBatch(corrupt, TTL)).toBeInstanceOf(Error);
  });

  it('leaves msgpackr records and float32 to the general path', () => {
    expect(fastMetricEventsBatch(new Packr({ useRecords: true }).pack({ events: [metricEvent(1), metricEvent(2)] }), TTL)).toBeNull();
    expect(fastMetricEventsBatch(new Packr({ useFloat32: 1 }).pack({ events: [metricEvent(1, { value: 0.5 })] }), TTL)).toBeNull();
  });

  it('keeps the microseconds of a timestamp extension, as the general path does', () => {
    // A 15-byte placeholder string swapped for a 15-byte timestamp96 (nanoseconds, then seconds).
    const placeholder = 'X'.repeat(14);
    const bytes = Buffer.from(pack({ events: [metricEvent(1, { timestamp: placeholder })] }));
    const at = bytes.indexOf(Buffer.from(placeholder)) - 1;
    const ext = Buffer.alloc(15);
    ext.set([0xc7, 12, 0xff]);
    ext.writeUInt32BE(501_587_000, 3);
    ext.writeBigInt64BE(1_790_000_000n, 7);
    ext.copy(bytes, at);
    const fast = fastMetricEventsBatch(bytes, TTL)!;
    expect([...fast.series[0]!.timestamps]).toEqual([1_790_000_000_501_587]);
    expect(samples(fast)).toEqual(samples(generalBatch(bytes, TTL) as IngestBatch));
  });

  it('tells series apart that share the expected series\' attribute bytes but not its metric or unit', () => {
    // A repeating order (a, b, a, b, ...) makes b the guess after a; then events with b's
    // attributes but another metric or unit, and b's metric with a longer attributes map.
    const a = { metric: 'm', unit: 'ms', attributes: { host: 'x' } };
    const b = { metric: 'm', unit: 'ms', attributes: { host: 'y' } };
    const twists = [
      { ...b, metric: 'n' }, { ...b, unit: 's' }, { ...b, unit: '' }, { ...b, attributes: { host: 'y', more: 1 } }, { ...b, attributes: null },
    ];
    const events: Record<string, unknown>[] = [];
    for (const twist of twists) events.push(metricEvent(events.length, a), metricEvent(events.length + 1, b), metricEvent(events.length + 2, a), metricEvent(events.length + 3, twist));
    const bytes = pack({ events });
    const fast = fastMetricEventsBatch(bytes, TTL)!;
    expect(samples(fast)).toEqual(samples(generalBatch(bytes, TTL) as IngestBatch));
    expect(new Set(fast.series.map((s) => JSON.stringify([s.metric, s.unit, s.labels]))).size).toBe(2 + twists.length);
  });

  it('decodes a label set once: later batches reuse its labels', () => {
    const first = fastMetricEventsBatch(pack({ events: [metricEvent(1, { attributes: { only: 'here' } })] }), TTL)!;
    const second = fastMetricEventsBatch(pack({ events: [metricEvent(9, { attributes: { only: 'here' } })] }), TTL)!;
    expect(second.series[0]!.labels).toBe(first.series[0]!.labels);
  });
});
