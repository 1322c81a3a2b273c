/**
 * Ingest bodies decoded on threads (decode-pool.ts): the same batches and the same errors as
 * inline decoding, the WAL written from the thread's encoding, and a server that keeps
 * answering when a thread dies.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr, pack, unpack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store.ts';
import { encodeBatch } from '../../src/storage/batch-codec.ts';
import type { IngestBatch } from '../../src/storage/events.ts';
import { sampleIdAt } from '../../src/storage/sample-ids.ts';
import { allSeriesEntries } from '../../src/storage/series-columns.ts';
import { LSN_BYTES } from '../../src/storage/wal-entry.ts';
import { DecodePool } from '../../src/telemetry/decode-pool.ts';
import { decodeIngestBatch } from '../../src/telemetry/msgpack-ingest.ts';
import { registerExactMsgpackTimestamps } from '../../src/telemetry/time.ts';
import { dumpQueries, simulateCrash } from '../durability/helpers.ts';

const BASE_MS = Date.now() - 3_600_000;
const TTL = 86_400;

/** A body big enough to go to a thread: `n` metric events over 50 series, ids, msgpack timestamps every 7th. */
function eventsBody(n: number, extra: Record<string, unknown> = {}): Uint8Array {
  const events = Array.from({ length: n }, (_, i) => ({
    type: 'metric', trace_id: `trace-${i >> 4}`, span_id: `span-${i >> 2}`,
    timestamp: i % 7 === 0 ? new Date(BASE_MS + i) : BASE_MS + i, metric: `m${i % 5}`, value: i * 0.5, unit: 'ms',
    attributes: { host: `h${i % 10}`, ok: i % 2 === 0 },
  }));
  return pack({ events, ...extra });
}

const typedArrays = new Packr({ moreTypes: true });

function seriesBody(): Uint8Array {
  return typedArrays.pack({ series: Array.from({ length: 40 }, (_, s) => ({
    metric: 'cpu', labels: { core: String(s) }, unit: '%',
    timestamps: Float64Array.from({ length: 200 }, (_, i) => BASE_MS + i * 1000),
    values: Float64Array.from({ length: 200 }, (_, i) => s + i / 8),
  })) });
}

/** What a batch means, independent of how it was laid out. */
function samples(batch: IngestBatch): string[] {
  const out: string[] = [];
  for (const s of allSeriesEntries(batch)) {
    const labels = JSON.stringify(Object.entries(s.labels).sort());
    for (let i = 0; i < s.timestamps.length; i++) {
      const ids = s.ids ? sampleIdAt(s.ids, i) : null;
      out.push(JSON.stringify([s.metric, s.unit, labels, s.timestamps[i], s.values[i], ids?.traceId, ids?.spanId]));
    }
  }
  for (const e of batch.events) out.push(JSON.stringify(e));
  return out.sort();
}

async function readyPool(threads: number): Promise<DecodePool> {
  const pool = new DecodePool({ threads, inlineBelowBytes: 1024 });
  // Threads load in the background; until then bodies decode inline. Wait for one to take a body.
  const deadline = Date.now() + 30_000;
  while (!(pool.decode(eventsBody(100), 'msgpack', TTL) instanceof Promise)) {
    if (Date.now() > deadline) throw new Error('no decode thread became ready');
    await new Promise((r) => setTimeout(r, 50));
  }
  return pool;
}

