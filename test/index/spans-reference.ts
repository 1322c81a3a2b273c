/**
 * The span index as it was before the query-speed work (issue 4 benchmark), kept verbatim
 * (but for the class name) as the oracle of test/index/spans-equivalence.test.ts: the faster
 * index must answer every question exactly as this one does.
 */
/**
 * Span assembly and the span indexes: span id -> slot, trace id -> spans, parent ->
 * children, attribute key=value -> spans. Spans are assembled from start and end
 * events in any order (SPEC §2): a duplicate start is ignored, an end that arrives
 * first waits for its start, the end's attributes are merged over the start's.
 */

export type Primitive = string | number | boolean | null;
export type Attributes = Record<string, Primitive>;

export const enum SpanStatus { Unset = 0, Ok = 1, Error = 2 }

export interface SpanStartInput {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  ts: number;
  expiry: number;
  attributes?: Attributes;
}

export interface SpanEndInput {
  traceId: string;
  spanId: string;
  ts: number;
  expiry: number;
  status: 'ok' | 'error';
  attributes?: Attributes;
}

/** One assembled span, as the telemetry layer reads it. */
export interface SpanView {
  slot: number;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  start: number;
  end: number | undefined;
  status: 'ok' | 'error' | undefined;
  attributes: Attributes;
}

export interface TraceSummary {
  traceId: string;
  rootSpanId: string;
  start: number;
  end: number | undefined;
}

const ROOT_MARKERS = ['__root__', '__root_span__', '__local_root_span__'];
const STATUS_NAMES = [undefined, 'ok', 'error'] as const;

interface TraceEntry {
  slots: number[];
  summary: TraceSummary | null;
  /** Earliest expiry among the trace's spans: the cached summary is stale past it. */
  minExpiry: number;
}

export class ReferenceSpanIndex {
  private readonly slotOf = new Map<string, number>();
  private traceId: string[] = [];
  private spanId: string[] = [];
  private parentId: (string | undefined)[] = [];
  private name: string[] = [];
  private attrs: Attributes[] = [];
  private start: number[] = [];
  private end: number[] = [];
  private status: number[] = [];
  private expiry: number[] = [];
  private readonly freeSlots: number[] = [];
  private readonly traces = new Map<string, TraceEntry>();
  private readonly children = new Map<string, number[]>();
  private readonly pendingEnds = new Map<string, SpanEndInput>();
  /** key -> value key (type-tagged) -> slots. */
  private readonly attrIndex = new Map<string, Map<string, number[]>>();

  get size(): number {
    return this.slotOf.size;
  }

  get traceCount(): number {
    return this.traces.size;
  }

  addStart(e: SpanStartInput): void {
    if (this.slotOf.has(e.spanId)) return;
    const slot = this.freeSlots.pop() ?? this.traceId.length;
    this.traceId[slot] = e.traceId;
    this.spanId[slot] = e.spanId;
    this.parentId[slot] = e.parentSpanId || undefined;
    this.name[slot] = e.name;
    this.attrs[slot] = { ...(e.attributes ?? {}) };
    this.start[slot] = e.ts;
    this.end[slot] = NaN;
    this.status[slot] = SpanStatus.Unset;
    this.expiry[slot] = e.expiry;
    this.slotOf.set(e.spanId, slot);
    this.indexAttributes(slot, this.attrs[slot]);
    const trace = this.traceEntry(e.traceId);
    trace.slots.push(slot);
    this.touchTrace(trace, e.expiry);
    if (this.parentId[slot]) pushTo(this.children, this.parentId[slot] as string, slot);
    const pending = this.pendingEnds.get(e.spanId);
    if (pending) {
      this.pendingEnds.delete(e.spanId);
      this.applyEnd(slot, pending);
    }
  }

  addEnd(e: SpanEndInput): void {
    const slot = this.slotOf.get(e.spanId);
    if (slot === undefined) {
      this.pendingEnds.set(e.spanId, e);
      return;
    }
    this.applyEnd(slot, e);
  }

  private applyEnd(slot: number, e: SpanEndInput): void {
    this.end[slot] = e.ts;
    this.status[slot] = e.status === 'error' ? SpanStatus.Error : SpanStatus.Ok;
    if (e.attributes) {
      const current = this.attrs[slot];
      for (const [k, v] of Object.entries(e.attributes)) {
        if (k in current) this.unindexAttribute(slot, k, current[k]);
        current[k] = v;
        this.indexAttribute(slot, k, v);
      }
    }
    const trace = this.traces.get(this.traceId[slot]);
    if (trace) this.touchTrace(trace, this.expiry[slot]);
  }

