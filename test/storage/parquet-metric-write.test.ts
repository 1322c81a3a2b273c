import fc from 'fast-check';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { utf8Buffers } from '../../src/storage/arrow.ts';
import { encodeMetricParquet } from '../../src/storage/parquet-metric-write.ts';
import { SCHEMA_VERSION, type MetricSnapshot } from '../../src/storage/segment-snapshot.ts';

const T0 = 1_790_000_000_000_000;

/** A random metric segment snapshot: series of random lengths, times anywhere (gaps past 2^32 µs, going back), ids with gaps. */
const snapshot = fc.record({
  series: fc.array(fc.record({
    metric: fc.constantFrom('m', 'requests_total', 'é_metric'),
    labels: fc.dictionary(fc.constantFrom('a', 'b', 'host'), fc.string({ maxLength: 6 }), { maxKeys: 2 }),
    unit: fc.constantFrom('', 'ms', 'bytes'),
    samples: fc.array(fc.record({
      dt: fc.oneof(fc.integer({ min: -5_000_000, max: 5_000_000 }), fc.integer({ min: 0, max: 2 ** 40 })),
      value: fc.oneof(fc.double(), fc.constantFrom(0, -0, NaN, Infinity, 1.5)),
      trace: fc.integer({ min: 0, max: 5 }),
      span: fc.integer({ min: 0, max: 40 }),
    }), { maxLength: 40 }),
  }), { maxLength: 12 }),
  ids: fc.boolean(),
  uniformTtl: fc.boolean(),
  rowGroupRows: fc.integer({ min: 1, max: 64 }),
});

function build(input: typeof snapshot extends fc.Arbitrary<infer T> ? T : never): MetricSnapshot & { idValues: string[] } {
  const rows = input.series.reduce((n, s) => n + s.samples.length, 0);
  const ts = new Float64Array(rows), values = new Float64Array(rows), expiry = new Float64Array(rows);
  const traceCodes = new Uint32Array(rows), spanCodes = new Uint32Array(rows);
  const seriesStart = new Uint32Array(input.series.length + 1);
  let r = 0;
  input.series.forEach((s, k) => {
    seriesStart[k] = r;
    for (const x of s.samples) {
      ts[r] = T0 + x.dt;
      values[r] = x.value;
      expiry[r] = ts[r] + 1000 + (x.span % 3);
      traceCodes[r] = x.trace;
      spanCodes[r] = x.span === 0 ? 0 : 6 + x.span;
      r++;
    }
  });
  seriesStart[input.series.length] = r;
  const idValues = ['', ...Array.from({ length: 46 }, (_, i) => (i % 2 ? `trace-${i}` : `span-é-${i}`))];
  return {
    idValues, table: 'metrics', schemaVersion: SCHEMA_VERSION, nodeId: 'n', segmentId: 1, walLsn: 3, rows,
    minTs: Math.min(...ts), maxTs: Math.max(...ts), maxExpiry: Math.max(...expiry),
    seriesMetric: input.series.map((s) => s.metric), seriesLabels: input.series.map((s) => JSON.stringify(s.labels)),
    seriesUnit: input.series.map((s) => s.unit), seriesStart, ts, values,
    expiry: input.uniformTtl ? null : expiry, ttlMicros: input.uniformTtl ? 60_000_000 : 0,
    traceCodes: input.ids ? traceCodes : null, spanCodes: input.ids ? spanCodes : null, ids: input.ids ? utf8Buffers(idValues) : null,
  };
}

describe('metric segment Parquet writer', () => {
  it('writes every row as hyparquet reads it back: strings per series, times, values bit for bit, expiry, ids and nulls', async () => {
    await fc.assert(fc.asyncProperty(snapshot, async (input) => {
      const s = build(input);
      const bytes = encodeMetricParquet(s, input.rowGroupRows, 'test');
      const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      const meta = parquetMetadata(file);
      expect(Number(meta.num_rows)).toBe(s.rows);
      expect(meta.row_groups).toHaveLength(Math.ceil(s.rows / input.rowGroupRows));
      const rows = await parquetReadObjects({ file, utf8: true, parsers: { timestampFromMicroseconds: (micros: bigint) => micros } });
      const expected = [];
      for (let k = 0; k < input.series.length; k++) {
        for (let r = s.seriesStart[k]!; r < s.seriesStart[k + 1]!; r++) {
          expected.push({
            metric: s.seriesMetric[k], labels: s.seriesLabels[k], unit: s.seriesUnit[k] || null,
            timestamp: BigInt(s.ts[r]!), value: s.values[r], expiry: BigInt(s.expiry ? s.expiry[r]! : s.ts[r]! + s.ttlMicros),
            trace_id: s.traceCodes && s.traceCodes[r] ? s.idValues[s.traceCodes[r]!] : null,
            span_id: s.spanCodes && s.spanCodes[r] ? s.idValues[s.spanCodes[r]!] : null,
          });
        }
      }
      const read = rows.map((row) => ({ ...row, timestamp: toMicros(row.timestamp), expiry: toMicros(row.expiry) }));
      expect(read).toEqual(expected);
      // Values bit for bit (-0 and NaN payloads included).
      const bits = (v: number) => Buffer.from(Float64Array.of(v).buffer).toString('hex');
      expect(rows.map((row) => bits(row.value as number))).toEqual(expected.map((e) => bits(e.value!)));
    }), { numRuns: 200 });
  });
});

function toMicros(v: unknown): bigint {
  if (typeof v !== 'bigint') throw new Error(`expected raw microseconds, got ${String(v)}`);
  return v;
}
