/**
 * The scale-out interface: a real engine (DuckDB) reads the store's segment directory
 * with one glob over the hive layout and gets the same answers as the engine.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/storage/clock.ts';
import { Store } from '../../src/store.ts';
import { SEC, makeTempDir, mixedWorkload, removeTempDirs } from './helpers.ts';

const T0 = 1_800_000_000 * SEC;
const NOW = T0 + 100 * SEC;

afterEach(removeTempDirs);

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create();
  const connection = await db.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
  }
}

describe('segment files in DuckDB', () => {
  it('give the same per-metric count and sum as the engine, and the same span events', async () => {
    const dir = makeTempDir();
    const store = await Store.open({
      dataDir: dir, clock: manualClock(NOW), nodeId: 'duck', maintenanceIntervalMs: 0, log: () => undefined,
      limits: { maxHeadRows: 200, maxHeadAgeMicros: 3600 * SEC },
    });
    const batches = mixedWorkload(T0, 60).map((b) => ({ ...b, ttlSeconds: 86_400 }));
    for (let i = 0; i < batches.length; i++) {
      await store.ingest(batches[i]);
      if (i % 10 === 9) await store.maintain();
    }
    await store.close();
    const reopened = await Store.open({ dataDir: dir, clock: manualClock(NOW), nodeId: 'duck', maintenanceIntervalMs: 0 });

    const engine = new Map<string, { n: number; sum: number }>();
    for (const id of reopened.selectSeries([{ name: '__name__', op: '=~', value: '.+' }])) {
      const metric = reopened.series.labelsOf(id).__name__;
      const agg = engine.get(metric) ?? { n: 0, sum: 0 };
      reopened.visitSeries(id, -Infinity, Infinity, (_ts, v, s, e) => { for (let i = s; i < e; i++) { agg.n++; agg.sum += v[i]; } });
      engine.set(metric, agg);
    }
    const glob = path.join(dir, 'segments', 'table=metrics', '*', '*.parquet');
    const rows = await query(`
      SELECT metric, count(*) AS n, sum(value) AS total, count(DISTINCT "table") AS tables, min(date) AS first_day
      FROM read_parquet('${glob}', hive_partitioning = true)
      GROUP BY metric ORDER BY metric`);
    expect(rows.map((r) => r.metric)).toEqual([...engine.keys()].sort());
    expect(engine.size).toBe(4);
    for (const r of rows) {
      const e = engine.get(r.metric as string)!;
      expect(Number(r.n)).toBe(e.n);
      expect(Number(r.total)).toBeCloseTo(e.sum, 6);
      expect(r.tables).toBe('1');
      expect(r.first_day).toBe('2027-01-15');
    }

    // Labels are queryable as JSON; times come back as the same microseconds.
    const [byHost] = await query(`
      SELECT count(*) AS n, min(epoch_us("timestamp")) AS first_us
      FROM read_parquet('${glob}', hive_partitioning = true)
      WHERE metric = 'req_0' AND json_extract_string(labels, '$.host') = 'h1'`);
    const h1 = reopened.series.lookup({ __name__: 'req_0', host: 'h1', route: '/y' })!;
    let n = 0, first = Infinity;
    reopened.visitSeries(h1, -Infinity, Infinity, (ts, _v, s, e) => { n += e - s; first = Math.min(first, ts[s]); });
    expect(Number(byHost.n)).toBe(n);
    expect(Number(byHost.first_us)).toBe(first);

    const spanGlob = path.join(dir, 'segments', 'table=span_events', '*', '*.parquet');
    const [spans] = await query(`
      SELECT count(*) AS events, count(DISTINCT span_id) FILTER (WHERE kind = 1) AS started,
             count(*) FILTER (WHERE kind = 2 AND status = 2) AS errors
      FROM read_parquet('${spanGlob}', hive_partitioning = true)`);
    expect(Number(spans.events)).toBe(reopened.spanEvents.rowCount);
    expect(Number(spans.started)).toBe(reopened.spans.size);
    let errors = 0;
    for (const traceId of reopened.spans.allTraceIds()) {
      for (const slot of reopened.spans.traceSlots(traceId, NOW)) if (reopened.spans.view(slot).status === 'error') errors++;
    }
    expect(Number(spans.errors)).toBe(errors);
    await reopened.close();
  });
});
