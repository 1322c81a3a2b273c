import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeriesRegistry } from '../../src/index/series.ts';
import { compileMatcher, MatcherError, type Matcher } from '../../src/index/matcher.ts';

function registry() {
  const r = new SeriesRegistry();
  const ids = {
    a: r.getOrCreate({ __name__: 'req', job: 'api', code: '200' }),
    b: r.getOrCreate({ __name__: 'req', job: 'api', code: '500' }),
    c: r.getOrCreate({ __name__: 'req', job: 'web' }),
    d: r.getOrCreate({ __name__: 'tokens', job: 'api', model: 'llama-3' }),
  };
  return { r, ids };
}

const sel = (r: SeriesRegistry, ...m: Matcher[]) => [...r.postings.select(m)];

describe('SeriesRegistry', () => {
  it('gives the same id to the same label set in any key order', () => {
    const r = new SeriesRegistry();
    const a = r.getOrCreate({ __name__: 'm', x: '1', y: '2' });
    expect(r.getOrCreate({ y: '2', __name__: 'm', x: '1' })).toBe(a);
    expect(r.getOrCreate({ __name__: 'm', x: '1' })).not.toBe(a);
    expect(r.labelsOf(a)).toEqual({ __name__: 'm', x: '1', y: '2' });
    expect(r.info(a)!.labels.map((l) => l[0])).toEqual(['__name__', 'x', 'y']);
  });

  it('forgets series whose samples all expired and drops them from postings', () => {
    const r = new SeriesRegistry();
    const a = r.getOrCreate({ __name__: 'm', x: '1' });
    const b = r.getOrCreate({ __name__: 'm', x: '2' });
    r.noteExpiry(a, 100);
    r.noteExpiry(b, 200);
    expect(r.removeExpired(150)).toBe(1);
    expect(sel(r, { name: '__name__', op: '=', value: 'm' })).toEqual([b]);
    expect(r.postings.labelValues('x')).toEqual(['2']);
    expect(r.lookup({ __name__: 'm', x: '1' })).toBeUndefined();
    const c = r.getOrCreate({ __name__: 'm', x: '1' });
    expect(c).not.toBe(a);
  });
});

describe('SeriesRegistry by labels object', () => {
  it('finds a repeated labels object without a new series, and a removed one anew', () => {
    const r = new SeriesRegistry();
    const labels = { host: 'a' };
    const info = r.seriesInfo('m', labels, 'ms');
    expect(r.seriesInfo('m', labels)).toBe(info);
    expect(r.getOrCreateSeries('m', { host: 'a' })).toBe(info.id);
    expect(r.seriesInfo('n', labels).id).not.toBe(info.id);
    r.noteExpiry(info.id, 100);
    r.removeExpired(200);
    const again = r.seriesInfo('m', labels);
    expect(again.id).not.toBe(info.id);
    expect(r.info(again.id)).toBe(again);
    expect(r.info(info.id)).toBeUndefined();
  });

  it('remembers a series name object\'s series per registry, and looks a removed series up again', () => {
    const r = new SeriesRegistry(), other = new SeriesRegistry();
    other.getOrCreateSeries('warm', {}); // ids of the two registries differ
    const name = { metric: 'm', unit: 'ms', labels: { host: 'a' } };
    const info = r.seriesOf(name);
    expect(r.info(info.id)!.unit).toBe('ms');
    expect(r.seriesOf(name)).toBe(info);
    expect(r.getOrCreateSeries('m', { host: 'a' })).toBe(info.id);
    const elsewhere = other.seriesOf(name);
    expect(elsewhere).not.toBe(info);
    expect(other.info(elsewhere.id)).toBe(elsewhere);
    expect(r.seriesOf(name)).toBe(info);
    r.noteExpiry(info.id, 100);
    r.removeExpired(200);
    const again = r.seriesOf(name);
    expect(again.id).not.toBe(info.id);
    expect(r.info(again.id)).toBe(again);
  });
});

