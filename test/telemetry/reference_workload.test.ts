import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateSpans, spanCounts, spanEvents, type GeneratedSpan } from '../../bench/reference/gen_spans.ts';
import { validate } from '../../src/telemetry/schema.ts';
import { parseIsoTimestamp } from '../../src/telemetry/time.ts';

const options = { traces: 12, spansPerTrace: 9, sessions: 4, seed: 42 };

describe('generateSpans (the issue-4 workload)', () => {
  const spans = [...generateSpans(options)];

  it('is deterministic for a seed and differs across seeds', () => {
    expect([...generateSpans(options)]).toEqual(spans);
    expect([...generateSpans({ ...options, seed: 43 })]).not.toEqual(spans);
    expect(spans).toHaveLength(12 * 9);
  });

  it('builds one tree per trace, children inside their parent in time', () => {
    const byId = new Map(spans.map((s) => [s.span_id, s]));
    expect(byId.size).toBe(spans.length);
    for (const span of spans) {
      const start = parseIsoTimestamp(span.start_time);
      const end = parseIsoTimestamp(span.end_time);
      expect(end).toBeGreaterThan(start);
      if (span.parent_span_id === null) {
        expect(span.attributes.__root__).toBe(true);
        continue;
      }
      const parent = byId.get(span.parent_span_id) as GeneratedSpan;
      expect(parent.trace_id).toBe(span.trace_id);
      expect(start).toBeGreaterThanOrEqual(parseIsoTimestamp(parent.start_time));
      expect(end).toBeLessThanOrEqual(parseIsoTimestamp(parent.end_time));
    }
  });

  it('spreads traces over the sessions round-robin', () => {
    const sessions = spans.filter((s) => s.parent_span_id === null).map((s) => s.attributes.session_id);
    expect(new Set(sessions).size).toBe(4);
    expect(sessions[0]).toBe(sessions[4]);
  });

  it('turns each span into span_start/span_end events strata accepts', () => {
    for (const span of spans) {
      for (const event of spanEvents(span)) expect(validate('LogEventBody', { event })).toMatchObject({ ok: true });
    }
  });

  it('rejects a workload without sessions', () => {
    expect(() => [...generateSpans({ ...options, sessions: 0 })]).toThrow(RangeError);
  });

  it('varies spans per trace in antithetic pairs: exact total, mean ± spread', () => {
    const varied = { traces: 40, spansPerTrace: 10, spansPerTraceSpread: 6, sessions: 4, seed: 7 };
    const spansOf = new Map<string, number>();
    for (const s of generateSpans(varied)) spansOf.set(s.trace_id, (spansOf.get(s.trace_id) ?? 0) + 1);
    const counts = [...spansOf.values()];
    expect(counts).toHaveLength(40);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(400);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(4);
    expect(Math.max(...counts)).toBeLessThanOrEqual(16);
    expect(new Set(counts).size).toBeGreaterThan(3);
    const count = spanCounts(varied);
    expect(counts).toEqual(counts.map((_, t) => count(t))); // traces come out in order, pure in t
    expect([...generateSpans(varied)]).toEqual([...generateSpans(varied)]);
  });

  it('leaves a fixed-count workload unchanged when the spread is 0', () => {
    expect([...generateSpans({ ...options, spansPerTraceSpread: 0 })]).toEqual(spans);
    expect(() => spanCounts({ spansPerTrace: 5, spansPerTraceSpread: 5, seed: 1 })).toThrow(RangeError);
  });
});

const hasPython = spawnSync('python3', ['--version']).status === 0;

describe.skipIf(!hasPython)('sqlite_trace_store.py (Llama Stack reference)', () => {
  it('loads the workload and reports latencies for every query', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-reference-'));
    try {
      const file = join(dir, 'spans.jsonl');
      writeFileSync(file, [...generateSpans({ traces: 6, spansPerTrace: 5, sessions: 3, seed: 1 })].map((s) => JSON.stringify(s)).join('\n'));
      const output = execFileSync('python3', ['bench/reference/sqlite_trace_store.py', file, '--iterations', '4', '--warmup', '1'], { encoding: 'utf8' });
      const report = JSON.parse(output);
      expect(report.load.spans).toBe(30);
      expect(report.workload).toMatchObject({ traces: 6, sessions: 3 });
      expect(Object.keys(report.queries)).toEqual([
        'query_traces', 'query_traces_unfiltered', 'get_span_tree', 'get_span_tree_attributes_depth3', 'query_spans', 'get_trace', 'get_span',
      ]);
      expect(report.queries.query_traces.mean_results).toBe(2); // 6 traces over 3 sessions
      expect(report.queries.get_span_tree.mean_results).toBe(5); // a root's tree is its whole trace
      for (const stats of Object.values(report.queries) as { p50_ms: number; p99_ms: number }[]) {
        expect(stats.p99_ms).toBeGreaterThanOrEqual(stats.p50_ms);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('asks given questions (--targets), within a time budget, of a reused database', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-reference-'));
    try {
      const file = join(dir, 'spans.jsonl');
      const spans = [...generateSpans({ traces: 6, spansPerTrace: 5, spansPerTraceSpread: 3, sessions: 3, seed: 1 })];
      writeFileSync(file, spans.map((s) => JSON.stringify(s)).join('\n'));
      const roots = spans.filter((s) => s.parent_span_id === null);
      const session = roots[0].attributes.session_id as string;
      const targets = join(dir, 'targets.json');
      writeFileSync(targets, JSON.stringify({ query_traces: [session, session], get_span_tree: [roots[0].span_id], query_spans: [session] }));
      const db = join(dir, 'ref.db');
      const run = (...extra: string[]) => JSON.parse(execFileSync('python3', [
        'bench/reference/sqlite_trace_store.py', file, '--db', db, '--targets', targets, '--warmup', '0',
        '--queries', 'query_traces,get_span_tree,query_spans', ...extra,
      ], { encoding: 'utf8' }));
      const first = run();
      expect(first.load.spans).toBe(30);
      expect(first.queries.query_traces).toMatchObject({ n: 2, mean_results: 2 });
      const treeSize = spans.filter((s) => s.trace_id === roots[0].trace_id).length;
      expect(first.queries.get_span_tree).toMatchObject({ n: 1, mean_results: treeSize });
      expect(first.queries.query_spans.n).toBe(1);
      const second = run('--reuse-db', '--time-budget', '0', '--min-iterations', '1');
      expect(second.load).toEqual({ reused_database: db });
      expect(second.queries.query_traces.n).toBe(1); // budget spent after the first call
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
