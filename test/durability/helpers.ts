/** Shared by the durability tests: temp dirs, a mixed workload, and a full dump of what queries see. */
import { sampleIdsFromStrings } from '../../src/storage/sample-ids.ts';
import fs from 'node:fs';
import { mulberry32 } from '../../bench/random.ts';
import os from 'node:os';
import path from 'node:path';
import type { EngineEvent, IngestBatch, SeriesEntry } from '../../src/storage/events.ts';
import type { Store } from '../../src/store.ts';

/** The store's private durability parts, which the crash-shaped tests reach into. */
export interface DurabilityInternals {
  wal: { close(): Promise<void>; append(payload: Uint8Array): Promise<void> };
  persistence: { queue: unknown[]; flush(): Promise<void>; close(): Promise<void> };
}

export function durabilityOf(store: Store): DurabilityInternals {
  return (store as unknown as { durability: DurabilityInternals }).durability;
}

/**
 * What a crash leaves behind: no seal, no flush, no checkpoint. The WAL's file handle is
 * closed (which adds nothing to the file: every acknowledged record is already in it),
 * and the store is detached from its files.
 */
export async function simulateCrash(store: Store): Promise<void> {
  const d = durabilityOf(store);
  (store as unknown as { durability: null }).durability = null;
  await d.wal.close();
  await d.persistence.close();
}

export const SEC = 1_000_000;

const tempDirs: string[] = [];

export function makeTempDir(prefix = 'strata-dur-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Deterministic pseudo-random numbers. */
export const rng = mulberry32;

/**
 * Batches of everything the engine stores: series batches (some samples out of order
 * across batches), metric events with exemplar ids, logs, spans with parents and
 * traceparents, ends before starts, duplicate starts, spans that never end, and a mix
 * of TTLs (two of them short enough to expire before `t0 + 100 s`).
 */
export function mixedWorkload(t0: number, batches: number, seed = 1): IngestBatch[] {
  const rand = rng(seed);
  const out: IngestBatch[] = [];
  const ttls = [3600, 7200, 30, 86_400];
  for (let b = 0; b < batches; b++) {
    const events: EngineEvent[] = [];
    const series: SeriesEntry[] = [];
    const ts = (k: number) => t0 + b * SEC + k * 1000 + Math.floor(rand() * 500);
    for (let s = 0; s < 3; s++) {
      const n = 1 + Math.floor(rand() * 40);
      const base = rand() < 0.2 ? t0 + Math.floor(rand() * b) * SEC : t0 + b * SEC;
      series.push({
        metric: `req_${s}`, labels: { host: `h${Math.floor(rand() * 4)}`, route: s === 1 ? '/x' : '/y' }, unit: s === 0 ? 'ms' : undefined,
        timestamps: Float64Array.from({ length: n }, (_, i) => base + i * 997),
        values: Float64Array.from({ length: n }, () => Math.round(rand() * 1e6) / 100),
        ...(s === 2 ? { ids: sampleIdsFromStrings(n, Array.from({ length: n }, (_, i) => (i % 3 ? `tr${b}` : null)), Array.from({ length: n }, (_, i) => (i % 2 ? `sp${i}` : null))) } : {}),
      });
    }
    for (let k = 0; k < 4; k++) {
      events.push({ kind: 'metric', traceId: `t${b}`, spanId: `s${b}_${k}`, ts: ts(k), metric: 'tokens', value: Math.floor(rand() * 100), unit: 'tokens', attributes: { model: `m${k % 2}`, stream: k % 2 === 0, __hidden: 'x' } });
    }
    const trace = `trace${Math.floor(b / 3)}`;
    const root = `root${Math.floor(b / 3)}`;
    if (b % 3 === 0) events.push({ kind: 'span_start', traceId: trace, spanId: root, ts: ts(5), name: 'agent', attributes: { session_id: `S${b % 5}`, __root__: true } });
    const child = `c${b}`;
    if (b % 4 === 1) {
      // The end arrives first; the start comes in the next batch.
      events.push({ kind: 'span_end', traceId: trace, spanId: child, ts: ts(9), status: b % 8 === 1 ? 'error' : 'ok', attributes: { tokens: b } });
    } else {
      events.push({ kind: 'span_start', traceId: trace, spanId: child, ts: ts(6), name: `llm${b % 3}`, parentSpanId: root, attributes: { model: 'm1', temperature: 0.5 } });
      if (b % 5 === 0) events.push({ kind: 'span_start', traceId: trace, spanId: child, ts: ts(7), name: 'duplicate' });
      if (b % 4 !== 3) events.push({ kind: 'span_end', traceId: trace, spanId: child, ts: ts(8), status: 'ok', attributes: { output_tokens: b * 2 } });
    }
    if (b % 4 === 2) {
      const late = `c${b - 1}`;
      events.push({ kind: 'span_start', traceId: trace, spanId: late, ts: ts(3), name: 'late-start', attributes: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01' } });
    }
    events.push({ kind: 'log', traceId: trace, spanId: child, ts: ts(10), message: `step ${b} ✓`, severity: b % 2 ? 'info' : 'warn', attributes: b % 3 ? { b } : undefined });
    out.push({ ttlSeconds: ttls[b % ttls.length], events, series });
  }
  return out;
}

/** Everything the query layer can read, in an order-independent form. */
export function dumpQueries(store: Store) {
  const now = store.clock();
  const series: Record<string, { unit: string; samples: [number, number][]; sum: number }> = {};
  for (const id of store.selectSeries([{ name: '__name__', op: '=~', value: '.+' }])) {
    const info = store.series.info(id)!;
    const samples: [number, number][] = [];
    store.visitSeries(id, -Infinity, Infinity, (ts, v, s, e) => { for (let i = s; i < e; i++) samples.push([ts[i], v[i]]); });
    if (samples.length === 0) continue;
    samples.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    series[JSON.stringify(info.labels)] = { unit: info.unit, samples, sum: samples.reduce((t, [, v]) => t + v, 0) };
  }
  const traces: Record<string, unknown> = {};
  for (const traceId of store.spans.allTraceIds()) {
    const summary = store.spans.summary(traceId, now);
    if (!summary) continue;
    const spans = store.spans.traceSlots(traceId, now).map((slot) => {
      const { slot: _slot, ...view } = store.spans.view(slot);
      return { ...view, children: store.spans.childrenOf(view.spanId, now).map((c) => store.spans.view(c).spanId) };
    });
    traces[traceId] = { summary, spans };
  }
  const logs: unknown[] = [];
  store.logs.scan(-Infinity, Infinity, (row) => {
    logs.push(Object.fromEntries(store.logs.columns.map((c) => [c.name, store.logs.get(row, c.name) ?? null])));
  }, now);
  logs.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  const spanEventRows: unknown[] = [];
  store.spanEvents.scan(-Infinity, Infinity, (row) => {
    spanEventRows.push(Object.fromEntries(store.spanEvents.columns.map((c) => [c.name, store.spanEvents.get(row, c.name) ?? null])));
  }, now);
  return { series, traces, logs, spanEventRows };
}

/** Resolves with the first `count` lines a stream prints; `onLine` sees every line. */
export function splitLines(onLine: (line: string) => void): (chunk: Buffer) => void {
  let rest = '';
  return (chunk) => {
    rest += chunk.toString('utf8');
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      onLine(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
    }
  };
}
