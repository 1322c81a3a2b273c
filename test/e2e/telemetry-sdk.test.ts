/**
 * The Llama Stack Telemetry API end to end: the official llama-stack-client SDK against
 * the real server on a free port.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import LlamaStackClient, { NotFoundError, BadRequestError } from 'llama-stack-client';
import { DuckDBInstance } from '@duckdb/node-api';
import { join } from 'node:path';
import { startTestServer, type TestServer } from './harness.ts';

let server: TestServer;
let client: LlamaStackClient;

const BASE_S = Math.floor(Date.now() / 1000) - 3600; // an hour ago: well inside the default TTL
const iso = (offsetMs: number) => new Date(BASE_S * 1000 + offsetMs).toISOString().replace('Z', '') + '123Z'; // µs precision

type Ev = Parameters<LlamaStackClient['telemetry']['logEvent']>[0]['event'];

function spanStart(trace: string, span: string, name: string, ms: number, parent?: string, attributes: Record<string, string | number | boolean> = {}): Ev {
  return { type: 'structured_log', trace_id: trace, span_id: span, timestamp: iso(ms), attributes, payload: { type: 'span_start', name, parent_span_id: parent } } as Ev;
}
function spanEnd(trace: string, span: string, ms: number, status: 'ok' | 'error' = 'ok', attributes: Record<string, string | number | boolean> = {}): Ev {
  return { type: 'structured_log', trace_id: trace, span_id: span, timestamp: iso(ms), attributes, payload: { type: 'span_end', status } } as Ev;
}
function metric(name: string, value: number, sec: number, attributes: Record<string, string | number | boolean>): Ev {
  return { type: 'metric', trace_id: 't-m', span_id: 's-m', metric: name, value, unit: 'tokens', timestamp: new Date((BASE_S + sec) * 1000).toISOString(), attributes } as Ev;
}

async function log(event: Ev, ttl_seconds?: number) {
  await client.telemetry.logEvent({ event, ttl_seconds: ttl_seconds ?? 604800 });
}

beforeAll(async () => {
  server = await startTestServer();
  client = new LlamaStackClient({ baseURL: server.url, maxRetries: 0 });
  // Three traces of an agent: session A has two turns, session B one.
  for (const [t, session, offset] of [['trace-1', 'A', 0], ['trace-2', 'A', 10_000], ['trace-3', 'B', 20_000]] as const) {
    await log(spanStart(t, `${t}-root`, 'agent.turn', offset, undefined, { session_id: session, __root__: true }));
    await log(spanStart(t, `${t}-llm`, 'inference', offset + 100, `${t}-root`, { model: 'llama-3', input: 'hi' }));
    // The tool span's end arrives before its start.
    await log(spanEnd(t, `${t}-tool`, offset + 900, 'error', { output: 'boom' }));
    await log(spanStart(t, `${t}-tool`, 'tool.call', offset + 500, `${t}-llm`, { tool: 'search' }));
    await log(spanStart(t, `${t}-tool`, 'duplicate-ignored', offset + 600, `${t}-llm`));
    await log(spanEnd(t, `${t}-llm`, offset + 1000, 'ok', { output_tokens: 42 }));
    if (t !== 'trace-3') await log(spanEnd(t, `${t}-root`, offset + 2000));
  }
  for (let i = 0; i < 6; i++) {
    await log(metric('prompt_tokens', 10 + i, i * 1800, { model: i % 2 ? 'llama-3' : 'llama-4', provider: 'meta' }));
  }
});

afterAll(async () => {
  await server?.cleanup();
});

describe('traces', () => {
  it('query_traces: newest first by default, with root, start and end', async () => {
    const traces = await client.telemetry.queryTraces({});
    expect(traces.map((t) => t.trace_id)).toEqual(['trace-3', 'trace-2', 'trace-1', 't-m'].filter((id) => id !== 't-m'));
    const t1 = traces.find((t) => t.trace_id === 'trace-1')!;
    expect(t1.root_span_id).toBe('trace-1-root');
    expect(t1.start_time).toBe(iso(0));
    expect(t1.end_time).toBe(iso(2000));
    expect(traces.find((t) => t.trace_id === 'trace-3')!.end_time).toBe(iso(20_000 + 1000));
  });

  it('attribute filters: one span must satisfy all conditions', async () => {
    const a = await client.telemetry.queryTraces({ attribute_filters: [{ key: 'session_id', op: 'eq', value: 'A' }] });
    expect(a.map((t) => t.trace_id)).toEqual(['trace-2', 'trace-1']);
    const none = await client.telemetry.queryTraces({ attribute_filters: [{ key: 'session_id', op: 'eq', value: 'A' }, { key: 'model', op: 'eq', value: 'llama-3' }] });
    expect(none).toEqual([]);
    const tokens = await client.telemetry.queryTraces({ attribute_filters: [{ key: 'output_tokens', op: 'gt', value: 41 }] });
    expect(tokens).toHaveLength(3);
    const byName = await client.telemetry.queryTraces({ attribute_filters: [{ key: 'name', op: 'eq', value: 'tool.call' }, { key: 'status', op: 'eq', value: 'error' }] });
    expect(byName).toHaveLength(3);
  });

  it('order_by and pagination never overlap', async () => {
    const asc = await client.telemetry.queryTraces({ order_by: ['start_time'] });
    expect(asc.map((t) => t.trace_id)).toEqual(['trace-1', 'trace-2', 'trace-3']);
    const p1 = await client.telemetry.queryTraces({ order_by: ['root_span_id'], limit: 2, offset: 0 });
    const p2 = await client.telemetry.queryTraces({ order_by: ['root_span_id'], limit: 2, offset: 2 });
    expect([...p1, ...p2].map((t) => t.trace_id)).toEqual(['trace-1', 'trace-2', 'trace-3']);
  });

  it('unknown order_by field and negative limit are 400s naming the field', async () => {
    await expect(client.telemetry.queryTraces({ order_by: ['bogus'] })).rejects.toThrow(BadRequestError);
    await expect(client.telemetry.queryTraces({ order_by: ['bogus'] })).rejects.toThrow(/order_by/);
    await expect(client.telemetry.queryTraces({ limit: -1 })).rejects.toThrow(/limit/);
  });

  it('get_trace and get_span; unknown ids are NotFoundError', async () => {
    const t = await client.telemetry.getTrace('trace-2');
    expect(t.root_span_id).toBe('trace-2-root');
    const s = await client.telemetry.getSpan('trace-2', 'trace-2-tool');
    expect(s).toEqual({
      span_id: 'trace-2-tool', trace_id: 'trace-2', parent_span_id: 'trace-2-llm', name: 'tool.call',
      start_time: iso(10_500), end_time: iso(10_900), attributes: { tool: 'search', output: 'boom' },
    });
    await expect(client.telemetry.getTrace('nope')).rejects.toThrow(NotFoundError);
    await expect(client.telemetry.getSpan('trace-1', 'trace-2-tool')).rejects.toThrow(NotFoundError);
  });
});

describe('span trees and span queries', () => {
  it('get_span_tree returns the span and its descendants with status', async () => {
    const tree = await client.telemetry.getSpanTree('trace-1-root', {});
    expect(Object.keys(tree)).toEqual(['trace-1-root', 'trace-1-llm', 'trace-1-tool']);
    expect(tree['trace-1-tool'].status).toBe('error');
    expect(tree['trace-1-llm'].status).toBe('ok');
  });

  it('max_depth counts the span itself as level 1; attributes_to_return fills missing keys with null', async () => {
    const tree = await client.telemetry.getSpanTree('trace-1-root', { max_depth: 2, attributes_to_return: ['model', 'session_id'] });
    expect(Object.keys(tree)).toEqual(['trace-1-root', 'trace-1-llm']);
    expect(tree['trace-1-root'].attributes).toEqual({ model: null, session_id: 'A' });
    expect(tree['trace-1-llm'].attributes).toEqual({ model: 'llama-3', session_id: null });
    await expect(client.telemetry.getSpanTree('trace-1-root', { max_depth: 0 })).rejects.toThrow(/max_depth/);
  });

  it('query_spans returns the spans of matching traces that carry every requested attribute', async () => {
    const spans = await client.telemetry.querySpans({ attribute_filters: [{ key: 'session_id', op: 'eq', value: 'A' }], attributes_to_return: ['model'] });
    expect(spans.map((s) => s.span_id).sort()).toEqual(['trace-1-llm', 'trace-2-llm']);
    expect(spans[0].attributes).toEqual({ model: 'llama-3' });
    expect(spans.every((s) => s.trace_id === s.span_id.replace('-llm', ''))).toBe(true);
    const all = await client.telemetry.querySpans({ attribute_filters: [{ key: 'session_id', op: 'eq', value: 'B' }], attributes_to_return: [] });
    expect(all).toHaveLength(3);
    const shallow = await client.telemetry.querySpans({ attribute_filters: [{ key: 'session_id', op: 'eq', value: 'B' }], attributes_to_return: [], max_depth: 1 });
    expect(shallow.map((s) => s.span_id)).toEqual(['trace-3-root']);
  });

  it('export writes a Parquet part that DatasetIO iterrows reads back', async () => {
    await client.telemetry.saveSpansToDataset({
      attribute_filters: [{ key: 'session_id', op: 'eq', value: 'A' }], attributes_to_save: ['model', 'output_tokens'], dataset_id: 'eval-set.v1',
    });
    const rows = await client.datasets.iterrows('eval-set.v1');
    expect(rows.has_more).toBe(false);
    expect(rows.data).toHaveLength(2);
    const llm = rows.data.find((r) => r.span_id === 'trace-1-llm')!;
    expect(llm).toMatchObject({ trace_id: 'trace-1', parent_span_id: 'trace-1-root', name: 'inference', model: 'llama-3', output_tokens: 42, start_time: iso(100), end_time: iso(1000) });
    const page = await client.datasets.iterrows('eval-set.v1', { start_index: 1, limit: 1 });
    expect(page.data).toHaveLength(1);
    await expect(client.datasets.iterrows('missing-set')).rejects.toThrow(NotFoundError);
    await expect(client.telemetry.saveSpansToDataset({ attribute_filters: [], attributes_to_save: [], dataset_id: '..' })).rejects.toThrow(/dataset_id/);
  });

  it('the exported Parquet opens in DuckDB with the expected rows and column types', async () => {
    await client.telemetry.saveSpansToDataset({
      attribute_filters: [{ key: 'session_id', op: 'eq', value: 'B' }], attributes_to_save: ['model', 'output_tokens'], dataset_id: 'duck',
    });
    const db = await DuckDBInstance.create();
    const conn = await db.connect();
    const glob = join(server.dataDir, 'datasets', 'duck', '*.parquet');
    const types = await conn.runAndReadAll(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${glob}'))`);
    expect(Object.fromEntries(types.getRows() as [string, string][])).toEqual({
      trace_id: 'VARCHAR', span_id: 'VARCHAR', parent_span_id: 'VARCHAR', name: 'VARCHAR',
      start_time: 'TIMESTAMP', end_time: 'TIMESTAMP', model: 'VARCHAR', output_tokens: 'DOUBLE',
    });
    const first = await conn.runAndReadAll(`SELECT span_id, model, output_tokens FROM read_parquet('${glob}')`);
    expect(first.getRows()).toEqual([['trace-3-llm', 'llama-3', 42]]);
    await client.telemetry.saveSpansToDataset({
      attribute_filters: [{ key: 'session_id', op: 'eq', value: 'B' }], attributes_to_save: ['tool'], dataset_id: 'duck',
    });
    const rows = await conn.runAndReadAll(`SELECT span_id, tool, epoch_us(start_time) FROM read_parquet('${glob}', union_by_name=true) WHERE tool IS NOT NULL`);
    expect(rows.getRows()).toEqual([['trace-3-tool', 'search', BigInt((BASE_S * 1000 + 20_500) * 1000 + 123)]]);
    conn.closeSync();
  });
});

describe('metrics', () => {
  it('range query buckets are epoch-aligned sums stamped with the bucket start', async () => {
    const series = await client.telemetry.queryMetrics('prompt_tokens', { start_time: BASE_S, end_time: BASE_S + 3 * 3600, granularity: '1h', query_type: 'range' });
    expect(series).toHaveLength(2);
    const l4 = series.find((s) => s.labels.some((l) => l.value === 'llama-4'))!;
    expect(l4.metric).toBe('prompt_tokens');
    expect(l4.labels).toEqual([{ name: 'model', value: 'llama-4' }, { name: 'provider', value: 'meta' }]);
    // llama-4 samples at +0s (10), +3600s (12), +7200s (14)
    const want = new Map<number, number>();
    for (const [sec, v] of [[0, 10], [3600, 12], [7200, 14]]) {
      const b = Math.floor((BASE_S + sec) / 3600) * 3600;
      want.set(b, (want.get(b) ?? 0) + v);
    }
    expect(l4.values.map((p) => [p.timestamp, p.value])).toEqual([...want.entries()].sort((a, b) => a[0] - b[0]));
    expect(l4.values.every((p) => p.unit === 'tokens')).toBe(true);
  });

  it('raw samples, instant sums and label matchers', async () => {
    const raw = await client.telemetry.queryMetrics('prompt_tokens', { start_time: BASE_S, end_time: BASE_S + 4 * 3600, granularity: null as unknown as string, query_type: 'range', label_matchers: [{ name: 'model', value: 'llama-3', operator: '=' }] });
    expect(raw).toHaveLength(1);
    expect(raw[0].values.map((p) => [p.timestamp - BASE_S, p.value])).toEqual([[1800, 11], [5400, 13], [9000, 15]]);
    const instant = await client.telemetry.queryMetrics('prompt_tokens', { start_time: BASE_S, end_time: BASE_S + 5400, query_type: 'instant', label_matchers: [{ name: 'model', value: 'llama-.*', operator: '=~' }] });
    const sums = Object.fromEntries(instant.map((s) => [s.labels[0].value, s.values]));
    expect(sums['llama-3']).toEqual([{ timestamp: BASE_S + 5400, value: 11 + 13, unit: 'tokens' }]);
    expect(sums['llama-4']).toEqual([{ timestamp: BASE_S + 5400, value: 10 + 12, unit: 'tokens' }]);
    const neg = await client.telemetry.queryMetrics('prompt_tokens', { start_time: BASE_S, end_time: BASE_S + 4 * 3600, query_type: 'instant', label_matchers: [{ name: 'model', value: 'llama-4', operator: '!=' }] });
    expect(neg.map((s) => s.labels[0].value)).toEqual(['llama-3']);
    expect(await client.telemetry.queryMetrics('unknown_metric', { start_time: BASE_S, query_type: 'range' })).toEqual([]);
  });
});

describe('TTL and validation', () => {
  it('an event already past its TTL is never returned', async () => {
    await log(spanStart('trace-old', 'old-root', 'x', -7200_000, undefined, { session_id: 'old' }), 60);
    expect(await client.telemetry.queryTraces({ attribute_filters: [{ key: 'session_id', op: 'eq', value: 'old' }] })).toEqual([]);
    await expect(client.telemetry.getTrace('trace-old')).rejects.toThrow(NotFoundError);
  });

  it('a bad event is a 400 naming the field, and nothing of its batch is applied', async () => {
    const res = await fetch(`${server.url}/v1/telemetry/events`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: [spanStart('trace-bad', 'bad-1', 'x', 0), { ...spanStart('trace-bad', 'bad-2', 'x', 0), timestamp: 'yesterday' }] }),
    });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.detail).toMatch(/events\[1\]\.timestamp/);
    await expect(client.telemetry.getTrace('trace-bad')).rejects.toThrow(NotFoundError);
  });
});

describe('legacy /alpha routes', () => {
  it('query-traces returns a bare list and get-span-tree a nested tree', async () => {
    const res = await fetch(`${server.url}/alpha/telemetry/query-traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ attribute_filters: [{ key: 'session_id', op: 'eq', value: 'B' }] }) });
    expect(await res.json()).toEqual([{ trace_id: 'trace-3', root_span_id: 'trace-3-root', start_time: iso(20_000), end_time: iso(21_000) }]);
    const tree = await (await fetch(`${server.url}/alpha/telemetry/get-span-tree`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ span_id: 'trace-3-root', attributes_to_return: ['tool'] }) })).json();
    expect(tree.span_id).toBe('trace-3-root');
    expect(tree.status).toBeUndefined();
    expect(tree.children).toHaveLength(1);
    expect(tree.children[0].children[0]).toMatchObject({ span_id: 'trace-3-tool', status: 'error', attributes: { tool: 'search' }, children: [] });
  });
});
