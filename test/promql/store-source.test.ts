import { describe, expect, it } from 'vitest';
import type { Matcher } from '../../src/index/matcher.ts';
import { instantQuery, rangeQuery } from '../../src/promql/engine.ts';
import { ArraySource, type SeriesData } from '../../src/promql/source.ts';
import { sanitizeLabelName, sanitizeMetricName, StoreSource } from '../../src/promql/store-source.ts';
import { manualClock } from '../../src/storage/clock.ts';
import { Store } from '../../src/store.ts';

const T0 = Date.UTC(2026, 0, 1) * 1000; // µs
const HOUR_S = 3600;

function storeWith(clockUs = T0 + 3_600_000_000): Store {
  return new Store({ clock: manualClock(clockUs) });
}

/** Series `g` written out of order across two seals, with repeated times (the last written wins): 1, 2, 30, 40 at base + 1..4 s. */
function storeWithDisorderedG(): { store: Store; base: number } {
  const store = storeWith();
  const base = ms(T0);
  add(store, 'g', {}, [base + 3000, base + 4000], [3, 4]);
  store.sealAll();
  add(store, 'g', {}, [base + 1000, base + 4000], [1, 40]);
  store.sealAll();
  add(store, 'g', {}, [base + 2000, base + 3000], [2, 30]);
  return { store, base };
}

/** Appends samples (times in ms) to a series through the series-batch path. */
function add(store: Store, metric: string, labels: Record<string, string>, timesMs: number[], values: number[], ttlSeconds = 10 * HOUR_S): void {
  store.apply({
    ttlSeconds, events: [],
    series: [{ metric, labels, timestamps: Float64Array.from(timesMs, (t) => t * 1000), values: Float64Array.from(values) }],
  });
}

const eq = (name: string, value: string): Matcher => ({ name, op: '=', value });
const ms = (us: number) => us / 1000;

function plain(series: SeriesData[]) {
  return series
    .map((s) => ({ labels: s.labels, t: [...s.timestamps], v: [...s.values] }))
    .sort((a, b) => JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)));
}

describe('name sanitising', () => {
  it.each([
    ['http_requests_total', 'http_requests_total'],
    ['llm.tokens', 'llm_tokens'],
    ['a:b', 'a:b'],
    ['9lives', '_9lives'],
    ['héllo wörld', 'h_llo_w_rld'],
    ['emoji😀x', 'emoji_x'],
    ['', '_'],
  ])('metric %j -> %j', (raw, want) => expect(sanitizeMetricName(raw)).toBe(want));

  it.each([
    ['model_id', 'model_id'],
    ['model.id', 'model_id'],
    ['a:b', 'a_b'],
    ['0x', '_0x'],
    ['k-8s/ns', 'k_8s_ns'],
  ])('label %j -> %j', (raw, want) => expect(sanitizeLabelName(raw)).toBe(want));
});

