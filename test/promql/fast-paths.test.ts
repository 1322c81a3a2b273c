/**
 * The engine's fast paths (src/promql/fast-paths.ts) against its general paths on random
 * data with resets, NaN, infinities, signed zeros, gaps and duplicate-free but irregular
 * times: the same series, steps and values (bit for bit, except avg_over_time's
 * compensated-sum path: within 1e-12 relative), and the same errors.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { PromQLError, rangeQuery, instantQuery, type QueryResult } from '../../src/promql/engine.ts';
import { FAST_PATHS } from '../../src/promql/fast-paths.ts';
import { ArraySource, type SeriesData } from '../../src/promql/source.ts';
import { HELPER_STATS, warmUpHelper } from '../../src/promql/helper.ts';
import { PARALLEL_MIN_SAMPLES } from '../../src/promql/range-loops.ts';

const T0 = 1_700_000_000_000;

const valueArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -50, max: 1000 }) },
  { weight: 3, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 1e308, -1e308, 5e-324) },
);

const seriesArb = fc.array(
  fc.record({
    job: fc.constantFrom('a', 'b', 'c'),
    instance: fc.integer({ min: 0, max: 5 }),
    gaps: fc.array(fc.integer({ min: 1, max: 90_000 }), { minLength: 1, maxLength: 60 }),
    /** Every gap the first one: a regularly scraped series. */
    regular: fc.boolean(),
    values: fc.array(valueArb, { minLength: 60, maxLength: 60 }),
  }),
  { minLength: 1, maxLength: 8 },
);

interface RawSeries {
  job: string;
  instance: number;
  gaps: number[];
  regular: boolean;
  values: number[];
}

function source(raw: RawSeries[], metric: string): SeriesData[] {
  const seen = new Set<string>();
  const out: SeriesData[] = [];
  for (const r of raw) {
    const key = `${r.job}/${r.instance}`;
    if (seen.has(key)) continue;
    seen.add(key);
    let t = T0;
    const gaps = r.regular ? Array.from({ length: 60 }, () => 1000 * Math.ceil(r.gaps[0] / 1000)) : r.gaps;
    const times = gaps.map((g) => (t += g));
    out.push({ labels: { __name__: metric, job: r.job, instance: String(r.instance) }, timestamps: Float64Array.from(times), values: Float64Array.from(times, (_, i) => r.values[i]) });
  }
  return out;
}

type Outcome = QueryResult | { error: string };

function run(src: ArraySource, query: string, instant: boolean, fast: boolean): Outcome {
  FAST_PATHS.rangeLoops = FAST_PATHS.seriesMajorAggregation = FAST_PATHS.oneToOneBySeries = FAST_PATHS.fusedAggregation = fast;
  try {
    return instant ? instantQuery(src, query, T0 + 1_800_000) : rangeQuery(src, query, T0 - 60_000, T0 + 3_600_000, 37_000);
  } catch (e) {
    if (e instanceof PromQLError) return { error: e.message };
    throw e;
  }
}

/**
 * Equal answers; `tolerant`: values within 1e-12 relative, or within 1e-12 of the largest
 * input magnitude (when a later step cancels, e.g. averaging ±1e308, a few ulps of
 * difference in the inputs is all that is left).
 */
function assertSame(fast: Outcome, general: Outcome, tolerant: boolean, scale = 0): void {
  if ('error' in general || 'error' in fast) {
    expect(fast).toEqual(general);
    return;
  }
  if (!tolerant) {
    expect(fast).toEqual(general);
    return;
  }
  expect(JSON.stringify(fast, (k, v) => (k === 'values' || k === 'value' ? undefined : v))).toBe(JSON.stringify(general, (k, v) => (k === 'values' || k === 'value' ? undefined : v)));
  const points = (r: QueryResult) => (r.result as { values?: [number, string][]; value?: [number, string] }[]).flatMap((s) => s.values ?? [s.value!]);
  const a = points(fast);
  const b = points(general);
  expect(a.map((p) => p[0])).toEqual(b.map((p) => p[0]));
  a.forEach((p, i) => {
    const x = Number(p[1].replace('Inf', 'Infinity'));
    const y = Number(b[i][1].replace('Inf', 'Infinity'));
    if (Number.isNaN(x) || Number.isNaN(y) || x === y) return expect(p[1]).toBe(b[i][1]);
    if (Math.abs(x - y) <= 1e-12 * scale) return;
    expect(Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y)), `${p[1]} vs ${b[i][1]}`).toBeLessThanOrEqual(1e-12);
  });
}

afterEach(() => {
  FAST_PATHS.rangeLoops = FAST_PATHS.seriesMajorAggregation = FAST_PATHS.oneToOneBySeries = FAST_PATHS.helperThread = FAST_PATHS.fusedAggregation = true;
});

