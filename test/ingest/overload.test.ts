/** The ingest gate: a bounded backlog, 429 + Retry-After past it, counters in /metrics. */
import { DecodePool } from '../../src/telemetry/decode-pool.ts';
import { pack } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import { registerIngestRoutes } from '../../src/server/ingest-routes.ts';
import { MetricsRegistry } from '../../src/server/metrics-registry.ts';
import { IngestGate } from '../../src/server/overload.ts';
import type { IngestBatch } from '../../src/storage/events.ts';
import { startTestServer, type TestServer } from '../server/helpers.ts';

const BASE_MS = Date.now() - 3600_000;
const body = (i: number) => pack({ event: { type: 'metric', trace_id: 't', span_id: 's', timestamp: BASE_MS + i, metric: 'm', value: i, unit: '' } });
const oneSample = (): IngestBatch => ({ ttlSeconds: 60, events: [], series: [{ metric: 'm', labels: {}, timestamps: new Float64Array([1]), values: new Float64Array([1]) }] });

/** An ingest whose WAL is stuck until `release()`. */
function stuckIngest() {
  const waiting: (() => void)[] = [];
  const applied: IngestBatch[] = [];
  return {
    applied,
    ingest: (batch: IngestBatch) => new Promise<void>((resolve) => waiting.push(() => { applied.push(batch); resolve(); })),
    release: () => waiting.splice(0).forEach((go) => go()),
    get waiting() { return waiting.length; },
  };
}

describe('IngestGate', () => {
  it('refuses once the backlog holds maxBatches, and admits again when it drains', async () => {
    const wal = stuckIngest();
    const gate = new IngestGate(wal.ingest, { maxBytes: 1e9, maxBatches: 2, retryAfterSeconds: 3 }, new MetricsRegistry());
    const first = [gate.accept('http', 10, oneSample), gate.accept('http', 10, oneSample)];
    await expect(gate.accept('http', 10, oneSample)).rejects.toMatchObject({ status: 429, headers: { 'retry-after': '3' } });
    wal.release();
    expect(await Promise.all(first)).toEqual([1, 1]);
    const again = gate.accept('http', 10, oneSample);
    wal.release();
    expect(await again).toBe(1);
  });

  it('bounds bytes, but always takes one batch when nothing waits', async () => {
    const wal = stuckIngest();
    const gate = new IngestGate(wal.ingest, { maxBytes: 100, maxBatches: 100, retryAfterSeconds: 1 }, new MetricsRegistry());
    const big = gate.accept('stream', 1000, oneSample);
    expect(() => gate.checkRoom(1, 'stream')).toThrow(/ingest overloaded: 1 batches \(1000 bytes\)/);
    wal.release();
    await big;
    expect(() => gate.checkRoom(1, 'stream')).not.toThrow();
  });

  it('does not count or apply a batch whose decoding failed, nor an empty one', async () => {
    const wal = stuckIngest();
    const metrics = new MetricsRegistry();
    const gate = new IngestGate(wal.ingest, { maxBytes: 100, maxBatches: 1, retryAfterSeconds: 1 }, metrics);
    await expect(gate.accept('http', 1, () => { throw new Error('bad'); })).rejects.toThrow('bad');
    expect(await gate.accept('http', 1, () => ({ ttlSeconds: 1, events: [], series: [] }))).toBe(0);
    expect(wal.waiting).toBe(0);
    expect(metrics.render()).toContain('strata_ingest_rejected_total{transport="http",reason="invalid"} 1');
  });
});

describe('HTTP ingest under overload', () => {
  let server: TestServer;
  afterEach(async () => server?.close());

  it('answers 429 with Retry-After while the WAL is behind, keeps serving other routes, and exposes the backlog', async () => {
    const wal = stuckIngest();
    server = await startTestServer((s) => {
      const gate = new IngestGate(wal.ingest, { maxBytes: 1e9, maxBatches: 4, retryAfterSeconds: 2 }, s.metrics);
      registerIngestRoutes(s, { gate, decoder: new DecodePool({ threads: 0 }), defaultTtlSeconds: 3600 });
      s.route('GET', '/metrics', () => ({ status: 200, raw: s.metrics.render(), contentType: 'text/plain' }));
    }, { bodyLimitBytes: 1 << 20 });
    const post = (i: number) => fetch(`${server.url}/v1/telemetry/events`, { method: 'POST', headers: { 'content-type': 'application/msgpack' }, body: new Uint8Array(body(i)) });
    const held = [0, 1, 2, 3].map(post);
    while (wal.waiting < 4) await new Promise((r) => setTimeout(r, 5));

    const refused = await post(4);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(((await refused.json()) as { error: { detail: string } }).error.detail).toMatch(/^ingest overloaded: 4 batches/);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('strata_ingest_backlog_batches 4');
    expect(metrics).toContain('strata_ingest_rejected_total{transport="http",reason="overloaded"} 1');

    wal.release();
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(wal.applied).toHaveLength(4);
    const accepted = post(5);
    while (wal.waiting < 1) await new Promise((r) => setTimeout(r, 5));
    wal.release();
    expect((await accepted).status).toBe(200);
  });
});