describe('DecodePool', () => {
  let pool: DecodePool;
  beforeAll(async () => {
    registerExactMsgpackTimestamps();
    pool = await readyPool(2);
  }, 60_000);
  afterAll(() => pool.close());

  it('gives the batches inline decoding gives, with the WAL encoding attached', async () => {
    for (const body of [eventsBody(3000), eventsBody(3000, { ttl_seconds: 60 }), seriesBody(), pack({ events: [{ type: 'unstructured_log', trace_id: 't', span_id: 's', timestamp: BASE_MS, message: 'x'.repeat(5000), severity: 'info' }] })]) {
      const threaded = pool.decode(body, 'msgpack', TTL);
      expect(threaded).toBeInstanceOf(Promise);
      const batch = await threaded;
      const inline = decodeIngestBatch(body, 'msgpack', TTL);
      expect(samples(batch)).toEqual(samples(inline));
      expect(batch.ttlSeconds).toBe(inline.ttlSeconds);
      // The thread's WAL entry: room for the LSN, then the same bytes the inline batch encodes to, in a buffer of its own.
      expect(Buffer.from(batch.walEntry!.subarray(LSN_BYTES)).equals(Buffer.from(encodeBatch(inline)))).toBe(true);
      expect(batch.walEntry!.byteOffset).toBe(0);
      expect(batch.walEntry!.buffer.byteLength).toBe(batch.walEntry!.length);
    }
  });

  it('answers a bad body with the inline decoder\'s 400, and a good one after it', async () => {
    const events = (unpack(eventsBody(3000)) as { events: Record<string, unknown>[] }).events;
    events[2500]!.value = 'high';
    const bad = pack({ events });
    const inline = (() => { try { decodeIngestBatch(bad, 'msgpack', TTL); } catch (e) { return e as { status: number; message: string }; } })();
    expect(inline?.status).toBe(400);
    await expect(pool.decode(bad, 'msgpack', TTL)).rejects.toMatchObject({ status: 400, message: inline!.message });
    const truncated = eventsBody(3000).subarray(0, 20_000);
    await expect(pool.decode(truncated, 'msgpack', TTL)).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/malformed msgpack body/) });
    expect(samples(await pool.decode(seriesBody(), 'msgpack', TTL))).toHaveLength(8000);
  });

  it('copies the body at once, so the caller may reuse its buffer (a WebSocket message)', async () => {
    const body = seriesBody();
    const expected = samples(decodeIngestBatch(body, 'msgpack', TTL));
    const pending = pool.decode(body, 'msgpack', TTL);
    body.fill(0);
    expect(samples(await pending)).toEqual(expected);
  });

  it('fails the bodies of a thread that dies (not as a 400), decodes inline meanwhile, and replaces it', async () => {
    const threads = (pool as unknown as { threads: { jobs: { worker: { terminate(): Promise<number> } | null }; ready: boolean }[] }).threads;
    const pending = pool.decode(seriesBody(), 'msgpack', TTL);
    // Kill the thread the body went to (the least busy one: both are idle, so the first).
    await threads[0]!.jobs.worker!.terminate();
    const outcome = await Promise.resolve(pending).then(() => 'decoded', (e: { status?: number }) => e.status ?? 'error');
    // Either the body was answered before the thread died, or it failed as a server error.
    expect(['decoded', 'error']).toContain(outcome);
    const deadline = Date.now() + 30_000;
    while (!threads[0]!.ready) {
      expect(samples(await pool.decode(seriesBody(), 'msgpack', TTL))).toHaveLength(8000);
      if (Date.now() > deadline) throw new Error('the thread was not replaced');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(samples(await pool.decode(seriesBody(), 'msgpack', TTL))).toHaveLength(8000);
  }, 40_000);

  it('decodes a body read into a shared slot (bodyBuffers) as it decodes the same bytes elsewhere, its WAL entry in the slot too', async () => {
    const slots = (pool as unknown as { slots: { inUse: number; count: number } }).slots;
    for (const [body, format] of [[eventsBody(3000), 'msgpack'], [seriesBody(), 'msgpack'], [new TextEncoder().encode(JSON.stringify({ events: (unpack(eventsBody(500)) as { events: unknown[] }).events.map((e) => ({ ...(e as object), timestamp: BASE_MS })) })), 'json']] as const) {
      const inSlot = pool.bodyBuffers.take(body.length)!;
      expect(inSlot.buffer).toBeInstanceOf(SharedArrayBuffer);
      inSlot.set(body);
      expect(slots.inUse).toBe(1);
      const batch = await pool.decode(inSlot, format, TTL);
      const inline = decodeIngestBatch(body, format, TTL);
      expect(samples(batch)).toEqual(samples(inline));
      // The WAL entry came back in the slot too (behind the body), with the bytes inline encoding gives.
      expect(batch.walEntry!.buffer).toBe(inSlot.buffer);
      expect(Buffer.from(batch.walEntry!.subarray(LSN_BYTES)).equals(Buffer.from(encodeBatch(inline)))).toBe(true);
      // Held until the caller has the batch in the WAL and applied; released twice, freed once.
      expect(slots.inUse).toBe(1);
      pool.release(inSlot);
      pool.release(inSlot);
      expect(slots.inUse).toBe(0);
    }
    // A bad body in a slot: the 400, and the slot freed.
    const bad = pool.bodyBuffers.take(2000)!;
    bad.fill(0xc1);
    await expect(pool.decode(bad, 'msgpack', TTL)).rejects.toMatchObject({ status: 400 });
    expect(slots.inUse).toBe(0);
    // Small bodies get no slot (they decode inline); every slot taken, the next body gets none.
    expect(pool.bodyBuffers.take(100)).toBeNull();
    pool.release(null);
    const taken = Array.from({ length: slots.count }, () => pool.bodyBuffers.take(4096));
    expect(pool.bodyBuffers.take(4096)).toBeNull();
    for (const t of taken) pool.release(t);
  });

  it('decodes small bodies inline, and everything inline with no threads', async () => {
    expect(pool.decode(eventsBody(1), 'msgpack', TTL)).not.toBeInstanceOf(Promise);
    const none = new DecodePool({ threads: 0, inlineBelowBytes: 0 });
    expect(none.decode(seriesBody(), 'msgpack', TTL)).not.toBeInstanceOf(Promise);
    await none.close();
  });
});

describe('a store fed by decode threads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-decode-pool-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the thread\'s encoding to the WAL, and replays it to the same series after a restart', async () => {
    const pool = await readyPool(1);
    const store = await Store.open({ dataDir: dir, fsync: 'always', maintenanceIntervalMs: 0 });
    const bodies = [eventsBody(3000), seriesBody(), eventsBody(2000)];
    for (const [i, body] of bodies.entries()) {
      // The second in a body slot, as the HTTP routes read it: its WAL entry written from the slot.
      const inSlot = i === 1 ? pool.bodyBuffers.take(body.length) : null;
      inSlot?.set(body);
      const batch = await pool.decode(inSlot ?? body, 'msgpack', TTL);
      expect(batch.walEntry).toBeInstanceOf(Uint8Array);
      if (inSlot) expect(batch.walEntry!.buffer).toBe(inSlot.buffer);
      await store.ingest(batch);
      // Released and overwritten (the next body's): what the WAL and the store hold stays.
      if (inSlot) {
        pool.release(inSlot);
        new Uint8Array(inSlot.buffer).fill(0xee);
      }
    }
    await pool.close();
    const before = dumpQueries(store);
    const samplesIn = Object.values(before.series).reduce((n, s) => n + s.samples.length, 0);
    expect(samplesIn).toBe(3000 + 8000 + 2000);
    // No seal, no flush: the samples come back from the WAL alone.
    await simulateCrash(store);
    const reopened = await Store.open({ dataDir: dir, fsync: 'always', maintenanceIntervalMs: 0 });
    expect(dumpQueries(reopened)).toEqual(before);
    await reopened.close();
  });
});