const QUERIES: [string, boolean][] = [
  ['rate(m[5m])', false],
  ['increase(m[3m])', false],
  ['delta(m[10m])', false],
  ['avg_over_time(m[7m])', true],
  ['sum_over_time(m[7m])', false],
  ['count_over_time(m[2m])', false],
  ['min_over_time(m[4m])', false],
  ['max_over_time(m[4m])', false],
  ['last_over_time(m[1m] offset 2m)', false],
  ['sum by (job) (m)', false],
  ['avg by (job) (rate(m[5m]))', false],
  ['min(m)', false],
  ['max by (job) (m offset 1m)', false],
  ['sum(m offset 30s)', false],
  ['max without (instance) (m)', false],
  ['count by (instance) (m)', false],
  ['group by (job) (m)', false],
  ['sum by (job) (m) / on(job) count by (job) (m)', false],
  ['m / ignoring(job) m', false],
  ['m > bool on(job, instance) m offset 1m', false],
  ['m <= m offset 3m', false],
  ['sum by (job) (m) - on() group(m)', false],
  ['m * on(job) m', false],
  ['sum by (job) (rate(m[5m]))', false],
  ['sum(increase(m[3m]))', false],
  ['sum by (instance) (delta(m[2m] offset 1m))', false],
  ['avg(avg_over_time(m[3m]))', true],
  ['count without (instance) (last_over_time(m[2m]))', false],
  ['max(increase(m[5m] offset 1m))', false],
  ['min by (instance) (delta((m[4m])))', false],
  ['group(count_over_time(m[1m]))', false],
  ['sum without (job) (sum_over_time(m[6m]))', false],
  // Two aggregations at the same steps (runs of consecutive steps, or not): the pairs' values without a merge.
  ['sum by (job, instance) (rate(m[5m])) / sum by (job, instance) (increase(m[5m]))', false],
  ['sum by (job) (rate(m[5m])) - on(job) sum by (job) (delta(m[3m] offset 1m))', false],
  ['max by (instance) (m) + sum by (instance) (m offset 2m)', false],
];

describe('fast paths equal the general paths', () => {
  it.each(QUERIES)('%s', (query, tolerant) => {
    fc.assert(
      fc.property(seriesArb, fc.boolean(), (raw, instant) => {
        const data = source(raw, 'm');
        const src = new ArraySource(data);
        let scale = 0;
        for (const d of data) for (const v of d.values) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
        assertSame(run(src, query, instant, true), run(src, query, instant, false), tolerant, scale);
      }),
      { numRuns: Number(process.env.FAST_PATH_RUNS ?? 150) },
    );
  });
});

describe('fused aggregation of a range function', () => {
  it('leaves series that collide without their name to the general path, which refuses them', () => {
    const mk = (name: string) => ({ labels: { __name__: name, job: 'a' }, timestamps: Float64Array.from([T0, T0 + 60_000]), values: Float64Array.from([1, 2]) });
    const src = new ArraySource([mk('m'), mk('n')]);
    for (const fast of [true, false]) {
      expect(run(src, 'sum(rate({__name__=~"m|n"}[5m]))', false, fast)).toEqual({ error: 'vector cannot contain metrics with the same labelset' });
    }
    expect(run(src, 'sum(last_over_time({__name__=~"m|n"}[5m]))', false, true)).toEqual(run(src, 'sum(last_over_time({__name__=~"m|n"}[5m]))', false, false));
  });
});

describe('the helper thread', () => {
  it.each(['none', 'all', 'every other'])('evaluates part of a large selection to the same answer (series with times in shared memory: %s)', async (sharedTimes) => {
    const deadline = Date.now() + 30_000;
    while (!warmUpHelper()) {
      if (Date.now() > deadline) throw new Error('helper thread not ready after 30 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    let seed = 3;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const perSeries = 1500;
    const count = Math.ceil((PARALLEL_MIN_SAMPLES * 1.2) / perSeries);
    const series: SeriesData[] = Array.from({ length: count }, (_, i) => {
      let v = 0;
      const times = Float64Array.from({ length: perSeries }, (_, k) => T0 + k * 15_000 + (i % 15) * 1000);
      // Every fifth series alternates 0 and -0: its deltas are -0 at some steps (a sum must keep the sign).
      const values = i % 5 === 0 ? Float64Array.from(times, (_, k) => (k % 2 ? -0 : 0)) : Float64Array.from(times, () => (v = random() < 0.01 ? 0 : v + random() * 10));
      return { labels: { __name__: 'm', i: String(i), job: `j${i % 4}` }, timestamps: times, values };
    });
    if (sharedTimes !== 'none') {
      // As StoreSource's millisecond cache hands them out: views of one SharedArrayBuffer, which
      // the helper reads in place; with 'every other', the rest are copied for it (as a read
      // mixing cached segments and copied series gives it).
      const all = new Float64Array(new SharedArrayBuffer(count * perSeries * 8));
      series.forEach((s, i) => {
        if (sharedTimes === 'every other' && i % 2 === 1) return;
        all.set(s.timestamps, i * perSeries);
        s.timestamps = all.subarray(i * perSeries, (i + 1) * perSeries);
      });
    }
    const src = new ArraySource(series);
    for (const query of ['rate(m[5m])', 'sum by (job) (increase(m[2m]))', 'sum by (i) (rate(m[5m]))', 'sum(delta(m[3m]))', 'sum by (i) (delta(m[3m]))', 'max_over_time(m[90s])', 'avg_over_time(m[10m])']) {
      const before = HELPER_STATS.range;
      const withHelper = rangeQuery(src, query, T0, T0 + perSeries * 15_000, 60_000);
      expect(HELPER_STATS.range, query).toBe(before + 1);
      FAST_PATHS.helperThread = false;
      const alone = rangeQuery(src, query, T0, T0 + perSeries * 15_000, 60_000);
      FAST_PATHS.helperThread = true;
      expect(withHelper, query).toEqual(alone);
    }
  });
});