  private traceEntry(traceId: string): TraceEntry {
    let t = this.traces.get(traceId);
    if (!t) {
      t = { slots: [], summary: null, minExpiry: Infinity };
      this.traces.set(traceId, t);
    }
    return t;
  }

  private touchTrace(trace: TraceEntry, expiry: number): void {
    trace.summary = null;
    if (expiry < trace.minExpiry) trace.minExpiry = expiry;
  }

  private indexAttributes(slot: number, attrs: Attributes): void {
    for (const k in attrs) this.indexAttribute(slot, k, attrs[k]);
  }

  private indexAttribute(slot: number, key: string, value: Primitive): void {
    if (value === null) return;
    let values = this.attrIndex.get(key);
    if (!values) {
      values = new Map();
      this.attrIndex.set(key, values);
    }
    pushTo(values, valueKey(value), slot);
  }

  private unindexAttribute(slot: number, key: string, value: Primitive): void {
    if (value === null) return;
    const list = this.attrIndex.get(key)?.get(valueKey(value));
    if (!list) return;
    const i = list.lastIndexOf(slot);
    if (i >= 0) list.splice(i, 1);
  }

  isLive(slot: number, now: number): boolean {
    return this.expiry[slot] > now && this.slotOf.get(this.spanId[slot]) === slot;
  }

  /** Slot of a live span, or undefined. */
  find(spanId: string, now: number): number | undefined {
    const slot = this.slotOf.get(spanId);
    return slot !== undefined && this.expiry[slot] > now ? slot : undefined;
  }

  view(slot: number): SpanView {
    const end = this.end[slot];
    return {
      slot,
      traceId: this.traceId[slot],
      spanId: this.spanId[slot],
      parentSpanId: this.parentId[slot],
      name: this.name[slot],
      start: this.start[slot],
      end: Number.isNaN(end) ? undefined : end,
      status: STATUS_NAMES[this.status[slot]],
      attributes: this.attrs[slot],
    };
  }

  /** A span's field or attribute by filter key: attributes win, then the span's own fields. */
  valueOf(slot: number, key: string): Primitive | undefined {
    const attrs = this.attrs[slot];
    if (key in attrs) return attrs[key];
    switch (key) {
      case 'name': return this.name[slot];
      case 'span_id': return this.spanId[slot];
      case 'trace_id': return this.traceId[slot];
      case 'parent_span_id': return this.parentId[slot];
      case 'status': return STATUS_NAMES[this.status[slot]];
      default: return undefined;
    }
  }

  traceIdOf(slot: number): string {
    return this.traceId[slot];
  }

  startOf(slot: number): number {
    return this.start[slot];
  }

  /** Live spans of a trace, in start order. */
  traceSlots(traceId: string, now: number): number[] {
    const t = this.traces.get(traceId);
    if (!t) return [];
    return t.slots.filter((s) => this.expiry[s] > now).sort((a, b) => this.compareStart(a, b));
  }

  /** Live direct children of a span, in start order. */
  childrenOf(spanId: string, now: number): number[] {
    const list = this.children.get(spanId);
    if (!list) return [];
    return list.filter((s) => this.isLive(s, now)).sort((a, b) => this.compareStart(a, b));
  }

  compareStart(a: number, b: number): number {
    return this.start[a] - this.start[b] || (this.spanId[a] < this.spanId[b] ? -1 : this.spanId[a] > this.spanId[b] ? 1 : 0);
  }

  allTraceIds(): IterableIterator<string> {
    return this.traces.keys();
  }

  /** Trace summary (root, start, end) over live spans; undefined when none is live. */
  summary(traceId: string, now: number): TraceSummary | undefined {
    const t = this.traces.get(traceId);
    if (!t) return undefined;
    if (t.summary && now < t.minExpiry) return t.summary;
    const slots = this.traceSlots(traceId, now);
    if (slots.length === 0) return undefined;
    const summary = this.summarise(traceId, slots);
    t.summary = summary;
    let minExpiry = Infinity;
    for (const s of slots) if (this.expiry[s] < minExpiry) minExpiry = this.expiry[s];
    t.minExpiry = minExpiry;
    return summary;
  }

  private summarise(traceId: string, slotsByStart: number[]): TraceSummary {
    let start = Infinity, end = -Infinity;
    for (const s of slotsByStart) {
      if (this.start[s] < start) start = this.start[s];
      if (this.end[s] > end) end = this.end[s];
    }
    const inTrace = new Set(slotsByStart.map((s) => this.spanId[s]));
    const root =
      slotsByStart.find((s) => ROOT_MARKERS.some((m) => isTruthy(this.attrs[s][m]))) ??
      slotsByStart.find((s) => this.parentId[s] === undefined) ??
      slotsByStart.find((s) => !inTrace.has(this.parentId[s] as string)) ??
      slotsByStart[0];
    return { traceId, rootSpanId: this.spanId[root], start, end: end === -Infinity ? undefined : end };
  }

