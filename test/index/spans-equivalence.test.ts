/**
 * The span index after the query-speed work (running trace summaries, lazily sorted child and
 * trace lists, tree walks with visit marks, interned strings) against the index as it was
 * (spans-reference.ts): random event streams — out of order, duplicate starts and ends, root
 * markers set and unset by end attributes, parents missing or in other traces, ties in start
 * time, expiries and removals — must get the same answers to every question.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SpanIndex, type Attributes, type SpanCondition } from '../../src/index/spans.ts';
import { ReferenceSpanIndex } from './spans-reference.ts';

const SPAN_IDS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
const TRACE_IDS = ['t1', 't2', 't3'];
const FAR = Number.MAX_SAFE_INTEGER;

const markerValue = fc.constantFrom<Attributes[string]>(true, false, 'false', '', 0, 1, null);
const attributes = fc.record(
  {
    __root__: markerValue, __root_span__: markerValue, __local_root_span__: markerValue,
    session_id: fc.constantFrom('S1', 'S2'), tokens: fc.integer({ min: 0, max: 3 }), input: fc.constantFrom('x', 'y', null),
  },
  { requiredKeys: [] },
);

type Op =
  | { op: 'start'; traceId: string; spanId: string; parentSpanId?: string; ts: number; expiry: number; attributes?: Attributes }
  | { op: 'end'; traceId: string; spanId: string; ts: number; expiry: number; status: 'ok' | 'error'; attributes?: Attributes }
  | { op: 'remove'; now: number };

const expiry = fc.constantFrom(10, 20, 30, FAR);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('start' as const), traceId: fc.constantFrom(...TRACE_IDS), spanId: fc.constantFrom(...SPAN_IDS),
      parentSpanId: fc.option(fc.constantFrom(...SPAN_IDS, 'zz', ''), { nil: undefined }), ts: fc.integer({ min: 0, max: 5 }),
      expiry, attributes: fc.option(attributes, { nil: undefined }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('end' as const), traceId: fc.constantFrom(...TRACE_IDS), spanId: fc.constantFrom(...SPAN_IDS),
      ts: fc.integer({ min: 0, max: 9 }), expiry, status: fc.constantFrom('ok' as const, 'error' as const),
      attributes: fc.option(attributes, { nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), now: fc.constantFrom(0, 10, 20, 30) }) },
);

const CONDITIONS: SpanCondition[][] = [
  [{ key: 'session_id', op: 'eq', value: 'S1' }],
  [{ key: 'session_id', op: 'eq', value: 'S2' }, { key: 'tokens', op: 'gt', value: 1 }],
  [{ key: 'input', op: 'ne', value: 'x' }],
  [{ key: 'name', op: 'eq', value: 'op-a' }],
];

type AnyIndex = SpanIndex | ReferenceSpanIndex;

function apply(idx: AnyIndex, op: Op): number | void {
  switch (op.op) {
    case 'start': return idx.addStart({ ...op, name: `op-${op.spanId}` });
    case 'end': return idx.addEnd(op);
    case 'remove': return idx.removeExpired(op.now);
  }
}

/** Everything a reader can ask, at one time. */
function answers(idx: AnyIndex, now: number) {
  const ids = (slots: readonly number[]) => slots.map((s) => idx.view(s).spanId);
  const views = (slots: readonly number[]) => slots.map((s) => {
    const { slot: _slot, ...view } = idx.view(s);
    return { ...view, attributes: { ...view.attributes } };
  });
  return {
    size: idx.size,
    traceCount: idx.traceCount,
    traces: [...idx.allTraceIds()].sort(),
    summaries: TRACE_IDS.map((t) => idx.summary(t, now)),
    traceSlots: TRACE_IDS.map((t) => views(idx.traceSlots(t, now))),
    children: [...SPAN_IDS, 'zz'].map((s) => ids(idx.childrenOf(s, now))),
    found: SPAN_IDS.map((s) => {
      const slot = idx.find(s, now);
      return slot === undefined ? null : { live: idx.isLive(slot, now), trace: idx.traceIdOf(slot), start: idx.startOf(slot) };
    }),
    matches: CONDITIONS.map((c) => ids(idx.matchSpans(c, now)).sort()),
  };
}

