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
  /** The trace id, one string shared by all the trace's spans. */
  id: string;
  /** The trace's spans (live or expired but not yet removed), in arrival order until sorted by readers. */
  slots: number[];
  summary: TraceSummary | null;
  /** The cached summary is stale from this time on (the earliest expiry it covered). */
  summaryUntil: number;
  /** Earliest expiry over all of `slots`: before it every span of the trace is live. */
  allLiveUntil: number;
  // Kept up to date as spans arrive, over all of `slots`, while `exact` (else rebuilt on read):
  /** Minimum start; Infinity for none. */
  start: number;
  /** Maximum end; -Infinity while no span has ended. */
  end: number;
  /** Earliest (by start, then span id) span with a truthy root marker, or -1. */
  marked: number;
  /** Earliest span without a parent, or -1. */
  parentless: number;
  /** False when a change could not be followed incrementally (an end applied twice, an end's attributes touching a root marker, removals). */
  exact: boolean;
}

const NO_SLOTS: readonly number[] = Object.freeze([]);

export class SpanIndex {
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
  /**
   * Children lists, by the parent's slot while the parent is indexed (no hash lookup when
   * walking a tree), else by the parent's span id in `orphans` (children that came first, or
   * outlived their parent); a list moves between the two as its parent arrives or is removed.
   */
  private childSlots: (number[] | undefined)[] = [];
  private readonly orphans = new Map<string, number[]>();
  private readonly pendingEnds = new Map<string, SpanEndInput>();
  /**
   * key -> value -> slots. Values are the Map keys themselves (a Map tells 5 from "5" and true
   * from "true", and 0 from -0 no more than `===` does), so no key string is built per value.
   */
  private readonly attrIndex = new Map<string, Map<IndexedValue, Posting>>();
  /** Span names, interned (a few distinct names shared by many spans). */
  private readonly names = new Map<string, string>();
  /** Per-slot visit marks for tree walks: `visitMark[slot] === visitEpoch` means visited by the current walk. */
  private visitMark = new Uint32Array(1024);
  private visitEpoch = 0;

  get size(): number {
    return this.slotOf.size;
  }

  get traceCount(): number {
    return this.traces.size;
  }

  addStart(e: SpanStartInput): void {
    if (this.slotOf.has(e.spanId)) return;
    const slot = this.freeSlots.pop() ?? this.traceId.length;
    const trace = this.traceEntry(e.traceId);
    this.traceId[slot] = trace.id;
    this.spanId[slot] = e.spanId;
    const parentId = e.parentSpanId || undefined;
    const parentSlot = parentId === undefined ? undefined : this.slotOf.get(parentId);
    // The parent's own id string when it is known (children usually come after their parent).
    this.parentId[slot] = parentSlot === undefined ? parentId : this.spanId[parentSlot];
    this.name[slot] = this.internName(e.name);
    this.attrs[slot] = { ...(e.attributes ?? {}) };
    this.start[slot] = e.ts;
    this.end[slot] = NaN;
    this.status[slot] = SpanStatus.Unset;
    this.expiry[slot] = e.expiry;
    this.slotOf.set(e.spanId, slot);
    const waiting = this.orphans.get(e.spanId);
    if (waiting) this.orphans.delete(e.spanId);
    this.childSlots[slot] = waiting;
    if (parentId !== undefined) {
      if (parentSlot !== undefined || parentId === e.spanId) {
        const p = parentSlot ?? slot;
        const list = this.childSlots[p];
        if (list) list.push(slot);
        else this.childSlots[p] = [slot];
      } else pushTo(this.orphans, parentId, slot);
    }
    this.indexAttributes(slot, this.attrs[slot]);
    trace.slots.push(slot);
    this.touchTrace(trace, e.expiry);
    if (e.ts < trace.start) trace.start = e.ts;
    if (hasRootMarker(this.attrs[slot]) && (trace.marked < 0 || this.compareStart(slot, trace.marked) < 0)) trace.marked = slot;
    if (this.parentId[slot] === undefined && (trace.parentless < 0 || this.compareStart(slot, trace.parentless) < 0)) trace.parentless = slot;
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
    const trace = this.traces.get(this.traceId[slot]);
    // A second end may move the end time back, which a running maximum cannot follow.
    if (trace && !Number.isNaN(this.end[slot])) trace.exact = false;
    this.end[slot] = e.ts;
    this.status[slot] = e.status === 'error' ? SpanStatus.Error : SpanStatus.Ok;
    if (e.attributes) {
      const current = this.attrs[slot];
      for (const [k, v] of Object.entries(e.attributes)) {
        if (k in current) this.unindexAttribute(slot, k, current[k]);
        current[k] = v;
        this.indexAttribute(slot, k, v);
        if (trace && ROOT_MARKERS.includes(k)) trace.exact = false;
      }
    }
    if (trace) {
      if (e.ts > trace.end) trace.end = e.ts;
      this.touchTrace(trace, this.expiry[slot]);
    }
  }

