import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { goFormatFloat } from '../../src/promql/gostrconv.ts';
import { labelsKey, type Labels } from '../../src/promql/labels.ts';
import { formatSampleValue, sortByLabels, stepMatrixResult } from '../../src/promql/result.ts';
import { HELPER_STATS, warmUpHelper } from '../../src/promql/helper.ts';
import { encodeMatrixResponse, encodeQueryResponse, PARALLEL_MIN_POINTS } from '../../src/promql/result-json.ts';
import type { Grid, StepSeries } from '../../src/promql/vector.ts';

/** jsonutil.MarshalValue as written from Go's definition, without fast paths. */
function reference(v: number): string {
  const abs = Math.abs(v);
  return goFormatFloat(v, abs !== 0 && (abs < 1e-6 || abs >= 1e21) ? 'e' : 'f');
}

const SPECIAL = [0, -0, NaN, Infinity, -Infinity, 1, -1, 1e-6, 9.99e-7, 1e21, 1e21 - 65536, -1e21, 2 ** 53, 2 ** 53 + 2, 5e-324, 1.7976931348623157e308, 0.1 + 0.2, 123456789.125, -42.5];

describe('sample values', () => {
  it.each(SPECIAL.map((v) => [v]))('%d prints as Prometheus prints it', (v) => {
    expect(formatSampleValue(v)).toBe(reference(v));
  });

  it('prints any double as Prometheus prints it', () => {
    fc.assert(fc.property(fc.double(), (v) => formatSampleValue(v) === reference(v)), { numRuns: 20_000 });
    fc.assert(fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), fc.integer({ min: 0, max: 12 }), (n, d) => {
      const v = n / 10 ** d;
      return formatSampleValue(v) === reference(v);
    }), { numRuns: 20_000 });
  });
});

describe('encodeMatrixResponse', () => {
  const grid: Grid = { startMs: 1_700_000_000_123, stepMs: 15_500, numSteps: 40 };
  const labelsArb = fc.dictionary(fc.constantFrom('__name__', 'job', 'le', 'a_b', 'ünï'), fc.string({ minLength: 1, maxLength: 6 }), { maxKeys: 4 });
  const seriesArb = fc.array(
    fc.record({
      labels: labelsArb,
      points: fc.array(fc.tuple(fc.integer({ min: 0, max: grid.numSteps - 1 }), fc.oneof(fc.double(), fc.integer().map((n) => n / 8), fc.constantFrom(...SPECIAL)))),
    }),
    { maxLength: 6 },
  );

  it('writes the bytes JSON.stringify writes for the same matrix', () => {
    fc.assert(fc.property(seriesArb, (raw) => {
      const seen = new Set<string>();
      const series: StepSeries[] = [];
      for (const r of raw) {
        const labels: Labels = Object.entries(r.labels).map(([name, value]) => ({ name, value })).sort((a, b) => (a.name < b.name ? -1 : 1));
        const key = labelsKey(labels);
        if (seen.has(key)) continue;
        seen.add(key);
        const byStep = new Map(r.points);
        const steps = [...byStep.keys()].sort((a, b) => a - b);
        series.push({ labels, key, steps: Int32Array.from(steps), values: Float64Array.from(steps, (s) => byStep.get(s)!) });
      }
      const sorted = sortByLabels(series);
      const ours = Buffer.from(encodeMatrixResponse(sorted, grid)).toString('utf8');
      expect(ours).toBe(encodeQueryResponse(stepMatrixResult(sorted, grid)));
      expect(JSON.parse(ours).status).toBe('success');
    }), { numRuns: 300 });
  });

  it('grows past its first estimate', () => {
    const steps = Int32Array.from({ length: grid.numSteps }, (_, i) => i);
    const series: StepSeries[] = [{ labels: [{ name: 'x', value: 'é'.repeat(5000) }], key: 'k', steps, values: new Float64Array(grid.numSteps).fill(-1.2345678901234567e-100) }];
    const ours = Buffer.from(encodeMatrixResponse(series, grid)).toString('utf8');
    expect(ours).toBe(encodeQueryResponse(stepMatrixResult(series, grid)));
  });

  it('writes long series the same whether their values repeat or not (with and without the value cache)', () => {
    const long: Grid = { startMs: 1_709_294_400_000, stepMs: 60_000, numSteps: 500 };
    const steps = Int32Array.from({ length: long.numSteps }, (_, i) => i);
    let seed = 7;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const unique = (i: number) => (random() * 1000) / (i + 3);
    const repeating = (i: number) => (i % 5) / 3;
    const kinds: ((i: number) => number)[] = [
      unique,
      repeating,
      (i) => (i < 100 ? unique(i) : repeating(i)),
      (i) => (i < 100 ? repeating(i) : unique(i)),
      (i) => (i % 2 ? unique(i) : repeating(i)),
    ];
    const series: StepSeries[] = kinds.map((kind, k) => {
      const labels: Labels = [{ name: 'k', value: String(k) }];
      return { labels, key: labelsKey(labels), steps, values: Float64Array.from(steps, kind) };
    });
    const ours = Buffer.from(encodeMatrixResponse(series, long)).toString('utf8');
    expect(ours).toBe(encodeQueryResponse(stepMatrixResult(series, long)));
  });

  it('writes large matrices with the worker thread, to the same bytes', async () => {
    const deadline = Date.now() + 30_000;
    while (!warmUpHelper()) {
      if (Date.now() > deadline) throw new Error('encode worker not ready after 30 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    const big: Grid = { startMs: 1_709_294_400_000, stepMs: 60_000, numSteps: 721 };
    const n = Math.ceil((PARALLEL_MIN_POINTS * 1.5) / big.numSteps);
    const steps = Int32Array.from({ length: big.numSteps }, (_, i) => i);
    let seed = 1;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const series: StepSeries[] = Array.from({ length: n }, (_, i) => {
      const labels: Labels = [{ name: 'i', value: String(i).padStart(4, '0') }, { name: 'z', value: 'ü' }];
      return { labels, key: labelsKey(labels), steps: i % 7 ? steps : steps.filter((s) => s % 3 === 0), values: Float64Array.from(steps, () => (random() - 0.3) * 10 ** Math.floor(random() * 30 - 10)) };
    });
    const before = HELPER_STATS.encode;
    const ours = Buffer.from(encodeMatrixResponse(series, big)).toString('utf8');
    expect(HELPER_STATS.encode).toBe(before + 1);
    expect(ours).toBe(encodeQueryResponse(stepMatrixResult(series, big)));
  });
});
