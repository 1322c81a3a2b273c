import { describe, expect, it } from 'vitest';
import { SeriesRegistry } from '../../src/index/series.ts';
import { manualClock } from '../../src/storage/clock.ts';
import { MetricTable } from '../../src/storage/metric-table.ts';
import { sampleIdsFromStrings } from '../../src/storage/sample-ids.ts';
import type { MetricSegment } from '../../src/storage/metric-segment.ts';
import { decodeMetricParquet, decodeRowParquet, openSegmentParquet } from '../../src/storage/parquet-read.ts';
import { encodeSegmentParquet } from '../../src/storage/parquet-write.ts';
import { RowTable } from '../../src/storage/row-table.ts';
import type { RowSegment } from '../../src/storage/row-segment.ts';
import { metricSnapshot, rowSnapshot } from '../../src/storage/segment-snapshot.ts';
import { LOG_COLUMNS, SPAN_EVENT_COLUMNS } from '../../src/storage/tables.ts';

const SEC = 1_000_000;
const T0 = 1_700_000_000 * SEC;
const LIMITS = { maxHeadRows: 1_000_000, maxHeadAgeMicros: 3600 * SEC };

function bufferOf(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** Every sample of a segment as a comparable record, series named by labels. */
function metricRows(seg: MetricSegment, registry: SeriesRegistry) {
  const rows: unknown[] = [];
  for (let i = 0; i < seg.seriesIds.length; i++) {
    const info = registry.info(seg.seriesIds[i])!;
    for (let r = seg.seriesStart[i]; r < seg.seriesStart[i + 1]; r++) {
      rows.push({
        labels: info.labels, unit: info.unit, ts: seg.ts[r], value: seg.values[r],
        expiry: seg.expiry ? seg.expiry[r] : seg.ts[r] + seg.ttlMicros,
        traceId: seg.traceCodes?.[r] ? seg.idValue(seg.traceCodes[r]) : null,
        spanId: seg.spanCodes?.[r] ? seg.idValue(seg.spanCodes[r]) : null,
      });
    }
  }
  return rows.sort((a, b) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
}

function rowCells(seg: RowSegment, names: string[]) {
  return Array.from({ length: seg.rows }, (_, i) => Object.fromEntries(names.map((n) => [n, seg.get(i, n) ?? null])));
}

async function roundTripMetrics(seg: MetricSegment, from: SeriesRegistry) {
  const bytes = encodeSegmentParquet(metricSnapshot(seg, from, 'n1', 42));
  const to = new SeriesRegistry();
  to.getOrCreate({ __name__: 'unrelated' }); // ids in the new process differ from the old ones
  const file = openSegmentParquet(bufferOf(bytes));
  const back = await decodeMetricParquet(file, (metric, labels, unit) => to.getOrCreate({ ...JSON.parse(labels), __name__: metric }, unit));
  return { back, to, meta: file.meta };
}

describe('Parquet segment files', () => {
  it('round-trip a metric segment with a uniform TTL and no ids', async () => {
    const reg = new SeriesRegistry();
    const table = new MetricTable(LIMITS, manualClock(T0));
    const a = reg.getOrCreate({ __name__: 'tokens', model: 'm1' }, 'tokens');
    const b = reg.getOrCreate({ __name__: 'latency', route: '/x', code: '200' });
    table.appendMany(b, Float64Array.of(T0 + 3, T0 + 1, T0 + 2), Float64Array.of(0.5, -0, NaN), 60 * SEC);
    table.appendMany(a, Float64Array.of(T0, T0 + 10), Float64Array.of(1, 2), 60 * SEC);
    table.append(a, T0 + 5, 1e300, 60 * SEC);
    const seg = table.seal()!;
    const { back, to, meta } = await roundTripMetrics(seg, reg);
    expect(back.expiry).toBeNull();
    expect(back.ttlMicros).toBe(60 * SEC);
    expect(back.traceCodes).toBeNull();
    expect(metricRows(back, to)).toEqual(metricRows(seg, reg));
    expect(Array.from(back.seriesIds)).toEqual([...back.seriesIds].sort((x, y) => x - y));
    expect([back.minTs, back.maxTs, back.maxExpiry]).toEqual([seg.minTs, seg.maxTs, seg.maxExpiry]);
    expect(meta).toMatchObject({ table: 'metrics', nodeId: 'n1', segmentId: seg.id, walLsn: 42, rows: 6, minTs: T0, maxTs: T0 + 10 });
    expect(Object.is(back.values[back.seriesStart[back.seriesIndex(to.lookup({ __name__: 'latency', route: '/x', code: '200' })!)]], -0)).toBe(true);
  });

  it('round-trip a metric segment with per-row expiry and trace/span ids, nulls included', async () => {
    const reg = new SeriesRegistry();
    const table = new MetricTable(LIMITS, manualClock(T0));
    const a = reg.getOrCreate({ __name__: 'm', k: 'v' });
    table.append(a, T0, 1, 10 * SEC, 'trace-1', 'span-1');
    table.append(a, T0 + 1, 2, 20 * SEC);
    const ids = sampleIdsFromStrings(2, ['trace-2', null], [null, 'span-9'])!;
    table.appendMany(a, Float64Array.of(T0 + 2, T0 + 3), Float64Array.of(3, 4), 30 * SEC, ids, table.headCodesOf(ids.dictionary));
    const seg = table.seal()!;
    expect(seg.expiry).not.toBeNull();
    const { back, to } = await roundTripMetrics(seg, reg);
    expect(back.expiry).not.toBeNull();
    expect(metricRows(back, to)).toEqual(metricRows(seg, reg));
  });

  it('leaves out series the registry forgot (all their samples expired)', async () => {
    const reg = new SeriesRegistry();
    const table = new MetricTable(LIMITS, manualClock(T0));
    const dead = reg.getOrCreate({ __name__: 'dead' });
    const live = reg.getOrCreate({ __name__: 'live' });
    table.append(dead, T0, 1, 1);
    reg.noteExpiry(dead, T0 + 1);
    table.append(live, T0, 2, 60 * SEC);
    reg.noteExpiry(live, T0 + 60 * SEC);
    reg.removeExpired(T0 + 2);
    const { back, to } = await roundTripMetrics(table.seal()!, reg);
    expect(back.rows).toBe(1);
    expect(to.labelsOf(back.seriesIds[0])).toEqual({ __name__: 'live' });
  });

  it('round-trip span-event and log segments, absent values as nulls', async () => {
    const clock = manualClock(T0);
    const spans = new RowTable('span_events', SPAN_EVENT_COLUMNS, LIMITS, clock);
    spans.append({ ts: T0, expiry: T0 + SEC, kind: 1, trace_id: 't', span_id: 'root', name: 'agent', attributes: '{"a":1}' });
    spans.append({ ts: T0 + 5, expiry: T0 + 2 * SEC, kind: 1, trace_id: 't', span_id: 'c', parent_span_id: 'root', name: 'llm' });
    spans.append({ ts: T0 + 2, expiry: T0 + 3 * SEC, kind: 2, trace_id: 't', span_id: 'c', status: 2, attributes: '{"é":"ünïcode ✓"}' });
    spans.seal();
    spans.append({ ts: T0 + 9, expiry: T0 + SEC, kind: 2, trace_id: 't', span_id: 'root', status: 1 });
    const seg = spans.seal()!;
    expect(seg.baseRow).toBe(3);
    const bytes = encodeSegmentParquet(rowSnapshot(seg, spans.columns, 'n1', 7));
    const back = await decodeRowParquet(openSegmentParquet(bufferOf(bytes)), spans.columns);
    expect(back.baseRow).toBe(3);
    expect(back.id).toBe(seg.id);
    const names = spans.columns.map((c) => c.name);
    expect(rowCells(back, names)).toEqual(rowCells(seg, names));
    const first = spans.segments[0];
    const firstBack = await decodeRowParquet(openSegmentParquet(bufferOf(encodeSegmentParquet(rowSnapshot(first, spans.columns, 'n1', 7)))), spans.columns);
    expect(rowCells(firstBack, names)).toEqual(rowCells(first, names));
    expect([firstBack.minTs, firstBack.maxTs, firstBack.maxExpiry]).toEqual([T0, T0 + 5, T0 + 3 * SEC]);

    const logs = new RowTable('logs', LOG_COLUMNS, LIMITS, clock);
    for (let i = 0; i < 300; i++) logs.append({ ts: T0 + i, expiry: T0 + SEC, trace_id: `t${i % 7}`, severity: i % 3 ? 'info' : 'warn', message: i % 5 ? `message ${i}` : null });
    const logSeg = logs.seal()!;
    const logBack = await decodeRowParquet(openSegmentParquet(bufferOf(encodeSegmentParquet(rowSnapshot(logSeg, logs.columns, 'n1', 1)))), logs.columns);
    const logNames = logs.columns.map((c) => c.name);
    expect(rowCells(logBack, logNames)).toEqual(rowCells(logSeg, logNames));
  });

  it('rejects a Parquet file that is not a strata segment', () => {
    expect(() => openSegmentParquet(new ArrayBuffer(100))).toThrow();
    expect(() => openSegmentParquet(bufferOf(new TextEncoder().encode('PAR1 definitely not parquet PAR1')))).toThrow();
  });
});