  private traceEntry(traceId: string): TraceEntry {
    let t = this.traces.get(traceId);
    if (!t) {
      t = {
        id: traceId, slots: [], summary: null, summaryUntil: Infinity, allLiveUntil: Infinity,
        start: Infinity, end: -Infinity, marked: -1, parentless: -1, exact: true,
      };
      this.traces.set(traceId, t);
    }
    return t;
  }

  private touchTrace(trace: TraceEntry, expiry: number): void {
    trace.summary = null;
    if (expiry < trace.allLiveUntil) trace.allLiveUntil = expiry;
  }

  private internName(name: string): string {
    const known = this.names.get(name);
    if (known !== undefined) return known;
    // Names are few (operation names); past this many distinct ones, stop remembering new ones.
    if (this.names.size < 65_536) this.names.set(name, name);
    return name;
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
    const posting = values.get(value);
    if (posting === undefined) {
      values.set(value, slot);
      return;
    }
    const first = typeof posting === 'number' ? posting : posting[0];
    if (typeof posting === 'number') values.set(value, [posting, slot]);
    else posting.push(slot);
    // A repeated string value (a model name, a session id) is kept once: the span holds the
    // instance the index already holds (an equal string, so nothing a reader can tell apart).
    if (typeof value === 'string' && first !== undefined) {
      const known = this.attrs[first][key];
      if (known === value) this.attrs[slot][key] = known;
    }
  }

