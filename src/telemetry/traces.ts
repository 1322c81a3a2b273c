/** query_traces, get_trace and get_span over the span index. */
import type { SpanCondition, TraceSummary } from '../index/spans.ts';
import type { Store } from '../store.ts';
import { badRequest, notFound } from './errors.ts';
import { wireSpan, wireTrace, type WireSpan, type WireTrace } from './format.ts';

export interface QueryTracesInput {
  attribute_filters?: SpanCondition[] | null;
  limit?: number | null;
  offset?: number | null;
  order_by?: string[] | null;
}

const ORDERABLE = new Set(['trace_id', 'root_span_id', 'start_time', 'end_time']);

/** Traces with a span satisfying every filter, sorted, paged. */
export function queryTraces(store: Store, input: QueryTracesInput): WireTrace[] {
  const now = store.clock();
  const limit = input.limit ?? 100;
  const offset = input.offset ?? 0;
  if (limit < 0 || offset < 0) throw badRequest('limit and offset must be >= 0');
  const orderBy = input.order_by?.length ? input.order_by : ['-start_time'];
  const compare = traceComparator(orderBy);
  const conditions = input.attribute_filters ?? [];
  validateConditions(conditions);
  let summaries = store.spans.summaries(conditions.length === 0 ? null : matchingTraceIds(store, conditions, now), now);
  const k = offset + limit;
  const timeKey = leadingTimeKey(orderBy[0]);
  if (timeKey && k > 0 && k * 4 < summaries.length) summaries = atOrBefore(summaries, timeKey, k);
  return firstSorted(summaries, compare, k).slice(offset, k).map(wireTrace);
}

/**
 * When the first sort key is a time, a number per trace that orders as that key does (smaller
 * first; a missing end time last in either direction, as traceComparator has it).
 */
function leadingTimeKey(field: string): ((t: TraceSummary) => number) | null {
  switch (field) {
    case 'start_time': return (t) => t.start;
    case '-start_time': return (t) => -t.start;
    case 'end_time': return (t) => (t.end === undefined ? Infinity : t.end);
    case '-end_time': return (t) => (t.end === undefined ? Infinity : -t.end);
    default: return null;
  }
}

/**
 * The traces whose leading key is at most the k-th smallest key: a superset of the first k in
 * full order (ties at the k-th key are all kept for the comparator to settle), found with a
 * selection over a Float64Array of keys instead of comparator calls on objects.
 */
function atOrBefore(summaries: TraceSummary[], key: (t: TraceSummary) => number, k: number): TraceSummary[] {
  const keys = new Float64Array(summaries.length);
  for (let i = 0; i < summaries.length; i++) keys[i] = key(summaries[i]);
  const limit = nthSmallest(keys.slice(), k - 1);
  const out: TraceSummary[] = [];
  for (let i = 0; i < summaries.length; i++) if (keys[i] <= limit) out.push(summaries[i]);
  return out;
}

/** The value a numeric sort would put at index n (reorders `a`; no NaN in `a`). */
export function nthSmallest(a: Float64Array, n: number): number {
  let lo = 0, hi = a.length - 1;
  while (hi > lo) {
    const x = a[(lo + hi) >> 1];
    let i = lo, j = hi;
    do {
      while (a[i] < x) i++;
      while (x < a[j]) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    } while (i <= j);
    if (j < n) lo = i;
    if (n < i) hi = j;
  }
  return a[n];
}

/**
 * The `k` smallest items in order, as `items.sort(compare).slice(0, k)` (`compare` is a total
 * order here: ties end in trace_id), without sorting everything when a page is a small part:
 * a selection pass (Hoare's FIND, expected linear) brings the k smallest to the front, then
 * only those are sorted. Reorders `items`.
 */
export function firstSorted<T>(items: T[], compare: (a: T, b: T) => number, k: number): T[] {
  if (k <= 0) return [];
  if (k * 4 >= items.length) return items.sort(compare).slice(0, k);
  selectNth(items, k - 1, compare);
  const head = items.slice(0, k);
  return head.sort(compare);
}

