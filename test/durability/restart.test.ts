import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/storage/clock.ts';
import { Store, type StoreOpenOptions } from '../../src/store.ts';
import { SEC, dumpQueries, durabilityOf, makeTempDir, mixedWorkload, removeTempDirs, simulateCrash } from './helpers.ts';

const T0 = 1_800_000_000 * SEC;
const NOW = T0 + 100 * SEC;

afterEach(removeTempDirs);

function options(dataDir: string, extra: Partial<StoreOpenOptions> = {}): StoreOpenOptions {
  return {
    dataDir, clock: manualClock(NOW), fsync: 'always', nodeId: 'test', maintenanceIntervalMs: 0,
    limits: { maxHeadRows: 150, maxHeadAgeMicros: 3600 * SEC }, log: () => undefined, ...extra,
  };
}

/** Ingests the workload, running maintenance (seal, flush, WAL delete) every `every` batches. */
async function ingestAll(store: Store, batches = mixedWorkload(T0, 90), every = 7): Promise<void> {
  for (let i = 0; i < batches.length; i++) {
    await store.ingest(batches[i]);
    if (i % every === every - 1) await store.maintain();
  }
}

function segmentFiles(dir: string): string[] {
  return (fs.readdirSync(path.join(dir, 'segments'), { recursive: true }) as string[]).filter((f) => f.endsWith('.parquet'));
}

describe('restart', () => {
  it('answers every query the same after a graceful close and reopen', async () => {
    const dir = makeTempDir();
    const reference = new Store({ clock: manualClock(NOW) });
    for (const b of mixedWorkload(T0, 90)) reference.apply(b);
    const store = await Store.open(options(dir));
    await ingestAll(store);
    const before = dumpQueries(store);
    expect(before).toEqual(dumpQueries(reference));
    expect(Object.keys(before.traces).length).toBeGreaterThan(10);
    expect(Object.values(before.traces).some((t) => (t as { spans: { end?: number }[] }).spans.some((s) => s.end === undefined))).toBe(true);
    await store.close();
    expect(segmentFiles(dir).length).toBeGreaterThan(3);

    const reopened = await Store.open(options(dir));
    expect(reopened.durabilityStats()!.replayed.batches).toBe(0);
    expect(dumpQueries(reopened)).toEqual(before);
    await reopened.close();
  });

  it('answers every query the same after a crash, with heads only in the WAL', async () => {
    const dir = makeTempDir();
    const store = await Store.open(options(dir));
    await ingestAll(store);
    await store.ingest(mixedWorkload(T0 + 500 * SEC, 3, 9)[2]);
    const before = dumpQueries(store);
    await simulateCrash(store);
    const reopened = await Store.open(options(dir));
    const stats = reopened.durabilityStats()!;
    expect(stats.loaded.segments).toBeGreaterThan(0);
    expect(stats.replayed.batches).toBeGreaterThan(0);
    expect(dumpQueries(reopened)).toEqual(before);
    await reopened.close();
  });

  it('does not apply a batch twice when a crash falls between a flush and the WAL delete', async () => {
    const dir = makeTempDir();
    const store = await Store.open(options(dir, { limits: { maxHeadRows: 1_000_000, maxHeadAgeMicros: 3600 * SEC } }));
    await ingestAll(store, mixedWorkload(T0, 30), 1000);
    const before = dumpQueries(store);
    store.sealAll();
    await durabilityOf(store).persistence.flush();
    await simulateCrash(store);
    expect(segmentFiles(dir).length).toBe(3);

    const reopened = await Store.open(options(dir));
    expect(reopened.durabilityStats()!.replayed.batches).toBe(0);
    expect(dumpQueries(reopened)).toEqual(before);
    // Keeps going: new batches after the restart land after the old ones.
    await reopened.ingest(mixedWorkload(T0 + 1000 * SEC, 1, 5)[0]);
    const after = dumpQueries(reopened);
    await reopened.close();
    const third = await Store.open(options(dir));
    expect(dumpQueries(third)).toEqual(after);
    await third.close();
  });

  it('replays only what a table is missing when one table was flushed and another was not', async () => {
    const dir = makeTempDir();
    const store = await Store.open(options(dir, { limits: { maxHeadRows: 1_000_000, maxHeadAgeMicros: 3600 * SEC } }));
    await ingestAll(store, mixedWorkload(T0, 20), 1000);
    const before = dumpQueries(store);
    store.sealAll();
    // Flush only the first queued segment (metrics), as if the crash came mid-flush.
    const persistence = durabilityOf(store).persistence;
    const rest = persistence.queue.splice(1);
    await persistence.flush();
    expect(rest.length).toBe(2);
    await simulateCrash(store);
    expect(segmentFiles(dir)).toHaveLength(1);

    const reopened = await Store.open(options(dir));
    expect(dumpQueries(reopened)).toEqual(before);
    await reopened.close();
  });

  it('keeps the same series, postings and units across restarts', async () => {
    const dir = makeTempDir();
    const store = await Store.open(options(dir));
    await ingestAll(store);
    const names = (s: Store) => [...s.selectSeries([{ name: 'host', op: '=~', value: 'h[12]' }, { name: 'route', op: '!=', value: '/x' }])]
      .map((id) => JSON.stringify(s.series.info(id)!.labels) + s.series.info(id)!.unit).sort();
    const before = names(store);
    expect(before.length).toBeGreaterThan(2);
    await store.close();
    const reopened = await Store.open(options(dir));
    expect(names(reopened)).toEqual(before);
    await reopened.close();
  });
});