  private unindexAttribute(slot: number, key: string, value: Primitive): void {
    if (value === null) return;
    const values = this.attrIndex.get(key);
    const posting = values?.get(value);
    if (posting === undefined) return;
    if (typeof posting === 'number') {
      if (posting === slot) (values as Map<IndexedValue, Posting>).delete(value);
      return;
    }
    const i = posting.lastIndexOf(slot);
    if (i >= 0) posting.splice(i, 1);
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

  spanIdOf(slot: number): string {
    return this.spanId[slot];
  }

  parentIdOf(slot: number): string | undefined {
    return this.parentId[slot];
  }

  nameOf(slot: number): string {
    return this.name[slot];
  }

  /** End time, or undefined while the span is open. */
  endOf(slot: number): number | undefined {
    const end = this.end[slot];
    return Number.isNaN(end) ? undefined : end;
  }

  statusOf(slot: number): 'ok' | 'error' | undefined {
    return STATUS_NAMES[this.status[slot]];
  }

  /** The span's attributes: the index's own object, not to be modified. */
  attributesOf(slot: number): Readonly<Attributes> {
    return this.attrs[slot];
  }

  /** Live spans of a trace, in start order. The array may be the index's own: do not modify it. */
  traceSlots(traceId: string, now: number): readonly number[] {
    const t = this.traces.get(traceId);
    if (!t) return NO_SLOTS;
    this.sortByStart(t.slots);
    return now < t.allLiveUntil ? t.slots : t.slots.filter((s) => this.expiry[s] > now);
  }

  /** Live direct children of a span, in start order. The array may be the index's own: do not modify it. */
  childrenOf(spanId: string, now: number): readonly number[] {
    const slot = this.slotOf.get(spanId);
    return this.liveChildren(slot === undefined ? this.orphans.get(spanId) : this.childSlots[slot], now);
  }

  private liveChildren(list: number[] | undefined, now: number): readonly number[] {
    if (!list) return NO_SLOTS;
    this.sortByStart(list);
    // A children list holds only slots that are still the span they were added as (removeExpired
    // takes dead slots out of every list before a slot is reused), so liveness is just expiry.
    for (let i = 0; i < list.length; i++) {
      if (!(this.expiry[list[i]] > now)) return list.filter((s) => this.expiry[s] > now);
    }
    return list;
  }

  /**
   * The span at `rootSlot` and its live descendants down to `maxDepth` levels (the span is
   * level 1), breadth first, each span's children in start order. A span is listed once even
   * if parent links form a cycle.
   */
  descendants(rootSlot: number, maxDepth: number, now: number): number[] {
    const epoch = this.nextVisitEpoch();
    const mark = this.visitMark;
    const out = [rootSlot];
    mark[rootSlot] = epoch;
    let levelStart = 0;
    for (let depth = 2; depth <= maxDepth && levelStart < out.length; depth++) {
      const levelEnd = out.length;
      for (let i = levelStart; i < levelEnd; i++) {
        const children = this.liveChildren(this.childSlots[out[i]], now);
        for (let j = 0; j < children.length; j++) {
          const child = children[j];
          if (mark[child] === epoch) continue;
          mark[child] = epoch;
          out.push(child);
        }
      }
      levelStart = levelEnd;
    }
    return out;
  }

  private nextVisitEpoch(): number {
    if (this.visitMark.length < this.traceId.length) {
      this.visitMark = new Uint32Array(Math.max(this.traceId.length, this.visitMark.length * 2));
      this.visitEpoch = 0;
    }
    if (this.visitEpoch === 0xffff_ffff) {
      this.visitMark.fill(0);
      this.visitEpoch = 0;
    }
    return ++this.visitEpoch;
  }

  compareStart(a: number, b: number): number {
    return this.start[a] - this.start[b] || (this.spanId[a] < this.spanId[b] ? -1 : this.spanId[a] > this.spanId[b] ? 1 : 0);
  }

  /** Sorts a slot list by start in place, unless it already is (lists are usually appended in order). */
  private sortByStart(list: number[]): void {
    for (let i = 1; i < list.length; i++) {
      if (this.compareStart(list[i - 1], list[i]) > 0) {
        list.sort((a, b) => this.compareStart(a, b));
        return;
      }
    }
  }

  /** Spans indexed for a trace, expired ones not yet removed included (0 for an unknown trace). */
  traceSpanCount(traceId: string): number {
    return this.traces.get(traceId)?.slots.length ?? 0;
  }

  allTraceIds(): IterableIterator<string> {
    return this.traces.keys();
  }

  /** Trace summary (root, start, end) over live spans; undefined when none is live. */
  summary(traceId: string, now: number): TraceSummary | undefined {
    const t = this.traces.get(traceId);
    return t ? this.summaryOf(t, now) : undefined;
  }

  /** Summaries of the given traces (unknown ids and traces without live spans skipped), or of every trace. */
  summaries(traceIds: Iterable<string> | null, now: number): TraceSummary[] {
    const out: TraceSummary[] = [];
    if (traceIds === null) {
      for (const t of this.traces.values()) {
        const s = this.summaryOf(t, now);
        if (s) out.push(s);
      }
    } else {
      for (const id of traceIds) {
        const t = this.traces.get(id);
        const s = t && this.summaryOf(t, now);
        if (s) out.push(s);
      }
    }
    return out;
  }

  private summaryOf(t: TraceEntry, now: number): TraceSummary | undefined {
    if (t.summary && now < t.summaryUntil) return t.summary;
    if (now < t.allLiveUntil && t.slots.length > 0) {
      // Every span is live: the running figures are the answer.
      if (!t.exact) this.rescan(t);
      const root = t.marked >= 0 ? t.marked : t.parentless >= 0 ? t.parentless : this.orphanRoot(t.slots);
      t.summary = { traceId: t.id, rootSpanId: this.spanId[root], start: t.start, end: t.end === -Infinity ? undefined : t.end };
      t.summaryUntil = t.allLiveUntil;
      return t.summary;
    }
    const slots = t.slots.filter((s) => this.expiry[s] > now);
    if (slots.length === 0) return undefined;
    this.sortByStart(slots);
    const summary = this.summarise(t.id, slots);
    t.summary = summary;
    let minExpiry = Infinity;
    for (const s of slots) if (this.expiry[s] < minExpiry) minExpiry = this.expiry[s];
    t.summaryUntil = minExpiry;
    return summary;
  }

  /** Recomputes a trace's running figures from all its spans. */
  private rescan(t: TraceEntry): void {
    let start = Infinity, end = -Infinity, marked = -1, parentless = -1;
    for (const s of t.slots) {
      if (this.start[s] < start) start = this.start[s];
      if (this.end[s] > end) end = this.end[s];
      if (hasRootMarker(this.attrs[s]) && (marked < 0 || this.compareStart(s, marked) < 0)) marked = s;
      if (this.parentId[s] === undefined && (parentless < 0 || this.compareStart(s, parentless) < 0)) parentless = s;
    }
    Object.assign(t, { start, end, marked, parentless, exact: true });
  }

  /** The earliest span whose parent is not in the trace, else the earliest span. */
  private orphanRoot(slots: number[]): number {
    this.sortByStart(slots);
    const inTrace = new Set(slots.map((s) => this.spanId[s]));
    return slots.find((s) => !inTrace.has(this.parentId[s] as string)) ?? slots[0];
  }

  private summarise(traceId: string, slotsByStart: number[]): TraceSummary {
    let start = Infinity, end = -Infinity;
    for (const s of slotsByStart) {
      if (this.start[s] < start) start = this.start[s];
      if (this.end[s] > end) end = this.end[s];
    }
    const inTrace = new Set(slotsByStart.map((s) => this.spanId[s]));
    const root =
      slotsByStart.find((s) => hasRootMarker(this.attrs[s])) ??
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
    // Attribute lists, like children lists, hold only current slots (removeExpired filters them
    // before a slot is reused), so liveness is just expiry: no span-id lookup per candidate.
    const check = (slot: number) => {
      if (!(this.expiry[slot] > now)) return;
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
      const posting = this.attrIndex.get(c.key)?.get(c.value);
      const list = posting === undefined ? NO_SLOTS : typeof posting === 'number' ? [posting] : posting;
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
      t.exact = false;
      t.allLiveUntil = Infinity;
      for (const s of t.slots) if (this.expiry[s] < t.allLiveUntil) t.allLiveUntil = this.expiry[s];
      if (t.slots.length === 0) this.traces.delete(traceId);
    }
    // Batch the list edits: each touched list is filtered once, however many of its spans died.
    type Owner = { map: Map<string, number[]>; key: string } | { values: Map<IndexedValue, Posting>; value: IndexedValue } | number;
    const touched = new Map<number[], Owner>();
    const touch = (map: Map<string, number[]> | undefined, key: string) => {
      const list = map?.get(key);
      if (map && list) touched.set(list, { map, key });
    };
    // A dead span's children list goes back to the orphans, under its id (some children may live on).
    for (const slot of dead) {
      const list = this.childSlots[slot];
      if (!list) continue;
      this.orphans.set(this.spanId[slot], list);
      this.childSlots[slot] = undefined;
    }
    for (const slot of dead) {
      for (const k in this.attrs[slot]) {
        const v = this.attrs[slot][k];
        if (v === null) continue;
        const values = this.attrIndex.get(k);
        const posting = values?.get(v);
        if (posting === undefined) continue;
        if (typeof posting !== 'number') touched.set(posting, { values: values as Map<IndexedValue, Posting>, value: v });
        else if (posting === slot) (values as Map<IndexedValue, Posting>).delete(v);
      }
      this.slotOf.delete(this.spanId[slot]);
      this.attrs[slot] = {};
      this.freeSlots.push(slot);
    }
    for (const slot of dead) {
      const parent = this.parentId[slot];
      if (!parent) continue;
      const p = this.slotOf.get(parent);
      if (p === undefined) touch(this.orphans, parent);
      else if (this.childSlots[p]) touched.set(this.childSlots[p] as number[], p);
    }
    for (const [list, owner] of touched) {
      let n = 0;
      for (const s of list) if (!dead.has(s)) list[n++] = s;
      list.length = n;
      if (typeof owner === 'number') {
        if (n === 0) this.childSlots[owner] = undefined;
      } else if ('values' in owner) {
        if (n === 0) owner.values.delete(owner.value);
        else if (n === 1) owner.values.set(owner.value, list[0]);
      } else if (n === 0) owner.map.delete(owner.key);
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

type IndexedValue = string | number | boolean;
/** The spans holding one attribute value: one slot, or several in the order they were added. */
type Posting = number | number[];

function hasRootMarker(attrs: Attributes): boolean {
  return isTruthy(attrs.__root__) || isTruthy(attrs.__root_span__) || isTruthy(attrs.__local_root_span__);
}

function isTruthy(v: Primitive | undefined): boolean {
  return v !== undefined && v !== null && v !== false && v !== 0 && v !== '';
}

function pushTo<K>(map: Map<K, number[]>, key: K, slot: number): void {
  const list = map.get(key);
  if (list) list.push(slot);
  else map.set(key, [slot]);
}