describe('StoreSource', () => {
  it('returns what an ArraySource over the same samples returns (ms times, both ends inclusive)', () => {
    const store = storeWith();
    const base = ms(T0);
    add(store, 'up', { job: 'api' }, [base + 10, base + 20, base + 30, base + 40], [1, 2, 3, 4]);
    add(store, 'up', { job: 'db' }, [base + 15, base + 25], [5, 6]);
    add(store, 'errors_total', { job: 'api' }, [base + 5], [7]);
    const ours = new StoreSource(store);
    const reference = new ArraySource([
      { labels: { __name__: 'up', job: 'api' }, timestamps: Float64Array.from([10, 20, 30, 40], (t) => base + t), values: Float64Array.from([1, 2, 3, 4]) },
      { labels: { __name__: 'up', job: 'db' }, timestamps: Float64Array.from([15, 25], (t) => base + t), values: Float64Array.from([5, 6]) },
      { labels: { __name__: 'errors_total', job: 'api' }, timestamps: Float64Array.from([base + 5]), values: Float64Array.from([7]) },
    ]);
    const cases: [Matcher[], number, number][] = [
      [[eq('__name__', 'up')], base + 20, base + 30],
      [[eq('job', 'api')], base, base + 100],
      [[{ name: '__name__', op: '=~', value: 'u.|e.*' }], base + 5, base + 15],
      [[{ name: 'job', op: '!=', value: 'api' }], base, base + 100],
      [[eq('missing', '')], base, base + 100],
      [[eq('job', 'api')], base + 6, base + 9],
    ];
    for (const [matchers, lo, hi] of cases) {
      expect(plain(ours.select(matchers, lo, hi)), JSON.stringify(matchers)).toEqual(plain(reference.select(matchers, lo, hi)));
    }
  });

  it('reads sealed segments and the head as one series, in time order', () => {
    const store = storeWith();
    const base = ms(T0);
    add(store, 'g', {}, [base + 1000, base + 2000], [1, 2]);
    store.sealAll();
    add(store, 'g', {}, [base + 3000], [3]);
    store.sealAll();
    add(store, 'g', {}, [base + 4000, base + 5000], [4, 5]);
    const [s] = new StoreSource(store).select([eq('__name__', 'g')], base, base + 10_000);
    expect([...s.timestamps]).toEqual([1000, 2000, 3000, 4000, 5000].map((t) => base + t));
    expect([...s.values]).toEqual([1, 2, 3, 4, 5]);
  });

  it('reads times only when asked (count_over_time): the same times, no values, repeats and disorder fixed', () => {
    const { store, base } = storeWithDisorderedG();
    add(store, 'h', { k: 'h' }, [base + 1000, base + 2000], [5, 6]);
    store.sealAll();
    const source = new StoreSource(store);
    const full = source.select([eq('__name__', 'g')], base, base + 10_000);
    const [g] = source.select([eq('__name__', 'g')], base, base + 10_000, true);
    expect([...g.timestamps]).toEqual([...full[0].timestamps]);
    expect(g.values).toHaveLength(0);
    // One slice of one segment, read in place: no values either.
    const [h] = source.select([eq('__name__', 'h')], base, base + 10_000, true);
    expect([...h.timestamps]).toEqual([base + 1000, base + 2000]);
    expect(h.values).toHaveLength(0);
    // Through the engine: count_over_time and sum of it, as over an ArraySource with the same samples.
    const reference = new ArraySource([
      { labels: { __name__: 'g' }, timestamps: full[0].timestamps, values: full[0].values },
      { labels: { __name__: 'h', k: 'h' }, timestamps: Float64Array.of(base + 1000, base + 2000), values: Float64Array.of(5, 6) },
    ]);
    for (const q of ['count_over_time({__name__=~"g|h"}[3s])', 'sum(count_over_time({__name__=~"g|h"}[10s]))', 'count_over_time(g[2s])']) {
      expect(rangeQuery(source, q, base, base + 6000, 1000), q).toEqual(rangeQuery(reference, q, base, base + 6000, 1000));
      expect(instantQuery(source, q, base + 5000), q).toEqual(instantQuery(reference, q, base + 5000));
    }
  });

  it('sorts samples that arrived out of order across seals, and keeps the last written at a repeated time', () => {
    const { store, base } = storeWithDisorderedG();
    const [s] = new StoreSource(store).select([eq('__name__', 'g')], base, base + 10_000);
    expect([...s.timestamps]).toEqual([1000, 2000, 3000, 4000].map((t) => base + t));
    expect([...s.values]).toEqual([1, 2, 30, 40]);
  });

  it('reads a series that is one slice of a sealed segment in place, and copies the rest', () => {
    const store = storeWith();
    const base = ms(T0);
    add(store, 'g', { k: 'sealed' }, [base + 1000, base + 2000, base + 3000], [1, 2, 3]);
    add(store, 'g', { k: 'split' }, [base + 1000], [1]);
    store.sealAll();
    add(store, 'g', { k: 'split' }, [base + 2000], [2]);
    add(store, 'g', { k: 'head' }, [base + 1000], [1]);
    for (const cacheBytes of [undefined, 8]) {
      const source = new StoreSource(store, { cacheBytes });
      const read = () => Object.fromEntries(source.select([eq('__name__', 'g')], base, base + 2500).map((s) => [s.labels.k, s]));
      const first = read();
      expect(Object.fromEntries(Object.entries(first).map(([k, s]) => [k, [[...s.timestamps], [...s.values]]]))).toEqual({
        sealed: [[base + 1000, base + 2000], [1, 2]],
        split: [[base + 1000, base + 2000], [1, 2]],
        head: [[base + 1000], [1]],
      });
      const again = read();
      // In place: the same millisecond array on every read (unless the budget is too small to keep it).
      expect(again.sealed.timestamps.buffer === first.sealed.timestamps.buffer).toBe(cacheBytes === undefined);
      expect(again.sealed.values.buffer === store.metrics.segments[0].values.buffer).toBe(cacheBytes === undefined);
      expect(again.split.timestamps.buffer).not.toBe(first.split.timestamps.buffer);
    }
  });

  it('drops the cached times of segments that expired', () => {
    const clock = manualClock(T0 + 1_000_000);
    const store = new Store({ clock });
    add(store, 'g', {}, [ms(T0)], [1], 60);
    store.sealAll();
    add(store, 'h', {}, [ms(T0)], [2], 3600);
    store.sealAll();
    const source = new StoreSource(store);
    expect(source.select([{ name: '__name__', op: '=~', value: 'g|h' }], ms(T0) - 1, ms(T0) + 1)).toHaveLength(2);
    clock.set(T0 + 120_000_000);
    store.dropExpired();
    expect(store.metrics.segments).toHaveLength(1);
    expect(source.select([{ name: '__name__', op: '=~', value: 'g|h' }], ms(T0) - 1, ms(T0) + 1).map((s) => s.labels.__name__)).toEqual(['h']);
    expect((source as unknown as { millis: { entries: Map<unknown, unknown> } }).millis.entries.size).toBe(1);
  });

  it('truncates microseconds to milliseconds; samples within one millisecond are one (the last written)', () => {
    const store = storeWith();
    store.apply({
      ttlSeconds: 36000, events: [],
      series: [{ metric: 'g', labels: {}, timestamps: Float64Array.from([T0 + 1_000_100, T0 + 1_000_900, T0 + 2_000_000]), values: Float64Array.from([1, 2, 3]) }],
    });
    const [s] = new StoreSource(store).select([eq('__name__', 'g')], ms(T0), ms(T0) + 3000);
    expect([...s.timestamps]).toEqual([ms(T0) + 1000, ms(T0) + 2000]);
    expect([...s.values]).toEqual([2, 3]);
    // The window is in whole milliseconds: a sample at 1000.9 ms is inside [1000, 1000].
    expect(new StoreSource(store).select([eq('__name__', 'g')], ms(T0) + 1000, ms(T0) + 1000)).toHaveLength(1);
  });

  it('never returns expired samples', () => {
    const clock = manualClock(T0 + 60_000_000);
    const store = new Store({ clock });
    add(store, 'g', {}, [ms(T0), ms(T0) + 30_000], [1, 2], 60);
    const source = new StoreSource(store);
    expect(source.select([eq('__name__', 'g')], ms(T0) - 1, ms(T0) + 100_000)[0].values.length).toBe(1);
    clock.set(T0 + 200_000_000);
    expect(source.select([eq('__name__', 'g')], ms(T0) - 1, ms(T0) + 100_000)).toEqual([]);
  });

  it('shows sanitised names and finds series by them', () => {
    const store = storeWith();
    const base = ms(T0);
    add(store, 'llm.tokens', { 'model.id': 'llama', 'k-8s': 'x', plain: 'p' }, [base + 1000], [1]);
    add(store, 'llm.tokens', { 'model.id': 'other' }, [base + 1000], [2]);
    add(store, 'ok_metric', { 'model.id': 'llama' }, [base + 1000], [3]);
    const source = new StoreSource(store);
    const names = (matchers: Matcher[]) => source.select(matchers, base, base + 5000).map((s) => s.labels).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(names([eq('__name__', 'llm_tokens'), eq('model_id', 'llama')])).toEqual([
      { __name__: 'llm_tokens', model_id: 'llama', k_8s: 'x', plain: 'p' },
    ]);
    expect(names([eq('model_id', 'llama')]).map((l) => l.__name__)).toEqual(['llm_tokens', 'ok_metric']);
    expect(names([{ name: '__name__', op: '=~', value: 'llm_.*' }])).toHaveLength(2);
    expect(names([{ name: '__name__', op: '!=', value: 'llm_tokens' }]).map((l) => l.__name__)).toEqual(['ok_metric']);
    // The raw names are not Prometheus names: they select nothing.
    expect(names([eq('__name__', 'llm.tokens')])).toEqual([]);
    expect(names([eq('k_8s', 'x')])).toHaveLength(1);
    expect(names([eq('__name__', 'ok_metric'), eq('model_id', '')])).toEqual([]);
    expect(names([eq('__name__', 'llm_tokens'), eq('k_8s', '')]).map((l) => l.model_id)).toEqual(['other']);
    // And PromQL over them.
    const result = instantQuery(source, 'sum by (model_id) (llm_tokens)', base + 2000);
    expect(result).toEqual({ resultType: 'vector', result: expect.arrayContaining([
      { metric: { model_id: 'llama' }, value: [(base + 2000) / 1000, '1'] },
      { metric: { model_id: 'other' }, value: [(base + 2000) / 1000, '2'] },
    ]) });
  });

  it('collisions: a valid raw label name wins within a series; equal sanitised series merge (later series wins a shared time)', () => {
    const store = storeWith();
    const base = ms(T0);
    add(store, 'm', { 'a.b': 'dotted', a_b: 'valid' }, [base + 1000], [1]);
    add(store, 'm', { 'a.b': 'dotted', 'a-b': 'dashed' }, [base + 1000], [2]);
    add(store, 'x.y', { k: 'v' }, [base + 1000, base + 2000], [1, 2]);
    add(store, 'x_y', { k: 'v' }, [base + 2000, base + 3000], [20, 30]);
    const source = new StoreSource(store);
    const m = source.select([eq('__name__', 'm')], base, base + 5000).map((s) => s.labels.a_b).sort();
    // 'a-b' < 'a.b' in byte order: the smallest raw name wins when none is valid.
    expect(m).toEqual(['dashed', 'valid']);
    expect(source.select([eq('a_b', 'valid')], base, base + 5000)).toHaveLength(1);
    expect(source.select([eq('a_b', 'dotted')], base, base + 5000)).toHaveLength(0);
    const merged = source.select([eq('__name__', 'x_y')], base, base + 5000);
    expect(merged).toHaveLength(1);
    expect([...merged[0].timestamps]).toEqual([base + 1000, base + 2000, base + 3000]);
    expect([...merged[0].values]).toEqual([1, 20, 30]);
    expect(source.series([[eq('__name__', 'x_y')]], -Infinity, Infinity)).toEqual([{ __name__: 'x_y', k: 'v' }]);
  });

  it('answers series, label names, label values and units in the sanitised view', () => {
    const store = storeWith();
    const base = ms(T0);
    add(store, 'llm.tokens', { 'model.id': 'b', empty: '' }, [base + 1000], [1]);
    add(store, 'llm.tokens', { 'model.id': 'a' }, [base + 9000], [1]);
    store.apply({ ttlSeconds: 36000, events: [], series: [{ metric: 'lat', labels: { job: 'j' }, unit: 'ms', timestamps: Float64Array.from([T0]), values: Float64Array.from([1]) }] });
    const source = new StoreSource(store);
    expect(source.labelNames([], -Infinity, Infinity)).toEqual(['__name__', 'job', 'model_id']);
    expect(source.labelNames([[eq('__name__', 'lat')]], -Infinity, Infinity)).toEqual(['__name__', 'job']);
    expect(source.labelValues('__name__', [], -Infinity, Infinity)).toEqual(['lat', 'llm_tokens']);
    expect(source.labelValues('model_id', [], -Infinity, Infinity)).toEqual(['a', 'b']);
    expect(source.labelValues('model_id', [], base + 5000, Infinity)).toEqual(['a']);
    expect(source.labelValues('model_id', [[eq('model_id', 'b')]], -Infinity, Infinity)).toEqual(['b']);
    expect(source.series([[eq('__name__', 'llm_tokens')]], -Infinity, Infinity)).toEqual([
      { __name__: 'llm_tokens', model_id: 'a' },
      { __name__: 'llm_tokens', model_id: 'b' },
    ]);
    expect(source.series([[eq('__name__', 'llm_tokens')], [eq('job', 'j')]], base + 5000, base + 10_000)).toEqual([{ __name__: 'llm_tokens', model_id: 'a' }]);
    expect(source.metricUnits()).toEqual(new Map([['lat', new Set(['ms'])], ['llm_tokens', new Set([''])]]));
  });

  it('range queries over the store equal those over an ArraySource holding the same samples', () => {
    const store = storeWith(T0 + 3 * 3_600_000_000);
    const base = ms(T0);
    const series: SeriesData[] = [];
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let i = 0; i < 20; i++) {
      const times: number[] = [];
      const values: number[] = [];
      let v = 0;
      for (let t = base + Math.floor(random() * 15_000); t < base + 2 * 3_600_000; t += 15_000) {
        times.push(t);
        v = random() < 0.01 ? 0 : v + Math.floor(random() * 10);
        values.push(v);
      }
      const labels = { job: `j${i % 3}`, instance: `i${i}` };
      // Split across seals to exercise the segment + head merge.
      const cut = Math.floor(times.length / 2);
      add(store, 'c_total', labels, times.slice(0, cut), values.slice(0, cut));
      if (i % 2 === 0) store.sealAll();
      add(store, 'c_total', labels, times.slice(cut), values.slice(cut));
      series.push({ labels: { __name__: 'c_total', ...labels }, timestamps: Float64Array.from(times), values: Float64Array.from(values) });
    }
    const reference = new ArraySource(series);
    const source = new StoreSource(store);
    for (const q of ['c_total', 'rate(c_total[5m])', 'sum by (job) (increase(c_total[10m]))', 'topk(3, c_total)']) {
      expect(rangeQuery(source, q, base, base + 2 * 3_600_000, 60_000), q).toEqual(rangeQuery(reference, q, base, base + 2 * 3_600_000, 60_000));
    }
  });

  it('asked again after series were added, orders the new selection afresh', () => {
    const store = storeWith();
    const base = ms(T0);
    const source = new StoreSource(store);
    const query = () => rangeQuery(source, 'sum by (job) (up)', base, base + 120_000, 60_000);
    const labelsOf = (r: ReturnType<typeof query>) => (r.result as { metric: Record<string, string> }[]).map((s) => s.metric.job);
    add(store, 'up', { job: 'm' }, [base], [1]);
    add(store, 'up', { job: 'c' }, [base], [2]);
    expect(labelsOf(query())).toEqual(['c', 'm']);
    expect(labelsOf(query())).toEqual(['c', 'm']);
    add(store, 'up', { job: 'a' }, [base], [3]);
    add(store, 'up', { job: 'z' }, [base], [4]);
    expect(labelsOf(query())).toEqual(['a', 'c', 'm', 'z']);
    expect(rangeQuery(source, 'up', base, base + 60_000, 60_000)).toEqual(rangeQuery(new ArraySource(['m', 'c', 'a', 'z'].map((job, i) => ({
      labels: { __name__: 'up', job }, timestamps: Float64Array.from([base]), values: Float64Array.from([i + 1]),
    }))), 'up', base, base + 60_000, 60_000));
  });
});
