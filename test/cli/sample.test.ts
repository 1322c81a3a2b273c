/** data/sample-agent.jsonl: regenerated exactly by its generator, and a well-formed agent workload. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROOT, SAMPLE } from './helpers.ts';

interface Line { offset_ms: number; type: string; trace_id: string; span_id: string; severity?: string; metric?: string; attributes?: Record<string, unknown>; payload?: { type: string; name?: string; parent_span_id?: string } }

const text = readFileSync(SAMPLE, 'utf8');
const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Line);

describe('the sample agent workload', () => {
  it('is what data/sample-agent.gen.ts generates', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'data/sample-agent.gen.ts'], { cwd: ROOT, encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(text);
  });

  it('has 40 agent turns over the last hour with shield, inference, tool and RAG spans, token metrics and logs', () => {
    expect(lines.every((l) => typeof l.offset_ms === 'number' && l.offset_ms < 0 && l.offset_ms > -3_600_000 && !('timestamp' in l))).toBe(true);
    const starts = lines.filter((l) => l.payload?.type === 'span_start');
    const ends = new Set(lines.filter((l) => l.payload?.type === 'span_end').map((l) => l.span_id));
    expect(starts.every((s) => ends.has(s.span_id))).toBe(true);
    const roots = starts.filter((s) => !s.payload!.parent_span_id);
    expect(roots).toHaveLength(40);
    expect(new Set(roots.map((r) => r.trace_id)).size).toBe(40);
    expect(roots.every((r) => r.payload!.name === 'create_and_execute_turn' && typeof r.attributes!.session_id === 'string')).toBe(true);
    expect(new Set(starts.map((s) => s.payload!.name))).toEqual(new Set(['create_and_execute_turn', 'run_shield', 'inference', 'tool_execution', 'rag_tool.query', 'vector_io.query_chunks']));
    const ids = new Set(starts.map((s) => s.span_id));
    expect(starts.every((s) => !s.payload!.parent_span_id || ids.has(s.payload!.parent_span_id))).toBe(true);
    expect(new Set(lines.filter((l) => l.type === 'metric').map((l) => l.metric))).toEqual(new Set(['prompt_tokens', 'completion_tokens', 'total_tokens', 'tool_latency_ms']));
    expect(new Set(lines.filter((l) => l.type === 'unstructured_log').map((l) => l.severity))).toEqual(new Set(['info', 'warn', 'error']));
    expect(lines.filter((l) => l.type === 'structured_log' && (l.payload as { status?: string }).status === 'error').length).toBeGreaterThan(0);
  });
});