  /**
   * Live spans satisfying every condition. An equality on an indexed attribute picks
   * the candidates; the rest are checked per candidate.
   */
  matchSpans(conditions: SpanCondition[], now: number): number[] {
    const candidates = this.candidatesFor(conditions);
    const out: number[] = [];
    const check = (slot: number) => {
      if (!this.isLive(slot, now)) return;
      for (const c of conditions) if (!conditionHolds(this.valueOf(slot, c.key), c)) return;
      out.push(slot);
    };
    if (candidates) for (const s of candidates) check(s);
    else for (const s of this.slotOf.values()) check(s);
    return out;
  }

  private candidatesFor(conditions: SpanCondition[]): readonly number[] | null {
    let best: readonly number[] | null = null;
    for (const c of conditions) {
      if (c.op !== 'eq' || c.value === null || SPAN_FIELDS.has(c.key)) continue;
      const list = this.attrIndex.get(c.key)?.get(valueKey(c.value)) ?? [];
      if (!best || list.length < best.length) best = list;
    }
    return best;
  }

  /** Forgets spans expired at `now`; returns how many. */
  removeExpired(now: number): number {
    const dead = new Set<number>();
    for (const slot of this.slotOf.values()) if (this.expiry[slot] <= now) dead.add(slot);
    for (const [id, e] of this.pendingEnds) if (e.expiry <= now) this.pendingEnds.delete(id);
    if (dead.size === 0) return 0;
    const isDead = (s: number) => dead.has(s);
    for (const [traceId, t] of this.traces) {
      if (!t.slots.some(isDead)) continue;
      t.slots = t.slots.filter((s) => !isDead(s));
      t.summary = null;
      t.minExpiry = Infinity;
      if (t.slots.length === 0) this.traces.delete(traceId);
    }
    // Batch the list edits: each touched list is filtered once, however many of its spans died.
    const touched = new Map<number[], { map: Map<string, number[]>; key: string }>();
    const touch = (map: Map<string, number[]> | undefined, key: string) => {
      const list = map?.get(key);
      if (map && list) touched.set(list, { map, key });
    };
    for (const slot of dead) {
      const parent = this.parentId[slot];
      if (parent) touch(this.children, parent);
      for (const k in this.attrs[slot]) {
        const v = this.attrs[slot][k];
        if (v !== null) touch(this.attrIndex.get(k), valueKey(v));
      }
      this.slotOf.delete(this.spanId[slot]);
      this.attrs[slot] = {};
      this.freeSlots.push(slot);
    }
    for (const [list, { map, key }] of touched) {
      let n = 0;
      for (const s of list) if (!dead.has(s)) list[n++] = s;
      list.length = n;
      if (n === 0) map.delete(key);
    }
    return dead.size;
  }
}

export interface SpanCondition {
  key: string;
  op: 'eq' | 'ne' | 'gt' | 'lt';
  value: Primitive;
}

const SPAN_FIELDS = new Set(['name', 'span_id', 'trace_id', 'parent_span_id', 'status']);

/**
 * Typed comparison: numbers numerically, strings lexicographically, booleans only by
 * (in)equality; a missing key fails every operator, `ne` included. Values of different
 * types are unequal and unordered.
 */
export function conditionHolds(actual: Primitive | undefined, c: SpanCondition): boolean {
  if (actual === undefined) return false;
  const sameType = typeof actual === typeof c.value && (actual === null) === (c.value === null);
  switch (c.op) {
    case 'eq': return sameType && actual === c.value;
    case 'ne': return !sameType || actual !== c.value;
    case 'gt': return sameType && (typeof actual === 'number' || typeof actual === 'string') && actual > (c.value as number | string);
    case 'lt': return sameType && (typeof actual === 'number' || typeof actual === 'string') && actual < (c.value as number | string);
  }
}

function valueKey(v: string | number | boolean): string {
  return typeof v === 'string' ? 's' + v : typeof v === 'number' ? 'n' + v : v ? 'b1' : 'b0';
}

function isTruthy(v: Primitive | undefined): boolean {
  return v !== undefined && v !== null && v !== false && v !== 0 && v !== '';
}

function pushTo<K>(map: Map<K, number[]>, key: K, slot: number): void {
  const list = map.get(key);
  if (list) list.push(slot);
  else map.set(key, [slot]);
}

