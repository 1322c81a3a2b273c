import { describe, expect, it } from 'vitest';
import { SpanIndex, conditionHolds } from '../../src/index/spans.ts';

const FAR = Number.MAX_SAFE_INTEGER;

function start(idx: SpanIndex, spanId: string, opts: { trace?: string; parent?: string; ts?: number; expiry?: number; attrs?: Record<string, string | number | boolean | null> } = {}) {
  idx.addStart({ traceId: opts.trace ?? 't1', spanId, parentSpanId: opts.parent, name: `op-${spanId}`, ts: opts.ts ?? 0, expiry: opts.expiry ?? FAR, attributes: opts.attrs });
}

describe('SpanIndex', () => {
  it('a span is visible from its start; the end adds end time, status and merged attributes', () => {
    const idx = new SpanIndex();
    start(idx, 's1', { ts: 10, attrs: { a: 1, b: 'x' } });
    const open = idx.view(idx.find('s1', 0)!);
    expect(open.end).toBeUndefined();
    expect(open.status).toBeUndefined();
    idx.addEnd({ traceId: 't1', spanId: 's1', ts: 20, expiry: FAR, status: 'error', attributes: { b: 'y', c: true } });
    const done = idx.view(idx.find('s1', 0)!);
    expect(done.end).toBe(20);
    expect(done.status).toBe('error');
    expect(done.attributes).toEqual({ a: 1, b: 'y', c: true });
  });

  it('ignores a duplicate start and applies an end that arrived before its start', () => {
    const idx = new SpanIndex();
    idx.addEnd({ traceId: 't1', spanId: 's1', ts: 50, expiry: FAR, status: 'ok', attributes: { done: true } });
    expect(idx.find('s1', 0)).toBeUndefined();
    start(idx, 's1', { ts: 10, attrs: { first: 1 } });
    start(idx, 's1', { ts: 99, attrs: { second: 2 } });
    const v = idx.view(idx.find('s1', 0)!);
    expect(v.start).toBe(10);
    expect(v.end).toBe(50);
    expect(v.attributes).toEqual({ first: 1, done: true });
  });

  it('root: a marked span first, else the earliest parentless span, else the earliest orphan', () => {
    const idx = new SpanIndex();
    start(idx, 'a', { trace: 'm', ts: 1 });
    start(idx, 'b', { trace: 'm', ts: 2, parent: 'a', attrs: { __root__: true } });
    expect(idx.summary('m', 0)!.rootSpanId).toBe('b');

    start(idx, 'c', { trace: 'p', ts: 5, parent: 'zz' });
    start(idx, 'd', { trace: 'p', ts: 6 });
    expect(idx.summary('p', 0)!.rootSpanId).toBe('d');

    start(idx, 'e', { trace: 'o', ts: 9, parent: 'e0' });
    start(idx, 'f', { trace: 'o', ts: 3, parent: 'f0' });
    start(idx, 'g', { trace: 'o', ts: 1, parent: 'f' });
    expect(idx.summary('o', 0)!.rootSpanId).toBe('f');
  });

  it('trace start/end are min start and max end; end absent until a span ends', () => {
    const idx = new SpanIndex();
    start(idx, 'a', { ts: 5 });
    start(idx, 'b', { ts: 3, parent: 'a' });
    expect(idx.summary('t1', 0)).toEqual({ traceId: 't1', rootSpanId: 'a', start: 3, end: undefined });
    idx.addEnd({ traceId: 't1', spanId: 'b', ts: 40, expiry: FAR, status: 'ok' });
    expect(idx.summary('t1', 0)!.end).toBe(40);
  });

  it('children are found by parent id even when the child arrives first', () => {
    const idx = new SpanIndex();
    start(idx, 'child2', { parent: 'root', ts: 3 });
    start(idx, 'child1', { parent: 'root', ts: 2 });
    start(idx, 'root', { ts: 1 });
    expect(idx.childrenOf('root', 0).map((s) => idx.view(s).spanId)).toEqual(['child1', 'child2']);
  });

  it('traceSpanCount counts the spans indexed for a trace, duplicates once, until they are removed', () => {
    const idx = new SpanIndex();
    expect(idx.traceSpanCount('t1')).toBe(0);
    start(idx, 'a', { expiry: 10 });
    start(idx, 'b', { parent: 'a' });
    start(idx, 'b', { parent: 'a' });
    start(idx, 'c', { trace: 't2' });
    expect(idx.traceSpanCount('t1')).toBe(2);
    expect(idx.traceSpanCount('t2')).toBe(1);
    expect(idx.traceSpanCount('t1')).toBe(2); // 'a' expired at 10 but is not removed yet
    idx.removeExpired(10);
    expect(idx.traceSpanCount('t1')).toBe(1);
  });

  it('matchSpans: all conditions on one span; special keys fall back to span fields', () => {
    const idx = new SpanIndex();
    start(idx, 'a', { attrs: { session_id: 'S1', tokens: 10 } });
    start(idx, 'b', { attrs: { session_id: 'S1', tokens: 30 } });
    start(idx, 'c', { attrs: { session_id: 'S2', tokens: 30 } });
    const ids = (slots: number[]) => slots.map((s) => idx.view(s).spanId).sort();
    expect(ids(idx.matchSpans([{ key: 'session_id', op: 'eq', value: 'S1' }], 0))).toEqual(['a', 'b']);
    expect(ids(idx.matchSpans([{ key: 'session_id', op: 'eq', value: 'S1' }, { key: 'tokens', op: 'gt', value: 20 }], 0))).toEqual(['b']);
    expect(ids(idx.matchSpans([{ key: 'tokens', op: 'lt', value: 20 }], 0))).toEqual(['a']);
    expect(ids(idx.matchSpans([{ key: 'name', op: 'eq', value: 'op-c' }], 0))).toEqual(['c']);
    expect(ids(idx.matchSpans([{ key: 'missing', op: 'ne', value: 'x' }], 0))).toEqual([]);
  });

  it('end attributes overriding a value move the span in the attribute index', () => {
    const idx = new SpanIndex();
    start(idx, 'a', { attrs: { phase: 'begin' } });
    idx.addEnd({ traceId: 't1', spanId: 'a', ts: 1, expiry: FAR, status: 'ok', attributes: { phase: 'end' } });
    expect(idx.matchSpans([{ key: 'phase', op: 'eq', value: 'begin' }], 0)).toEqual([]);
    expect(idx.matchSpans([{ key: 'phase', op: 'eq', value: 'end' }], 0)).toHaveLength(1);
  });

  it('expired spans are invisible at once and forgotten by removeExpired', () => {
    const idx = new SpanIndex();
    start(idx, 'old', { ts: 1, expiry: 100, attrs: { k: 'v' } });
    start(idx, 'new', { ts: 2, expiry: 1000, parent: 'old', attrs: { k: 'v' } });
    expect(idx.summary('t1', 50)!.rootSpanId).toBe('old');
    expect(idx.find('old', 100)).toBeUndefined();
    expect(idx.summary('t1', 100)!.rootSpanId).toBe('new');
    expect(idx.matchSpans([{ key: 'k', op: 'eq', value: 'v' }], 100)).toHaveLength(1);
    expect(idx.removeExpired(100)).toBe(1);
    expect(idx.size).toBe(1);
    start(idx, 'reuse', { ts: 3, expiry: 1000, attrs: { k: 'other' } });
    expect(idx.matchSpans([{ key: 'k', op: 'eq', value: 'v' }], 100).map((s) => idx.view(s).spanId)).toEqual(['new']);
    expect(idx.removeExpired(2000)).toBe(2);
    expect(idx.traceCount).toBe(0);
  });
});

describe('conditionHolds', () => {
  it('compares by type; a missing key fails every operator', () => {
    expect(conditionHolds(5, { key: 'k', op: 'gt', value: 3 })).toBe(true);
    expect(conditionHolds(10, { key: 'k', op: 'gt', value: 9 })).toBe(true);
    expect(conditionHolds('10', { key: 'k', op: 'gt', value: '9' })).toBe(false);
    expect(conditionHolds('b', { key: 'k', op: 'lt', value: 'c' })).toBe(true);
    expect(conditionHolds(true, { key: 'k', op: 'eq', value: true })).toBe(true);
    expect(conditionHolds(true, { key: 'k', op: 'gt', value: false })).toBe(false);
    expect(conditionHolds(5, { key: 'k', op: 'eq', value: '5' })).toBe(false);
    expect(conditionHolds(5, { key: 'k', op: 'ne', value: '5' })).toBe(true);
    expect(conditionHolds(undefined, { key: 'k', op: 'ne', value: 'x' })).toBe(false);
  });
});
