/** Span trees (get_span_tree, legacy nested form) and query_spans. */
import type { Store } from '../store.ts';
import { badRequest, notFound } from './errors.ts';
import { wireSpanAt, type WireSpan } from './format.ts';
import { matchingTraceIds } from './traces.ts';
import type { SpanCondition } from '../index/spans.ts';

export interface SpanTreeInput {
  attributes_to_return?: string[] | null;
  max_depth?: number | null;
}

function checkDepth(maxDepth: number | null | undefined): number {
  if (maxDepth === undefined || maxDepth === null) return Infinity;
  if (!Number.isInteger(maxDepth) || maxDepth < 1) throw badRequest(`max_depth: expected an integer >= 1, got ${maxDepth}`);
  return maxDepth;
}

/**
 * Slots of the span and its live descendants down to `maxDepth` levels (the span is
 * level 1), breadth first, children in start order; each span once, even if parent links
 * form a cycle.
 */
export function treeSlots(store: Store, rootSlot: number, maxDepth: number, now: number): number[] {
  return store.spans.descendants(rootSlot, maxDepth, now);
}

function rootSlotOf(store: Store, spanId: string, now: number): number {
  const slot = store.spans.find(spanId, now);
  if (slot === undefined) throw notFound(`span ${spanId} not found`);
  return slot;
}

/** get_span_tree: `{span_id: SpanWithStatus}` for the span and its descendants. */
export function getSpanTree(store: Store, spanId: string, input: SpanTreeInput): Record<string, WireSpan> {
  const now = store.clock();
  const maxDepth = checkDepth(input.max_depth);
  const out: Record<string, WireSpan> = {};
  for (const slot of treeSlots(store, rootSlotOf(store, spanId, now), maxDepth, now)) {
    out[store.spans.spanIdOf(slot)] = wireSpanAt(store.spans, slot, input.attributes_to_return, true);
  }
  return out;
}

export interface NestedSpan extends WireSpan {
  children: NestedSpan[];
}

/** The legacy /alpha form: one nested SpanWithChildren. */
export function getNestedSpanTree(store: Store, spanId: string, input: SpanTreeInput): NestedSpan {
  const now = store.clock();
  const maxDepth = checkDepth(input.max_depth);
  // Parent links can form a cycle (a span may even name itself as parent): each span is shown once.
  const seen = new Set<number>();
  const build = (slot: number, depth: number): NestedSpan => {
    seen.add(slot);
    const children: NestedSpan[] = [];
    if (depth < maxDepth) {
      for (const c of store.spans.childrenOf(store.spans.spanIdOf(slot), now)) if (!seen.has(c)) children.push(build(c, depth + 1));
    }
    return { ...wireSpanAt(store.spans, slot, input.attributes_to_return, true), children };
  };
  return build(rootSlotOf(store, spanId, now), 1);
}

export interface QuerySpansInput {
  attribute_filters: SpanCondition[];
  attributes_to_return: string[];
  max_depth?: number | null;
}

/**
 * Spans in the trees (from each root) of the traces matching the filters, keeping
 * those whose attributes hold every requested key with a non-null value.
 */
export function querySpans(store: Store, input: QuerySpansInput): WireSpan[] {
  const now = store.clock();
  const maxDepth = checkDepth(input.max_depth);
  const keys = input.attributes_to_return;
  const out: WireSpan[] = [];
  const spans = store.spans;
  for (const traceId of matchingTraceIds(store, input.attribute_filters, now)) {
    const summary = spans.summary(traceId, now);
    if (!summary) continue;
    const root = spans.find(summary.rootSpanId, now);
    if (root === undefined) continue;
    for (const slot of treeSlots(store, root, maxDepth, now)) {
      if (hasAll(spans.attributesOf(slot), keys)) out.push(wireSpanAt(spans, slot, keys));
    }
  }
  return out;
}

/** Every key present with a non-null value. */
function hasAll(attributes: Readonly<Record<string, unknown>>, keys: readonly string[]): boolean {
  for (let i = 0; i < keys.length; i++) {
    const v = attributes[keys[i]];
    if (v === undefined || v === null) return false;
  }
  return true;
}