/** Breadth-first tree as the telemetry layer walked it before SpanIndex.descendants (no cycle guard). */
function referenceTree(idx: ReferenceSpanIndex, root: number, maxDepth: number, now: number): string[] {
  const out = [root];
  let level = [root];
  for (let depth = 2; depth <= maxDepth && level.length; depth++) {
    const next: number[] = [];
    for (const slot of level) for (const child of idx.childrenOf(idx.view(slot).spanId, now)) next.push(child);
    out.push(...next);
    level = next;
  }
  return out.map((s) => idx.view(s).spanId);
}

describe('SpanIndex answers exactly as the reference index', () => {
  it('on random event streams, at every step and several times', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), fc.array(fc.constantFrom(0, 5, 10, 15, 20, 25, 30, 40), { minLength: 1, maxLength: 4 }), (ops, nows) => {
        const fast = new SpanIndex();
        const ref = new ReferenceSpanIndex();
        for (const op of ops) {
          expect(apply(fast, op)).toEqual(apply(ref, op));
          for (const now of nows) expect(answers(fast, now)).toEqual(answers(ref, now));
        }
      }),
      { numRuns: 400 },
    );
  });

  it('walks the same span trees (breadth first, children by start) where parent links form no cycle', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), fc.constantFrom(1, 2, 3, Infinity), fc.constantFrom(0, 15, 40), (ops, maxDepth, now) => {
        const fast = new SpanIndex();
        const ref = new ReferenceSpanIndex();
        for (const op of ops) {
          apply(fast, op);
          apply(ref, op);
        }
        for (const id of SPAN_IDS) {
          const a = fast.find(id, now);
          const b = ref.find(id, now);
          expect(a === undefined).toBe(b === undefined);
          if (a === undefined || b === undefined || reachesCycle(ref, b, now)) continue;
          expect(fast.descendants(a, maxDepth, now).map((s) => fast.spanIdOf(s))).toEqual(referenceTree(ref, b, maxDepth, now));
        }
      }),
      { numRuns: 400 },
    );
  });

  it('lists each span of a cyclic tree once (the old walk never ended without max_depth)', () => {
    const idx = new SpanIndex();
    idx.addStart({ traceId: 't', spanId: 'self', parentSpanId: 'self', name: 'n', ts: 1, expiry: FAR });
    expect(idx.descendants(idx.find('self', 0)!, Infinity, 0).map((s) => idx.spanIdOf(s))).toEqual(['self']);
    idx.addStart({ traceId: 't', spanId: 'x', parentSpanId: 'y', name: 'n', ts: 2, expiry: FAR });
    idx.addStart({ traceId: 't', spanId: 'y', parentSpanId: 'x', name: 'n', ts: 3, expiry: FAR });
    idx.addStart({ traceId: 't', spanId: 'z', parentSpanId: 'y', name: 'n', ts: 4, expiry: FAR });
    expect(idx.descendants(idx.find('x', 0)!, Infinity, 0).map((s) => idx.spanIdOf(s))).toEqual(['x', 'y', 'z']);
    expect(idx.descendants(idx.find('y', 0)!, 2, 0).map((s) => idx.spanIdOf(s))).toEqual(['y', 'x', 'z']);
  });
});

/** True when the walk from `root` can reach a span twice (a cycle below it). */
function reachesCycle(idx: ReferenceSpanIndex, root: number, now: number): boolean {
  const seen = new Set<number>([root]);
  const stack = [root];
  while (stack.length) {
    const slot = stack.pop() as number;
    for (const child of idx.childrenOf(idx.view(slot).spanId, now)) {
      if (seen.has(child)) return true;
      seen.add(child);
      stack.push(child);
    }
  }
  return false;
}
