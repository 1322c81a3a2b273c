import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Matcher } from '../../src/index/matcher.ts';
import { instantQuery, PromQLError, rangeQuery, type QueryResult } from '../../src/promql/engine.ts';
import { ArraySource, type SampleSource, type SeriesData } from '../../src/promql/source.ts';

const MIN = 60_000;

function series(labels: Record<string, string>, points: [number, number][]): SeriesData {
  return { labels, timestamps: Float64Array.from(points, (p) => p[0]), values: Float64Array.from(points, (p) => p[1]) };
}

/** A series with one sample per interval from 0: values[i] at i * intervalMs. */
function regular(labels: Record<string, string>, intervalMs: number, values: number[]): SeriesData {
  return series(labels, values.map((v, i) => [i * intervalMs, v]));
}

function errorOf(fn: () => unknown): PromQLError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PromQLError) return e;
    throw e;
  }
  throw new Error('no error');
}

const source = new ArraySource([
  regular({ __name__: 'requests_total', job: 'api', instance: 'a' }, MIN, [0, 60, 120, 180, 240, 300, 360]),
  regular({ __name__: 'requests_total', job: 'api', instance: 'b' }, MIN, [0, 30, 60, 90, 120, 150, 180]),
  regular({ __name__: 'requests_total', job: 'db', instance: 'c' }, MIN, [10, 20, 5, 15, 25, 35, 45]),
  regular({ __name__: 'temperature', room: 'x' }, MIN, [21.5, 22, NaN, 23, Infinity, -Infinity, 0.0000001]),
]);

describe('instantQuery result shapes', () => {
  it('returns an instant vector with [seconds, "value"] pairs at the evaluation time', () => {
    const r = instantQuery(source, 'requests_total{job="api"}', 3 * MIN + 500);
    expect(r).toEqual({
      resultType: 'vector',
      result: [
        { metric: { __name__: 'requests_total', instance: 'a', job: 'api' }, value: [180.5, '180'] },
        { metric: { __name__: 'requests_total', instance: 'b', job: 'api' }, value: [180.5, '90'] },
      ],
    });
  });

  it('returns raw samples with their own timestamps for a range selector', () => {
    const r = instantQuery(source, 'requests_total{instance="c"}[2m]', 5 * MIN);
    expect(r).toEqual({
      resultType: 'matrix',
      result: [{ metric: { __name__: 'requests_total', instance: 'c', job: 'db' }, values: [[180, '15'], [240, '25'], [300, '35']] }],
    });
  });

  it('returns scalars and strings', () => {
    expect(instantQuery(source, '1 + 2 * 3', 1234)).toEqual({ resultType: 'scalar', result: [1.234, '7'] });
    expect(instantQuery(source, '"hello"', 1000)).toEqual({ resultType: 'string', result: [1, 'hello'] });
    expect(instantQuery(source, 'time()', 90_000)).toEqual({ resultType: 'scalar', result: [90, '90'] });
  });

  it('prints values as the HTTP API does: exponents below 1e-6 and from 1e21, ±Inf, NaN', () => {
    const at = (t: number) => (instantQuery(source, 'temperature', t * MIN).result as { value: [number, string] }[])[0].value[1];
    expect([0, 1, 2, 3, 4, 5, 6].map(at)).toEqual(['21.5', '22', 'NaN', '23', '+Inf', '-Inf', '1e-07']);
    const value = (q: string) => (instantQuery(source, q, 0).result as { value: [number, string] }[])[0].value[1];
    expect(value('vector(1e21)')).toBe('1e+21');
    expect(value('vector(123456789012345680000)')).toBe('123456789012345680000');
    expect(value('vector(-0.000001)')).toBe('-0.000001');
    expect(value('vector(-1 * 0)')).toBe('-0');
  });

  it('prints scalar results in plain notation, as Scalar.MarshalJSON does', () => {
    expect(instantQuery(source, '1e-7', 0).result).toEqual([0, '0.0000001']);
    expect(instantQuery(source, '-Inf', 0).result).toEqual([0, '-Inf']);
  });

  it('reports parse errors as a bad "query" parameter, like /api/v1/query', () => {
    const e = errorOf(() => instantQuery(source, 'sum(', 0));
    expect(e.type).toBe('bad_data');
    expect(e.message).toBe('invalid parameter "query": 1:5: parse error: unclosed left parenthesis');
  });
});

