/** The store against its directory: torn WAL tails, leftover and broken segment files, TTL deleting files, the layout. */
import fs from 'node:fs';
import path from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/storage/clock.ts';
import type { IngestBatch } from '../../src/storage/events.ts';
import { Store, type StoreOpenOptions } from '../../src/store.ts';
import { SEC, durabilityOf, makeTempDir, removeTempDirs, simulateCrash } from './helpers.ts';

const T0 = Date.UTC(2026, 0, 2, 23, 59, 59) * 1000;

afterEach(removeTempDirs);

function options(dataDir: string, extra: Partial<StoreOpenOptions> = {}): StoreOpenOptions & { warnings: string[] } {
  const warnings: string[] = [];
  return { dataDir, nodeId: 'node1', clock: manualClock(T0), maintenanceIntervalMs: 0, log: (m) => warnings.push(m), warnings, ...extra };
}

function batch(i: number, ttlSeconds = 3600): IngestBatch {
  return {
    ttlSeconds,
    series: [{ metric: 'm', labels: { k: 'v' }, timestamps: Float64Array.of(T0 + i), values: Float64Array.of(i) }],
    events: [{ kind: 'span_start', traceId: 't', spanId: `s${i}`, ts: T0 + i, name: 'op' }],
  };
}

function values(store: Store): number[] {
  const out: number[] = [];
  for (const id of store.selectSeries([{ name: '__name__', op: '=', value: 'm' }])) {
    store.visitSeries(id, -Infinity, Infinity, (_ts, v, s, e) => { for (let i = s; i < e; i++) out.push(v[i]); });
  }
  return out.sort((a, b) => a - b);
}

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
}