describe('Postings.select', () => {
  it('equality and inequality', () => {
    const { r, ids } = registry();
    expect(sel(r, { name: '__name__', op: '=', value: 'req' })).toEqual([ids.a, ids.b, ids.c]);
    expect(sel(r, { name: '__name__', op: '=', value: 'req' }, { name: 'code', op: '!=', value: '200' })).toEqual([ids.b, ids.c]);
    expect(sel(r, { name: 'job', op: '=', value: 'nope' })).toEqual([]);
  });

  it('regex matchers are fully anchored', () => {
    const { r, ids } = registry();
    expect(sel(r, { name: 'code', op: '=~', value: '2..' })).toEqual([ids.a]);
    expect(sel(r, { name: 'code', op: '=~', value: '2' })).toEqual([]);
    expect(sel(r, { name: 'model', op: '=~', value: 'llama' })).toEqual([]);
    expect(sel(r, { name: 'model', op: '=~', value: 'llama.*' })).toEqual([ids.d]);
    expect(sel(r, { name: 'job', op: '=~', value: 'api|web' })).toEqual([ids.a, ids.b, ids.c, ids.d]);
  });

  it('negative regex keeps series without the label', () => {
    const { r, ids } = registry();
    expect(sel(r, { name: '__name__', op: '=', value: 'req' }, { name: 'code', op: '!~', value: '5..' })).toEqual([ids.a, ids.c]);
  });

  it('empty-value rule: {a=""} selects series without label a', () => {
    const { r, ids } = registry();
    expect(sel(r, { name: '__name__', op: '=', value: 'req' }, { name: 'code', op: '=', value: '' })).toEqual([ids.c]);
    expect(sel(r, { name: '__name__', op: '=', value: 'req' }, { name: 'code', op: '!=', value: '' })).toEqual([ids.a, ids.b]);
    expect(sel(r, { name: '__name__', op: '=', value: 'req' }, { name: 'code', op: '=~', value: '|200' })).toEqual([ids.a, ids.c]);
    expect(sel(r, { name: '__name__', op: '=', value: 'req' }, { name: 'code', op: '!~', value: '' })).toEqual([ids.a, ids.b]);
    expect(sel(r, { name: 'nolabel', op: '=', value: '' })).toEqual([ids.a, ids.b, ids.c, ids.d]);
  });

  it('agrees with filtering every series by every compiled matcher', () => {
    const value = fc.constantFrom('', 'a', 'b', 'ab', 'ba');
    const labelSet = fc.record({ x: value, y: value }, { requiredKeys: [] });
    const pattern = fc.constantFrom('', 'a', 'a.*', '.*b', 'a|b', '.+', '[ab]{2}');
    const matcher = fc.record({
      name: fc.constantFrom('x', 'y', 'z'),
      op: fc.constantFrom('=', '!=', '=~', '!~') as fc.Arbitrary<Matcher['op']>,
      value: pattern,
    });
    fc.assert(
      fc.property(fc.array(labelSet, { maxLength: 30 }), fc.array(matcher, { minLength: 1, maxLength: 3 }), (sets, matchers) => {
        const r = new SeriesRegistry();
        const all = new Map<number, Record<string, string>>();
        for (const s of sets) {
          const labels = Object.fromEntries(Object.entries(s).filter(([, v]) => v !== ''));
          all.set(r.getOrCreate({ __name__: 'm', ...labels }), labels);
        }
        const compiled = matchers.map(compileMatcher);
        const want = [...all.entries()]
          .filter(([, l]) => compiled.every((m) => m.matches(l[m.name] ?? '')))
          .map(([id]) => id)
          .sort((p, q) => p - q);
        expect(sel(r, ...matchers)).toEqual(want);
      }),
      { numRuns: 500 },
    );
  });

  it('a pathological regex runs in linear time (RE2)', () => {
    const r = new SeriesRegistry();
    r.getOrCreate({ __name__: 'm', x: 'a'.repeat(50_000) + '!' });
    const ids = sel(r, { name: 'x', op: '=~', value: '(a+)+$' });
    expect(ids).toEqual([]);
  });

  it('rejects an invalid regex with a clear error', () => {
    expect(() => compileMatcher({ name: 'x', op: '=~', value: '(' })).toThrow(MatcherError);
    expect(() => compileMatcher({ name: 'x', op: '=~', value: '(' })).toThrow(/invalid regular expression/);
  });
});

describe('regex semantics', () => {
  it('as in Prometheus 2.42, `.` does not match a newline', () => {
    expect(compileMatcher({ name: 'x', op: '=~', value: 'a.b' }).matches('a\nb')).toBe(false);
    expect(compileMatcher({ name: 'x', op: '=~', value: 'a.b' }).matches('a-b')).toBe(true);
  });
});
