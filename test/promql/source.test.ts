import { describe, expect, it } from 'vitest';
import { ArraySource, type SeriesData } from '../../src/promql/source.ts';

function series(labels: Record<string, string>, times: number[]): SeriesData {
  return { labels, timestamps: Float64Array.from(times), values: Float64Array.from(times, (t) => t / 10) };
}

const source = new ArraySource([
  series({ __name__: 'up', job: 'api' }, [10, 20, 30, 40]),
  series({ __name__: 'up', job: 'db' }, [15, 25]),
  series({ __name__: 'errors_total', job: 'api' }, [5]),
]);

describe('ArraySource', () => {
  it('returns matching series with the samples in [min, max], both ends included', () => {
    const out = source.select([{ name: '__name__', op: '=', value: 'up' }], 20, 30);
    expect(out.map((s) => [s.labels.job, [...s.timestamps], [...s.values]])).toEqual([
      ['api', [20, 30], [2, 3]],
      ['db', [25], [2.5]],
    ]);
  });

  it('returns zero-copy views of the stored arrays', () => {
    const [s] = source.select([{ name: 'job', op: '=', value: 'db' }, { name: '__name__', op: '=', value: 'up' }], 0, 100);
    expect(s.timestamps.buffer).toBe(source.select([{ name: 'job', op: '=', value: 'db' }], 0, 100)[0].timestamps.buffer);
  });

  it('leaves out series without samples in the window', () => {
    expect(source.select([{ name: 'job', op: '=', value: 'api' }], 6, 9)).toEqual([]);
  });

  it('applies all four matcher types, an absent label matching the empty string', () => {
    const names = (matchers: Parameters<ArraySource['select']>[0]) =>
      source.select(matchers, 0, 100).map((s) => `${s.labels.__name__}/${s.labels.job}`);
    expect(names([{ name: 'job', op: '!=', value: 'api' }])).toEqual(['up/db']);
    expect(names([{ name: '__name__', op: '=~', value: 'u.' }])).toEqual(['up/api', 'up/db']);
    expect(names([{ name: '__name__', op: '=~', value: 'u' }])).toEqual([]);
    expect(names([{ name: '__name__', op: '!~', value: 'up|x' }])).toEqual(['errors_total/api']);
    expect(names([{ name: 'missing', op: '=', value: '' }])).toHaveLength(3);
  });

  it('rejects unordered or mismatched sample arrays', () => {
    expect(() => new ArraySource([series({ a: 'b' }, [2, 1])])).toThrow(/ascending/);
    expect(() => new ArraySource([{ labels: {}, timestamps: new Float64Array(2), values: new Float64Array(1) }])).toThrow(/values/);
  });
});
