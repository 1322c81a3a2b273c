/** Span trees (get_span_tree, legacy nested form) and query_spans. */
import type { Store } from '../store.ts';
import { badRequest, notFound } from './errors.ts';
import { wireSpan, type WireSpan } from './format.ts';
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
 * level 1), breadth first, children in start order.
 */
export function treeSlots(store: Store, rootSlot: number, maxDepth: number, now: number): number[] {
  const out = [rootSlot];
  let level = [rootSlot];
  for (let depth = 2; depth <= maxDepth && level.length; depth++) {
    const next: number[] = [];
    for (const slot of level) for (const child of store.spans.childrenOf(store.spans.view(slot).spanId, now)) next.push(child);
    out.push(...next);
    level = next;
  }
  return out;
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
    const span = store.spans.view(slot);
    out[span.spanId] = wireSpan(span, input.attributes_to_return, true);
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
  const build = (slot: number, depth: number): NestedSpan => {
    const span = store.spans.view(slot);
    const children = depth < maxDepth ? store.spans.childrenOf(span.spanId, now).map((c) => build(c, depth + 1)) : [];
    return { ...wireSpan(span, input.attributes_to_return, true), children };
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
  for (const traceId of matchingTraceIds(store, input.attribute_filters, now)) {
    const summary = store.spans.summary(traceId, now);
    if (!summary) continue;
    const root = store.spans.find(summary.rootSpanId, now);
    if (root === undefined) continue;
    for (const slot of treeSlots(store, root, maxDepth, now)) {
      const span = store.spans.view(slot);
      if (keys.every((k) => span.attributes[k] !== undefined && span.attributes[k] !== null)) out.push(wireSpan(span, keys));
    }
  }
  return out;
}