describe('store files', () => {
  it('keeps everything before a torn WAL tail and warns about it', async () => {
    const dir = makeTempDir();
    const store = await Store.open(options(dir));
    for (let i = 0; i < 5; i++) await store.ingest(batch(i));
    await simulateCrash(store);
    const walDir = path.join(dir, 'wal');
    const last = filesUnder(walDir).filter((f) => fs.statSync(path.join(walDir, f)).size > 8).at(-1)!;
    const walFile = path.join(walDir, last);
    fs.truncateSync(walFile, fs.statSync(walFile).size - 3);

    const opts = options(dir);
    const reopened = await Store.open(opts);
    expect(values(reopened)).toEqual([0, 1, 2, 3]);
    expect(reopened.durabilityStats()!.replayed.corruptTails).toBe(1);
    expect(opts.warnings.join('\n')).toMatch(/torn record/);
    // New writes after the torn tail survive the next restart.
    await reopened.ingest(batch(7));
    await simulateCrash(reopened);
    const third = await Store.open(options(dir));
    expect(values(third)).toEqual([0, 1, 2, 3, 7]);
    await third.close();
  });

  it('skips a WAL record whose checksum does not match, keeping the ones before it', async () => {
    const dir = makeTempDir();
    const store = await Store.open(options(dir));
    for (let i = 0; i < 3; i++) await store.ingest(batch(i));
    await simulateCrash(store);
    const walDir = path.join(dir, 'wal');
    const walFile = path.join(walDir, filesUnder(walDir).filter((f) => fs.statSync(path.join(walDir, f)).size > 8).at(-1)!);
    const bytes = fs.readFileSync(walFile);
    bytes[bytes.length - 5] ^= 0xff;
    fs.writeFileSync(walFile, bytes);
    const opts = options(dir);
    const reopened = await Store.open(opts);
    expect(values(reopened)).toEqual([0, 1]);
    expect(opts.warnings.join('\n')).toMatch(/checksum/);
    await reopened.close();
  });

  it('writes the hive layout: table=…/date=<UTC day of the first timestamp>/<min>-<max>-<node>-<id>.parquet', async () => {
    const dir = makeTempDir();
    const store = await Store.open(options(dir));
    await store.ingest(batch(0));
    await store.ingest({ ttlSeconds: 60, series: [], events: [{ kind: 'log', traceId: 't', spanId: 's', ts: T0 + 2 * SEC, message: 'hello', severity: 'info' }] });
    await store.close();
    expect(filesUnder(path.join(dir, 'segments'))).toEqual([
      `table=logs/date=2026-01-03/${T0 + 2 * SEC}-${T0 + 2 * SEC}-node1-1.parquet`,
      `table=metrics/date=2026-01-02/${T0}-${T0}-node1-1.parquet`,
      `table=span_events/date=2026-01-02/${T0}-${T0}-node1-1.parquet`,
    ]);
  });

  it('deletes a half-written temp file and skips broken or foreign .parquet files, with a warning', async () => {
    const dir = makeTempDir();
    const store = await Store.open(options(dir));
    await store.ingest(batch(1));
    await store.close();
    const dateDir = path.join(dir, 'segments', 'table=metrics', 'date=2026-01-02');
    const [good] = filesUnder(dateDir);
    const temp = path.join(dateDir, `.${T0}-${T0 + 5}-node1-9.parquet.tmp`);
    fs.writeFileSync(temp, fs.readFileSync(path.join(dateDir, good)).subarray(0, 100));
    const truncated = path.join(dateDir, `${T0}-${T0}-node1-7.parquet`);
    fs.writeFileSync(truncated, fs.readFileSync(path.join(dateDir, good)).subarray(0, 200));
    const foreign = path.join(dateDir, `${T0}-${T0}-node1-8.parquet`);
    fs.writeFileSync(foreign, new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'x', data: [1, 2, 3], type: 'INT32' }] })));
    const otherNodes = path.join(dateDir, `${T0}-${T0}-node2-1.parquet`);
    fs.writeFileSync(otherNodes, 'not ours: never loaded, never deleted');

    const opts = options(dir);
    const reopened = await Store.open(opts);
    expect(values(reopened)).toEqual([1]);
    const stats = reopened.durabilityStats()!.loaded;
    expect(stats).toMatchObject({ tempsDeleted: 1, skipped: 2 });
    expect(fs.existsSync(temp)).toBe(false);
    expect(fs.existsSync(otherNodes)).toBe(true);
    expect(opts.warnings.filter((w) => w.includes('skipping'))).toHaveLength(2);
    expect(opts.warnings.join('\n')).toContain('node1-8.parquet');
    await reopened.close();
  });

  it('TTL sweep deletes the files of expired segments, at run time and at start', async () => {
    const dir = makeTempDir();
    const clock = manualClock(T0);
    const store = await Store.open(options(dir, { clock }));
    await store.ingest(batch(1, 10));
    await store.ingest(batch(2, 1000));
    store.sealAll();
    await store.maintain();
    await store.ingest(batch(3, 10));
    store.sealAll();
    await store.maintain();
    const segmentsDir = path.join(dir, 'segments');
    expect(filesUnder(segmentsDir)).toHaveLength(4);

    clock.set(T0 + 11 * SEC);
    await store.maintain();
    // The second seal only held TTL-10s rows: its two files went; the first seal's lives on (batch 2).
    expect(filesUnder(segmentsDir)).toHaveLength(2);
    expect(values(store)).toEqual([2]);
    await store.close();

    const later = await Store.open(options(dir, { clock: manualClock(T0 + 2000 * SEC) }));
    expect(later.durabilityStats()!.loaded.expiredDeleted).toBe(2);
    expect(filesUnder(segmentsDir)).toHaveLength(0);
    expect(values(later)).toEqual([]);
    expect(later.spans.size).toBe(0);
    await later.close();
  });

  it('flushes the same data when Parquet encoding runs chunked on the main thread', async () => {
    const dir = makeTempDir();
    const store = await Store.open(options(dir, { flushMode: 'inline' }));
    for (let i = 0; i < 20; i++) await store.ingest(batch(i));
    await store.maintain();
    store.sealAll();
    await store.maintain();
    await store.close();
    expect(filesUnder(path.join(dir, 'segments'))).toHaveLength(2);
    const reopened = await Store.open(options(dir));
    expect(reopened.durabilityStats()!.loaded.segments).toBe(2);
    expect(values(reopened)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(reopened.spans.size).toBe(20);
    await reopened.close();
  });

  it('the maintenance timer seals, flushes, checkpoints and sweeps on its own', async () => {
    const dir = makeTempDir();
    const clock = manualClock(T0);
    const store = await Store.open(options(dir, { clock, maintenanceIntervalMs: 5, sweepIntervalMs: 10, limits: { maxHeadRows: 1, maxHeadAgeMicros: 3600 * SEC } }));
    for (let i = 0; i < 12; i++) await store.ingest(batch(i, 10));
    const segmentsDir = path.join(dir, 'segments');
    // However the ticks fell between the ingests: every row sealed, every segment in a file.
    await until(() => store.metrics.head.rows + store.spanEvents.headRows === 0 && store.durabilityStats()!.pendingFlushes === 0
      && filesUnder(segmentsDir).length === store.counters.segmentsSealed);
    await until(() => store.durabilityStats()!.wal.files <= 2);
    clock.set(T0 + 11 * SEC);
    await until(() => filesUnder(segmentsDir).length === 0);
    expect(values(store)).toEqual([]);
    await store.close();
  });

  it('rejects ingest after close, and in-memory stores ingest without a directory', async () => {
    const dir = makeTempDir();
    const store = await Store.open(options(dir));
    await store.close();
    await expect(store.ingest(batch(1))).rejects.toThrow(/closed/);
    const memory = await Store.open({ clock: manualClock(T0), maintenanceIntervalMs: 0 });
    await memory.ingest(batch(4));
    expect(values(memory)).toEqual([4]);
    expect(memory.durabilityStats()).toBeNull();
    await memory.close();
  });

  it('a failed WAL append rejects the batch and changes nothing', async () => {
    const dir = makeTempDir();
    const store = await Store.open(options(dir));
    await store.ingest(batch(1));
    const wal = durabilityOf(store).wal;
    const original = wal.append.bind(wal);
    wal.append = () => Promise.reject(new Error('disk full'));
    await expect(store.ingest(batch(2))).rejects.toThrow('disk full');
    wal.append = original;
    await store.ingest(batch(3));
    expect(values(store)).toEqual([1, 3]);
    expect(store.spans.find('s2', T0)).toBeUndefined();
    await store.close();
  });
});