/** Rearranges `a` so that a[n] is the item a full sort would put there, a[0..n) <= a[n] <= a[n+1..]. */
function selectNth<T>(a: T[], n: number, compare: (a: T, b: T) => number): void {
  let lo = 0, hi = a.length - 1;
  while (hi > lo) {
    const x = medianOf3(a[lo], a[(lo + hi) >> 1], a[hi], compare);
    let i = lo, j = hi;
    do {
      while (compare(a[i], x) < 0) i++;
      while (compare(x, a[j]) < 0) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    } while (i <= j);
    if (j < n) lo = i;
    if (n < i) hi = j;
  }
}

function medianOf3<T>(a: T, b: T, c: T, compare: (a: T, b: T) => number): T {
  if (compare(a, b) < 0) return compare(b, c) < 0 ? b : compare(a, c) < 0 ? c : a;
  return compare(a, c) < 0 ? a : compare(b, c) < 0 ? c : b;
}

/** Ids of traces having one live span that satisfies all the conditions. */
export function matchingTraceIds(store: Store, conditions: SpanCondition[], now: number): Iterable<string> {
  validateConditions(conditions);
  if (conditions.length === 0) return store.spans.allTraceIds();
  const ids = new Set<string>();
  for (const slot of store.spans.matchSpans(conditions, now)) ids.add(store.spans.traceIdOf(slot));
  return ids;
}

function validateConditions(conditions: SpanCondition[]): void {
  conditions.forEach((c, i) => {
    if ((c.op === 'gt' || c.op === 'lt') && typeof c.value !== 'number' && typeof c.value !== 'string') {
      throw badRequest(`attribute_filters[${i}].value: operator ${c.op} needs a number or a string, got ${c.value === null ? 'null' : typeof c.value}`);
    }
  });
}

type Key = 'trace_id' | 'root_span_id' | 'start_time' | 'end_time';

/**
 * Sorts by the given fields ("-" = descending), then by trace_id so that pages never
 * overlap. A trace without an end time sorts after those with one, either direction.
 */
export function traceComparator(orderBy: string[]): (a: TraceSummary, b: TraceSummary) => number {
  const keys = orderBy.map((f) => {
    const desc = f.startsWith('-');
    const field = desc ? f.slice(1) : f;
    if (!ORDERABLE.has(field)) throw badRequest(`order_by: unknown field "${field}", expected one of ${[...ORDERABLE].join(', ')}`);
    return { field: field as Key, sign: desc ? -1 : 1 };
  });
  return (a, b) => {
    for (const { field, sign } of keys) {
      const c = compareField(a, b, field, sign);
      if (c !== 0) return c;
    }
    return a.traceId < b.traceId ? -1 : a.traceId > b.traceId ? 1 : 0;
  };
}

function compareField(a: TraceSummary, b: TraceSummary, field: Key, sign: number): number {
  switch (field) {
    case 'trace_id': return sign * cmp(a.traceId, b.traceId);
    case 'root_span_id': return sign * cmp(a.rootSpanId, b.rootSpanId);
    case 'start_time': return sign * (a.start - b.start);
    case 'end_time':
      if (a.end === undefined || b.end === undefined) return a.end === b.end ? 0 : a.end === undefined ? 1 : -1;
      return sign * (a.end - b.end);
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function getTrace(store: Store, traceId: string): WireTrace {
  const s = store.spans.summary(traceId, store.clock());
  if (!s) throw notFound(`trace ${traceId} not found`);
  return wireTrace(s);
}

export function getSpan(store: Store, traceId: string, spanId: string): WireSpan {
  const slot = store.spans.find(spanId, store.clock());
  if (slot === undefined || store.spans.traceIdOf(slot) !== traceId) throw notFound(`span ${spanId} not found in trace ${traceId}`);
  return wireSpan(store.spans.view(slot));
}