describe('rangeQuery', () => {
  it('returns a matrix sorted by label set, one point per step with a value', () => {
    const r = rangeQuery(source, 'rate(requests_total[2m])', 2 * MIN, 6 * MIN, 2 * MIN);
    expect(r).toEqual({
      resultType: 'matrix',
      result: [
        { metric: { instance: 'a', job: 'api' }, values: [[120, '1'], [240, '1'], [360, '1']] },
        { metric: { instance: 'b', job: 'api' }, values: [[120, '0.5'], [240, '0.5'], [360, '0.5']] },
        { metric: { instance: 'c', job: 'db' }, values: [[120, '0.125'], [240, '0.16666666666666666'], [360, '0.16666666666666666']] },
      ],
    });
  });

  it('evaluates scalars at every step as a series without labels', () => {
    expect(rangeQuery(source, 'time() * 2', 0, 100_000, 40_000)).toEqual({
      resultType: 'matrix',
      result: [{ metric: {}, values: [[0, '0'], [40, '80'], [80, '160']] }],
    });
  });

  it('stops at the last step not after end', () => {
    const r = rangeQuery(source, 'vector(1)', 1000, 10_500, 3000);
    expect((r.result as { values: [number, string][] }[])[0].values.map((v) => v[0])).toEqual([1, 4, 7, 10]);
  });

  it('allows 11,000 steps and refuses more, as the API does', () => {
    expect(() => rangeQuery(source, 'vector(1)', 0, 11_000_000, 1000)).not.toThrow();
    const e = errorOf(() => rangeQuery(source, 'vector(1)', 0, 11_001_000, 1000));
    expect(e.type).toBe('bad_data');
    expect(e.message).toBe('exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
  });

  it.each([
    [10, 5, 1, 'invalid parameter "end": end timestamp must not be before start time'],
    [0, 10, 0, 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer'],
    [0, 10, -5, 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer'],
  ])('rejects start=%d end=%d step=%d', (start, end, step, message) => {
    const e = errorOf(() => rangeQuery(source, 'vector(1)', start, end, step));
    expect(e).toMatchObject({ type: 'bad_data', message });
  });

  it('accepts only scalar and instant vector expressions', () => {
    expect(errorOf(() => rangeQuery(source, 'requests_total[5m]', 0, 60_000, 1000)).message).toBe(
      'invalid expression type "range vector" for range query, must be Scalar or instant Vector',
    );
    expect(errorOf(() => rangeQuery(source, '"x"', 0, 60_000, 1000)).message).toBe(
      'invalid expression type "string" for range query, must be Scalar or instant Vector',
    );
  });

  it('reports parse errors without the parameter prefix, like /api/v1/query_range', () => {
    expect(errorOf(() => rangeQuery(source, 'sum(', 0, 1, 1)).message).toBe('1:5: parse error: unclosed left parenthesis');
  });
});

describe('reading the source', () => {
  /** Records every select() so tests can check how data is fetched. */
  class RecordingSource implements SampleSource {
    readonly calls: { matchers: Matcher[]; minMs: number; maxMs: number }[] = [];
    constructor(private readonly inner: SampleSource) {}
    select(matchers: Matcher[], minMs: number, maxMs: number): SeriesData[] {
      this.calls.push({ matchers, minMs, maxMs });
      return this.inner.select(matchers, minMs, maxMs);
    }
  }

  it('selects each selector once for the whole range: [start - offset - range|lookback, end - offset]', () => {
    const recording = new RecordingSource(source);
    rangeQuery(recording, 'rate(requests_total[5m] offset 1m) + requests_total', 10 * MIN, 20 * MIN, 15_000);
    expect(recording.calls.map((c) => [c.minMs, c.maxMs])).toEqual([
      [10 * MIN - MIN - 5 * MIN, 20 * MIN - MIN],
      [10 * MIN - 5 * MIN, 20 * MIN],
    ]);
    expect(recording.calls[0].matchers).toEqual([{ name: '__name__', op: '=', value: 'requests_total' }]);
  });

  it('honours lookbackDeltaMs', () => {
    const sparse = new ArraySource([series({ __name__: 'x' }, [[0, 1]])]);
    expect(instantQuery(sparse, 'x', 5 * MIN).result).toHaveLength(1);
    expect(instantQuery(sparse, 'x', 5 * MIN + 1).result).toHaveLength(0);
    expect(instantQuery(sparse, 'x', 90_000, { lookbackDeltaMs: 60_000 }).result).toHaveLength(0);
    expect(instantQuery(sparse, 'x', 60_000, { lookbackDeltaMs: 60_000 }).result).toHaveLength(1);
  });

  it('treats a label with an empty value as absent, as Prometheus does', () => {
    const s = new ArraySource([series({ __name__: 'x', a: '', b: 'y' }, [[0, 1]])]);
    expect(instantQuery(s, 'x', 0).result).toEqual([{ metric: { __name__: 'x', b: 'y' }, value: [0, '1'] }]);
    expect(instantQuery(s, 'x{a=""}', 0).result).toHaveLength(1);
  });
});

describe('semantics worth pinning down', () => {
  it('topk keeps the series Go\'s container/heap keeps among ties', () => {
    // Heap [a] + b → [a, b]; c=2 beats the top a, which is popped: [b] + c.
    const s = new ArraySource([
      series({ __name__: 'x', n: 'a' }, [[0, 1]]),
      series({ __name__: 'x', n: 'b' }, [[0, 1]]),
      series({ __name__: 'x', n: 'c' }, [[0, 2]]),
    ]);
    expect(instantQuery(s, 'topk(2, x)', 0).result).toEqual([
      { metric: { __name__: 'x', n: 'c' }, value: [0, '2'] },
      { metric: { __name__: 'x', n: 'b' }, value: [0, '1'] },
    ]);
    expect((instantQuery(s, 'bottomk(1, x)', 0).result as unknown[]).length).toBe(1);
  });

  it('fails with an execution error on many-to-many matching', () => {
    const e = errorOf(() => instantQuery(source, 'requests_total + on(job) requests_total', 0));
    expect(e.type).toBe('execution');
    expect(e.message).toBe(
      'found duplicate series for the match group {job="api"} on the right hand-side of the operation: ' +
        '[{__name__="requests_total", instance="b", job="api"}, {__name__="requests_total", instance="a", job="api"}]' +
        ';many-to-many matching not allowed: matching labels must be unique on one side',
    );
  });

  it('fails with an execution error when a function makes two series equal', () => {
    const dup = new ArraySource([series({ __name__: 'a', x: '1' }, [[0, 1]]), series({ __name__: 'b', x: '1' }, [[0, 2]])]);
    expect(errorOf(() => instantQuery(dup, 'abs({x="1"})', 0))).toMatchObject({
      type: 'execution',
      message: 'vector cannot contain metrics with the same labelset',
    });
    expect(errorOf(() => instantQuery(dup, 'sum_over_time({x="1"}[5m])', 0)).type).toBe('execution');
  });

  it('merges equal label sets that never meet at one step', () => {
    const s = new ArraySource([series({ __name__: 'a', x: '1' }, [[0, 1]]), series({ __name__: 'b', x: '1' }, [[20 * MIN, 2]])]);
    expect(rangeQuery(s, 'abs({x="1"})', 0, 20 * MIN, 10 * MIN)).toEqual({
      resultType: 'matrix',
      result: [{ metric: { x: '1' }, values: [[0, '1'], [1200, '2']] }],
    });
  });
});

describe('instant and range evaluation agree (property)', () => {
  const queries = [
    'rate(m[3m])', 'irate(m[2m])', 'increase(m[5m] offset 1m)', 'delta(g[4m])', 'idelta(g[3m])', 'm', 'g offset -2m',
    'avg_over_time(g[5m])', 'sum_over_time(g[2m])', 'min_over_time(g[3m])', 'max_over_time(g[3m])',
    'count_over_time(m[4m])', 'last_over_time(g[2m])', 'sum by (k) (m)', 'avg(g)', 'max without (k) (g)', 'min(m)',
    'count(g > 0)', 'topk(2, g)', 'bottomk by (k) (1, m)', 'quantile(0.3, g)', 'stddev(g)', 'm / ignoring(k) group(g)',
    'g * on(k) m', 'g > bool 0', 'm and g', 'm or g', 'g unless m', '-g + 1', 'abs(g) % 3', 'round(g, 0.25)',
    'clamp_min(g, -1)', 'clamp_max(g, 1)', 'scalar(sum(m)) + g', 'histogram_quantile(0.5, h)', 'sort_desc(g)',
  ];
  const value = fc.oneof(fc.integer({ min: -20, max: 20 }).map((v) => v / 4), fc.constant(NaN));
  const seriesArb = (name: string, k: string) =>
    fc
      .uniqueArray(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 25 })
      .chain((ts) => fc.array(value, { minLength: ts.length, maxLength: ts.length }).map((vs) => ({ ts: [...ts].sort((a, b) => a - b), vs })))
      .map(({ ts, vs }) => series({ __name__: name, k }, ts.map((t, i) => [t * 30_000, vs[i]])));
  const data = fc.tuple(seriesArb('m', 'a'), seriesArb('m', 'b'), seriesArb('g', 'a'), seriesArb('g', 'b'), seriesArb('h', 'a')).map(
    ([m1, m2, g1, g2, h]) => [m1, m2, g1, g2, { ...h, labels: { __name__: 'h', le: '1' } }, { ...h, labels: { __name__: 'h', le: '+Inf' } }],
  );

  it('at every step of a range query, as Prometheus\' own test runner checks', () => {
    fc.assert(
      fc.property(data, fc.constantFrom(...queries), fc.integer({ min: 1, max: 30 }), (seriesList, query, step) => {
        const s = new ArraySource(seriesList);
        const start = 5 * MIN;
        const stepMs = step * 20_000;
        const range = outcome(() => rangeQuery(s, query, start, start + 10 * stepMs, stepMs));
        for (let i = 0; i <= 10; i++) {
          const t = start + i * stepMs;
          const instant = outcome(() => instantQuery(s, query, t));
          // A range query fails if any step fails, so only an instant failure predicts the range one.
          if ('error' in instant) expect('error' in range, `${query} @${t}: instant failed, range did not`).toBe(true);
          if ('error' in range || 'error' in instant) return;
          expect(samplesAt(range.value, t), `${query} @${t}`).toEqual(samplesOf(instant.value));
        }
      }),
      { numRuns: 300 },
    );
  });

  function outcome(fn: () => QueryResult): { value: QueryResult } | { error: string } {
    try {
      return { value: fn() };
    } catch (e) {
      if (e instanceof PromQLError && e.type === 'execution') return { error: e.message };
      throw e;
    }
  }

  function samplesOf(r: QueryResult): Map<string, string> {
    if (r.resultType === 'scalar') return new Map([['{}', r.result[1]]]);
    if (r.resultType !== 'vector') throw new Error(r.resultType);
    return new Map(r.result.map((s) => [JSON.stringify(s.metric), s.value[1]]));
  }

  function samplesAt(r: QueryResult, t: number): Map<string, string> {
    if (r.resultType !== 'matrix') throw new Error(r.resultType);
    const out = new Map<string, string>();
    for (const s of r.result) {
      const p = s.values.find((v) => v[0] * 1000 === t);
      if (p) out.set(JSON.stringify(s.metric), p[1]);
    }
    return out;
  }
});
