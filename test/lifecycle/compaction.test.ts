/**
 * Memory under mixed TTLs (found by the soak: a 1-day stream beside a 20 s one kept every
 * 20 s row in memory for a day, since a segment is dropped only once all its rows expired).
 * Sweeps rebuild mostly-expired segments from their live rows; answers never change.
 */
import { sampleIdsFromStrings } from '../../src/storage/sample-ids.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/store.ts';
import { manualClock } from '../../src/storage/clock.ts';
import { compactMetricSegment, compactRowSegment, mergeMetricSegments, mergeSmallRuns, MERGE_MIN_RUN } from '../../src/storage/compact.ts';
import { MetricTable } from '../../src/storage/metric-table.ts';
import { spanLogs } from '../../src/server/ui.ts';
import type { IngestBatch } from '../../src/storage/events.ts';

const SEC = 1_000_000;
const T0 = Date.UTC(2026, 0, 1) * 1000;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function points(store: Store, name: string): [number, number][] {
  const out: [number, number][] = [];
  for (const id of store.selectSeries([{ name: '__name__', op: '=', value: name }])) {
    store.visitSeries(id, -Infinity, Infinity, (ts, v, s, e) => { for (let i = s; i < e; i++) out.push([ts[i]!, v[i]!]); });
  }
  return out.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

/** A short-lived stream (10 s) and a long-lived one (1 day) in the same heads. */
function mixedBatches(t: number, i: number): IngestBatch[] {
  const shortTs = Float64Array.from({ length: 100 }, (_, j) => t + j);
  return [
    {
      ttlSeconds: 10,
      series: [{ metric: 'short', labels: { i: String(i % 3) }, timestamps: shortTs, values: shortTs.map((_, j) => j), ids: sampleIdsFromStrings(100, Array.from(shortTs, (_, j) => `st${i}-${j}`), Array.from(shortTs, () => null)) }],
      events: [
        { kind: 'span_start', traceId: `short-${i}`, spanId: `short-${i}`, ts: t, name: 'short', attributes: { payload: 'x'.repeat(200) } },
        ...Array.from({ length: 20 }, (_, j) => ({ kind: 'span_start' as const, traceId: `short-${i}`, spanId: `short-${i}-${j}`, parentSpanId: `short-${i}`, ts: t + j, name: 'child' })),
        ...Array.from({ length: 70 }, (_, j) => ({ kind: 'log' as const, traceId: `short-${i}`, spanId: `short-${i}`, ts: t + j, message: `short log ${j}`, severity: `sev-${i}` })),
      ],
    },
    {
      ttlSeconds: 86_400,
      series: [{ metric: 'long', labels: {}, timestamps: Float64Array.of(t), values: Float64Array.of(i), ids: sampleIdsFromStrings(1, [`lt${i}`], ['ls']) }],
      events: [
        { kind: 'span_start', traceId: `long-${i}`, spanId: `long-${i}`, ts: t, name: 'long' },
        { kind: 'log', traceId: `long-${i}`, spanId: `long-${i}`, ts: t + 1, message: `long log ${i}`, severity: 'info' },
      ],
    },
  ];
}

describe('in-memory compaction of mixed-TTL segments', () => {
  it('keeps only the live rows once the short TTL has passed; every answer is unchanged', () => {
    const clock = manualClock(T0);
    const store = new Store({ clock });
    for (let i = 0; i < 5; i++) for (const b of mixedBatches(T0 + i * 1000, i)) store.apply(b);
    store.sealAll();
    const before = { metrics: store.metrics.segments[0]!, spans: store.spanEvents.segments[0]!, logs: store.logs.segments[0]! };
    expect(before.metrics.rows).toBe(505);
    clock.set(T0 + 20 * SEC);
    const answers = () => ({
      long: points(store, 'long'), short: points(store, 'short'),
      spans: ['long-0', 'long-4', 'short-0'].map((id) => store.spans.find(id, clock()) !== undefined),
      logs: spanLogs(store, 'long-3').map((l) => l.message),
    });
    const expected = answers();
    expect(expected.short).toEqual([]);
    expect(expected.long).toHaveLength(5);
    expect(expected.logs).toEqual(['long log 3']);

    store.dropExpired();
    expect(store.counters.segmentsCompacted).toBe(3);
    const m = store.metrics.segments[0]!;
    expect(m).not.toBe(before.metrics);
    expect(m.id).toBe(before.metrics.id);
    expect(m.rows).toBe(5);
    // What is left shares one TTL: no expiry column, and only its own trace/span ids.
    expect(m.expiry).toBeNull();
    expect(m.ttlMicros).toBe(86_400 * SEC);
    expect(Array.from({ length: m.idCount }, (_, code) => m.idValue(code))).toEqual(['', 'lt0', 'ls', 'lt1', 'lt2', 'lt3', 'lt4']);
    expect(m.maxExpiry).toBe(before.metrics.maxExpiry);
    expect(store.spanEvents.segments[0]!.rows).toBe(5);
    expect(store.logs.segments[0]!.rows).toBe(5);
    expect(answers()).toEqual(expected);
    // A second sweep finds nothing more to do.
    store.dropExpired();
    expect(store.counters.segmentsCompacted).toBe(3);
  });

  it('leaves alone segments with a uniform TTL, small ones, and those mostly live', () => {
    const clock = manualClock(T0);
    const t = new MetricTable({ maxHeadRows: 1e6, maxHeadAgeMicros: 1e12 }, clock);
    for (let i = 0; i < 100; i++) t.append(1, T0 + i, i, 10 * SEC);
    const uniform = t.seal()!;
    expect(compactMetricSegment(uniform, T0 + 10 * SEC + 50)).toBeNull();
    for (let i = 0; i < 100; i++) t.append(1, T0 + i, i, i < 40 ? SEC : 100 * SEC);
    const mostlyLive = t.seal()!;
    expect(compactMetricSegment(mostlyLive, T0 + 2 * SEC)).toBeNull();
    for (let i = 0; i < 10; i++) t.append(1, T0 + i, i, i < 9 ? SEC : 100 * SEC);
    expect(compactMetricSegment(t.seal()!, T0 + 2 * SEC)).toBeNull();
  });

  it('agrees with the uncompacted segment on random data (property)', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ series: fc.integer({ min: 0, max: 6 }), dt: fc.integer({ min: 0, max: 5000 }), ttl: fc.integer({ min: 1, max: 20 }), id: fc.option(fc.constantFrom('a', 'b', 'c')) }), { minLength: 64, maxLength: 300 }),
      fc.integer({ min: 0, max: 25 }),
      (rows, nowS) => {
        const clock = manualClock(T0);
        const t = new MetricTable({ maxHeadRows: 1e6, maxHeadAgeMicros: 1e12 }, clock);
        rows.forEach((r, i) => t.append(r.series, T0 + r.dt, i, r.ttl * SEC, r.id ?? undefined, r.id ? `${r.id}-span` : undefined));
        const seg = t.seal()!;
        const now = T0 + nowS * SEC;
        const compacted = compactMetricSegment(seg, now);
        if (!compacted) return;
        for (let s = 0; s <= 6; s++) {
          const a: number[] = [], b: number[] = [];
          seg.visitSeries(s, -Infinity, Infinity, now, (ts, v, lo, hi) => { for (let i = lo; i < hi; i++) a.push(ts[i]!, v[i]!); });
          compacted.visitSeries(s, -Infinity, Infinity, now, (ts, v, lo, hi) => { for (let i = lo; i < hi; i++) b.push(ts[i]!, v[i]!); });
          expect(b).toEqual(a);
        }
        expect(compacted.rows).toBeLessThan(seg.rows);
        // Ids still decode to the same strings.
        const liveIds = (x: typeof seg) => Array.from({ length: x.rows }, (_, i) => x.batch.getChild('trace_id')?.get(i) ?? null).filter((_, i) => (x.expiry ? x.expiry[i]! : x.ts[i]! + x.ttlMicros) > now);
        expect(liveIds(compacted)).toEqual(liveIds(seg));
      },
    ), { numRuns: 200 });
  });

  it('row segments: the rows left read back the same, base row kept', () => {
    const clock = manualClock(T0);
    const store = new Store({ clock });
    for (let i = 0; i < 3; i++) for (const b of mixedBatches(T0 + i * 1000, i)) store.apply(b);
    store.sealAll();
    const seg = store.logs.segments[0]!;
    const compacted = compactRowSegment(seg, store.logs.columns, T0 + 20 * SEC)!;
    expect(compacted.baseRow).toBe(seg.baseRow);
    expect(compacted.rows).toBe(3);
    expect([0, 1, 2].map((i) => compacted.get(i, 'message'))).toEqual(['long log 0', 'long log 1', 'long log 2']);
    expect(compacted.column('severity')).toMatchObject({ kind: 'dict', values: ['', 'info'] });
  });

  it('a durable store compacts only flushed segments, keeps their files, and a restart answers the same', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-compact-'));
    dirs.push(dir);
    const now = Date.now() * 1000;
    const store = await Store.open({ dataDir: dir, maintenanceIntervalMs: 0, limits: { maxHeadAgeMicros: 1 }, log: () => undefined });
    const t = now - 30 * SEC; // the short stream is already 20 s past its TTL
    for (let i = 0; i < 4; i++) for (const b of mixedBatches(t + i * 1000, i)) await store.ingest(b);
    store.sealAll();
    // Not flushed yet: left alone.
    store.dropExpired();
    expect(store.counters.segmentsCompacted).toBe(0);
    await store.maintain();
    // The next sweep finds them flushed.
    store.dropExpired();
    expect(store.counters.segmentsCompacted).toBe(3);
    const files = () => fs.readdirSync(path.join(dir, 'segments'), { recursive: true }).map(String).filter((f) => f.endsWith('.parquet')).sort();
    const before = files();
    expect(before).toHaveLength(3);
    const answers = (s: Store) => ({ long: points(s, 'long'), short: points(s, 'short'), logs: spanLogs(s, 'long-2').map((l) => l.message) });
    const expected = answers(store);
    expect(expected.long).toHaveLength(4);
    await store.close();
    expect(files()).toEqual(before);

    const reopened = await Store.open({ dataDir: dir, maintenanceIntervalMs: 0, log: () => undefined });
    expect(answers(reopened)).toEqual(expected);
    expect([reopened.metrics.segments[0]!.rows, reopened.spanEvents.segments[0]!.rows, reopened.logs.segments[0]!.rows]).toEqual([4, 4, 4]);
    expect(reopened.metrics.segments[0]!.rows).toBe(4);
    await reopened.close();
  });
});

