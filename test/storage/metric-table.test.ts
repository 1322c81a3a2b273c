import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { manualClock } from '../../src/storage/clock.ts';
import { MetricTable } from '../../src/storage/metric-table.ts';

const SEC = 1_000_000;
const DAY = 86_400 * SEC;
const T0 = 1_700_000_000 * SEC;

function collect(table: MetricTable, series: number, minTs = -Infinity, maxTs = Infinity) {
  const out: [number, number][] = [];
  table.visitSeries(series, minTs, maxTs, (ts, values, start, end) => {
    for (let i = start; i < end; i++) out.push([ts[i], values[i]]);
  });
  return out;
}

describe('MetricTable', () => {
  it('reads back appended samples from the head and from a sealed segment alike', () => {
    const clock = manualClock(T0);
    const t = new MetricTable({ maxHeadRows: 1000, maxHeadAgeMicros: 60 * SEC }, clock);
    for (let i = 0; i < 10; i++) {
      t.append(1, T0 + i * SEC, i, DAY);
      t.append(2, T0 + i * SEC, 100 + i, DAY);
    }
    const before = collect(t, 1);
    const seg = t.seal();
    expect(seg).not.toBeNull();
    expect(seg!.rows).toBe(20);
    expect(t.head.rows).toBe(0);
    expect(collect(t, 1)).toEqual(before);
    expect(collect(t, 2).map((p) => p[1])).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
    expect(seg!.minTs).toBe(T0);
    expect(seg!.maxTs).toBe(T0 + 9 * SEC);
  });

  it('orders a sealed segment by (series, time) with contiguous per-series slices', () => {
    const t = new MetricTable({ maxHeadRows: 1000, maxHeadAgeMicros: 60 * SEC }, manualClock(T0));
    t.append(5, T0 + 3, 3, DAY);
    t.append(2, T0 + 2, 2, DAY);
    t.append(5, T0 + 1, 1, DAY);
    t.append(2, T0 + 0, 0, DAY);
    const seg = t.seal()!;
    expect([...seg.seriesIds]).toEqual([2, 5]);
    expect([...seg.seriesStart]).toEqual([0, 2, 4]);
    expect([...seg.ts].map((x) => x - T0)).toEqual([0, 2, 1, 3]);
    const col = seg.batch.getChild('series_id')!;
    expect([...col]).toEqual([2, 2, 5, 5]);
    expect(seg.batch.getChild('timestamp')!.data[0].values).toBe(seg.ts);
  });

  it('restores time order for out-of-order appends', () => {
    const t = new MetricTable({ maxHeadRows: 1000, maxHeadAgeMicros: 60 * SEC }, manualClock(T0));
    t.appendMany(1, Float64Array.of(T0 + 5, T0 + 1, T0 + 3), Float64Array.of(5, 1, 3), DAY);
    t.append(1, T0 + 2, 2, DAY);
    expect(collect(t, 1).map((p) => p[1])).toEqual([1, 2, 3, 5]);
    t.seal();
    expect(collect(t, 1).map((p) => p[1])).toEqual([1, 2, 3, 5]);
  });

  it('restores time order, stably, whatever the arrival order (a few rows out of place or many)', () => {
    const run = fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.double({ noNaN: true })), { minLength: 1, maxLength: 12 });
    fc.assert(fc.property(fc.array(run, { maxLength: 30 }), (runs) => {
      const t = new MetricTable({ maxHeadRows: 100_000, maxHeadAgeMicros: DAY }, manualClock(T0));
      const arrived: [number, number][] = [];
      for (const r of runs) {
        t.appendMany(1, Float64Array.from(r, ([dt]) => T0 + dt), Float64Array.from(r, ([, v]) => v), DAY);
        arrived.push(...r.map(([dt, v]): [number, number] => [T0 + dt, v]));
      }
      // Array.prototype.sort is stable: equal timestamps keep arrival order.
      const expected = [...arrived].sort((a, b) => a[0] - b[0]);
      expect(collect(t, 1)).toEqual(expected);
      t.seal();
      expect(collect(t, 1)).toEqual(expected);
    }), { numRuns: 300 });
  });

  it('reuses a series\' head arrays after a seal without touching the sealed segment', () => {
    const t = new MetricTable({ maxHeadRows: 1_000_000, maxHeadAgeMicros: DAY }, manualClock(T0));
    const times = Float64Array.from({ length: 100 }, (_, i) => T0 + i);
    t.appendMany(1, times, Float64Array.from(times, (_, i) => i), DAY);
    t.appendMany(2, times, Float64Array.from(times, (_, i) => -i), DAY);
    const arrays = t.head.get(1)!.ts;
    const first = t.seal()!;
    // Series 1 comes back (its arrays are reused); series 2 skips a head and is let go.
    t.appendMany(1, Float64Array.of(T0 + 200, T0 + 150), Float64Array.of(7, 8), DAY);
    expect(t.head.get(1)!.ts).toBe(arrays);
    expect(t.head.get(2)).toBeUndefined();
    expect([...first.values.subarray(0, 3)]).toEqual([0, 1, 2]);
    expect(collect(t, 1).slice(-3)).toEqual([[T0 + 99, 99], [T0 + 150, 8], [T0 + 200, 7]]);
    t.seal();
    t.appendMany(2, Float64Array.of(T0 + 300), Float64Array.of(3), DAY);
    t.seal();
    t.appendMany(2, Float64Array.of(T0 + 400), Float64Array.of(4), DAY);
    expect(t.head.get(2)!.length).toBe(1);
    expect(collect(t, 2).slice(-2)).toEqual([[T0 + 300, 3], [T0 + 400, 4]]);
  });

  it('returns only samples inside [minTs, maxTs], both ends included', () => {
    const t = new MetricTable({ maxHeadRows: 1000, maxHeadAgeMicros: 60 * SEC }, manualClock(T0));
    for (let i = 0; i < 100; i++) t.append(1, T0 + i * SEC, i, DAY);
    t.seal();
    for (let i = 100; i < 200; i++) t.append(1, T0 + i * SEC, i, DAY);
    const got = collect(t, 1, T0 + 90 * SEC, T0 + 110 * SEC).map((p) => p[1]);
    expect(got).toEqual(Array.from({ length: 21 }, (_, i) => 90 + i));
  });

  it('skips segments whose time range is outside the query (pruning)', () => {
    const t = new MetricTable({ maxHeadRows: 1000, maxHeadAgeMicros: 60 * SEC }, manualClock(T0));
    t.append(1, T0, 1, DAY);
    const early = t.seal()!;
    t.append(1, T0 + 1000 * SEC, 2, DAY);
    t.seal();
    let visitedEarly = false;
    const orig = early.visitSeries.bind(early);
    early.visitSeries = (...args) => { visitedEarly = true; return orig(...args); };
    collect(t, 1, T0 + 500 * SEC, T0 + 2000 * SEC);
    expect(visitedEarly).toBe(false);
    collect(t, 1, T0, T0 + 10);
    expect(visitedEarly).toBe(true);
  });

  it('seals on the row threshold and on the age threshold', () => {
    const clock = manualClock(T0);
    const t = new MetricTable({ maxHeadRows: 3, maxHeadAgeMicros: 10 * SEC }, clock);
    t.append(1, T0, 1, DAY);
    expect(t.shouldSeal()).toBe(false);
    clock.advance(10 * SEC);
    expect(t.shouldSeal()).toBe(true);
    t.seal();
    expect(t.shouldSeal()).toBe(false);
    t.appendMany(1, Float64Array.of(T0 + 1, T0 + 2, T0 + 3), Float64Array.of(1, 2, 3), DAY);
    expect(t.shouldSeal()).toBe(true);
  });

  describe('TTL', () => {
    it('never returns an expired row, before or after its segment is sealed', () => {
      const clock = manualClock(T0);
      const t = new MetricTable({ maxHeadRows: 1000, maxHeadAgeMicros: 600 * SEC }, clock);
      t.append(1, T0, 1, 10 * SEC);
      t.append(1, T0 + 5 * SEC, 2, 10 * SEC);
      clock.set(T0 + 10 * SEC); // the first row expires exactly now
      expect(collect(t, 1).map((p) => p[1])).toEqual([2]);
      t.seal();
      expect(collect(t, 1).map((p) => p[1])).toEqual([2]);
      clock.set(T0 + 15 * SEC);
      expect(collect(t, 1)).toEqual([]);
    });

    it('filters per row when TTLs differ within a segment', () => {
      const clock = manualClock(T0);
      const t = new MetricTable({ maxHeadRows: 1000, maxHeadAgeMicros: 600 * SEC }, clock);
      t.append(1, T0, 1, 100 * SEC);
      t.append(1, T0 + 1, 2, 1 * SEC);
      t.append(1, T0 + 2, 3, 100 * SEC);
      const seg = t.seal()!;
      expect(seg.expiry).not.toBeNull();
      clock.set(T0 + 50 * SEC);
      expect(collect(t, 1).map((p) => p[1])).toEqual([1, 3]);
    });

    it('drops a segment only once all of its rows have expired', () => {
      const clock = manualClock(T0);
      const t = new MetricTable({ maxHeadRows: 1000, maxHeadAgeMicros: 600 * SEC }, clock);
      t.append(1, T0, 1, 10 * SEC);
      t.append(2, T0 + 20 * SEC, 2, 10 * SEC);
      t.seal();
      clock.set(T0 + 15 * SEC);
      expect(t.dropExpired()).toHaveLength(0);
      expect(t.segments).toHaveLength(1);
      clock.set(T0 + 30 * SEC);
      expect(t.dropExpired()).toHaveLength(1);
      expect(t.segments).toHaveLength(0);
    });
  });

  it('keeps trace and span ids per sample as a dictionary column', () => {
    const t = new MetricTable({ maxHeadRows: 1000, maxHeadAgeMicros: 600 * SEC }, manualClock(T0));
    t.append(1, T0, 1, DAY);
    t.append(1, T0 + 1, 2, DAY, 'trace-a', 'span-1');
    const seg = t.seal()!;
    expect(seg.traceCodes![0]).toBe(0);
    expect(seg.idValue(seg.traceCodes![1]!)).toBe('trace-a');
    expect(seg.batch.getChild('span_id')!.get(1)).toBe('span-1');
    expect(seg.batch.getChild('span_id')!.get(0)).toBeNull();
  });

  it('keeps every series intact while new series reuse the columns of series that stopped (churn across seals)', () => {
    const run = fc.record({ series: fc.integer({ min: 0, max: 59 }), length: fc.integer({ min: 1, max: 300 }), withIds: fc.boolean() });
    fc.assert(
      fc.property(fc.array(fc.array(run, { maxLength: 25 }), { minLength: 1, maxLength: 8 }), (heads) => {
        const t = new MetricTable({ maxHeadRows: 1 << 30, maxHeadAgeMicros: DAY }, manualClock(T0));
        const model = new Map<number, { ts: number; value: number; trace: string | null }[]>();
        let next = 0;
        for (const runs of heads) {
          for (const r of runs) {
            const rows = model.get(r.series) ?? [];
            model.set(r.series, rows);
            const base = rows.length === 0 ? T0 : rows[rows.length - 1]!.ts + 1;
            const ts = Float64Array.from({ length: r.length }, (_, i) => base + i);
            const values = Float64Array.from({ length: r.length }, () => next++);
            const dictionary = r.withIds ? Array.from(values, (v) => `t${v}`) : [];
            const codes = Uint32Array.from({ length: r.length }, (_, i) => (r.withIds ? i + 1 : 0));
            const ids = r.withIds ? { dictionary, trace: codes, span: codes } : undefined;
            t.appendMany(r.series, ts, values, DAY, ids, ids && t.headCodesOf(dictionary));
            for (let i = 0; i < r.length; i++) rows.push({ ts: ts[i]!, value: values[i]!, trace: r.withIds ? `t${values[i]}` : null });
          }
          t.seal();
        }
        for (const [series, rows] of model) {
          const got: { ts: number; value: number; trace: string | null }[] = [];
          for (const seg of t.segments) {
            seg.visitSeries(series, -Infinity, Infinity, T0, (ts, values, start, end) => {
              for (let i = start; i < end; i++) got.push({ ts: ts[i]!, value: values[i]!, trace: seg.batch.getChild('trace_id')?.get(i) ?? null });
            });
          }
          expect(got).toEqual(rows);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('agrees with a naive array model under random appends, seals and queries', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('append' as const), series: fc.integer({ min: 0, max: 4 }), dt: fc.integer({ min: 0, max: 1000 }), value: fc.double({ noNaN: true }), ttl: fc.integer({ min: 1, max: 2000 }) }),
      fc.record({ kind: fc.constant('seal' as const) }),
      fc.record({ kind: fc.constant('tick' as const), dt: fc.integer({ min: 0, max: 300 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 }), (ops, a, b) => {
        const clock = manualClock(T0);
        const t = new MetricTable({ maxHeadRows: 1 << 30, maxHeadAgeMicros: 1 << 30 }, clock);
        const model: { series: number; ts: number; value: number; expiry: number }[] = [];
        for (const o of ops) {
          if (o.kind === 'append') {
            t.append(o.series, T0 + o.dt, o.value, o.ttl);
            model.push({ series: o.series, ts: T0 + o.dt, value: o.value, expiry: T0 + o.dt + o.ttl });
          } else if (o.kind === 'seal') t.seal();
          else clock.advance(o.dt);
          t.dropExpired();
        }
        const [lo, hi] = [T0 + Math.min(a, b), T0 + Math.max(a, b)];
        for (let s = 0; s < 5; s++) {
          const got = collect(t, s, lo, hi).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
          const want = model
            .filter((r) => r.series === s && r.ts >= lo && r.ts <= hi && r.expiry > clock())
            .map((r) => [r.ts, r.value] as [number, number])
            .sort((x, y) => x[0] - y[0] || x[1] - y[1]);
          expect(got).toEqual(want);
        }
      }),
      { numRuns: 300 },
    );
  });
});