describe('merging the small segments compaction leaves', () => {
  it('many mixed-TTL seals end up as a few segments; answers unchanged', () => {
    const clock = manualClock(T0);
    const store = new Store({ clock });
    for (let i = 0; i < 12; i++) {
      for (const b of mixedBatches(T0 + i * 1000, i)) store.apply(b);
      store.sealAll();
    }
    expect(store.metrics.segments).toHaveLength(12);
    clock.set(T0 + 20 * SEC);
    const expected = { long: points(store, 'long'), logs: spanLogs(store, 'long-7').map((l) => l.message) };
    store.dropExpired();
    // Metric and log segments compacted (the span-event ones are too small to bother), then all merged.
    expect(store.counters.segmentsCompacted).toBe(24);
    expect(store.metrics.segments.length).toBeLessThan(12 / MERGE_MIN_RUN + 1);
    expect(store.spanEvents.segments.length).toBeLessThan(12 / MERGE_MIN_RUN + 1);
    expect(store.logs.segments.length).toBeLessThan(12 / MERGE_MIN_RUN + 1);
    expect(store.counters.segmentsMerged).toBe(36);
    expect({ long: points(store, 'long'), logs: spanLogs(store, 'long-7').map((l) => l.message) }).toEqual(expected);
    expect(store.logs.segments.map((s) => s.rows)).toEqual([12]);
    // Row tables keep base-row order.
    const bases = store.logs.segments.map((s) => s.baseRow);
    expect(bases).toEqual([...bases].sort((a, b) => a - b));
  });

  it('does not merge segments that expire far apart (their files would outlive their rows)', () => {
    const seg = (rows: number, maxExpiry: number) => ({ rows, maxExpiry });
    const now = T0;
    const apart = [seg(10, now + 100 * SEC), seg(10, now + 10_000 * SEC), seg(10, now + 100 * SEC), seg(10, now + 10_000 * SEC)];
    expect(mergeSmallRuns(apart, () => true, (run) => run[0]!, () => undefined, now)).toBeNull();
    const together = [seg(10, now + 100 * SEC), seg(10, now + 101 * SEC), seg(10, now + 102 * SEC), seg(10, now + 103 * SEC), seg(5000, now)];
    const merged = mergeSmallRuns(together, () => true, (run) => seg(run.reduce((n, s) => n + s.rows, 0), Math.max(...run.map((s) => s.maxExpiry))), () => undefined, now);
    expect(merged?.map((s) => s.rows)).toEqual([40, 5000]);
  });

  it('a chain of merges does not keep old parts (and their files) forever: merged segments still expire', () => {
    type Seg = { rows: number; maxExpiry: number; parts: number };
    let now = T0;
    let segs: Seg[] = [];
    let dropped = 0;
    let maxLive = 0;
    for (let round = 0; round < 300; round++) {
      segs.push({ rows: 10, maxExpiry: now + 20 * SEC, parts: 1 });
      const merged = mergeSmallRuns(segs, () => true, (run) => ({
        rows: run.reduce((n, x) => n + x.rows, 0), maxExpiry: Math.max(...run.map((x) => x.maxExpiry)), parts: run.reduce((n, x) => n + x.parts, 0),
      }), () => undefined, now);
      if (merged) segs = merged;
      now += 2 * SEC;
      dropped += segs.filter((x) => x.maxExpiry <= now).reduce((n, x) => n + x.parts, 0);
      segs = segs.filter((x) => x.maxExpiry > now);
      maxLive = Math.max(maxLive, segs.length);
    }
    // Parts go within the slack (60 s) of their own expiry: most of 300 are gone, and few segments are live.
    expect(dropped).toBeGreaterThan(200);
    expect(maxLive).toBeLessThan(12);
  });

  it('a merged metric segment answers as its parts did (property)', () => {
    fc.assert(fc.property(
      fc.array(fc.array(fc.record({ series: fc.integer({ min: 0, max: 5 }), dt: fc.integer({ min: 0, max: 3000 }), ttl: fc.constantFrom(5, 50), id: fc.option(fc.constantFrom('a', 'b')) }), { minLength: 1, maxLength: 30 }), { minLength: 2, maxLength: 6 }),
      fc.integer({ min: 0, max: 60 }),
      (seals, nowS) => {
        const clock = manualClock(T0);
        const t = new MetricTable({ maxHeadRows: 1e6, maxHeadAgeMicros: 1e12 }, clock);
        const parts = seals.map((rows) => {
          rows.forEach((r, i) => t.append(r.series, T0 + r.dt, i, r.ttl * SEC, r.id ?? undefined, undefined));
          return t.seal()!;
        });
        const merged = mergeMetricSegments(parts);
        const now = T0 + nowS * SEC;
        expect(merged.rows).toBe(parts.reduce((n, p) => n + p.rows, 0));
        for (let s = 0; s <= 5; s++) {
          const want: [number, number][] = [];
          for (const p of parts) p.visitSeries(s, -Infinity, Infinity, now, (ts, v, lo, hi) => { for (let i = lo; i < hi; i++) want.push([ts[i]!, v[i]!]); });
          const got: [number, number][] = [];
          merged.visitSeries(s, -Infinity, Infinity, now, (ts, v, lo, hi) => { for (let i = lo; i < hi; i++) got.push([ts[i]!, v[i]!]); });
          // Time order within the merged series; the same samples as the parts.
          for (let i = 1; i < got.length; i++) expect(got[i]![0]).toBeGreaterThanOrEqual(got[i - 1]![0]);
          const key = (a: [number, number][]) => a.map((p) => p.join(':')).sort();
          expect(key(got)).toEqual(key(want));
        }
      },
    ), { numRuns: 150 });
  });

  it('a durable store: the merged segment owns its parts\' files, all deleted when it expires', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-merge-'));
    dirs.push(dir);
    const clockNow = Date.now() * 1000;
    const clock = manualClock(clockNow);
    const store = await Store.open({ dataDir: dir, clock, maintenanceIntervalMs: 0, limits: { maxHeadAgeMicros: 1 }, log: () => undefined });
    for (let i = 0; i < 6; i++) {
      // All 1-hour TTL: small segments that expire together.
      await store.ingest({ ttlSeconds: 3600, events: [{ kind: 'span_start', traceId: `m${i}`, spanId: `m${i}`, ts: clockNow + i, name: 'x' }], series: [] });
      clock.advance(10);
      await store.maintain();
    }
    const files = () => fs.readdirSync(path.join(dir, 'segments'), { recursive: true }).map(String).filter((f) => f.endsWith('.parquet'));
    expect(files()).toHaveLength(6);
    store.dropExpired();
    // Merged as they were flushed, in runs of at least MERGE_MIN_RUN.
    expect(store.spanEvents.segments.length).toBeLessThanOrEqual(3);
    expect(store.counters.segmentsMerged).toBeGreaterThanOrEqual(MERGE_MIN_RUN);
    expect(store.durabilityStats()!.segmentFiles).toBe(6);
    expect(files()).toHaveLength(6);
    clock.advance(3601 * SEC);
    store.dropExpired();
    await store.maintain();
    await store.close();
    expect(files()).toHaveLength(0);
  });
});
