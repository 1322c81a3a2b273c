/**
 * The mutable head of the metric table: one set of columns per series (like
 * Prometheus' memSeries), so a series' recent samples are already contiguous and
 * sealing is a concatenation in series-id order.
 */
import { StringDictionary } from './column.ts';
import { visitLiveRuns, type SliceVisitor } from './metric-segment.ts';
import { lowerBound, upperBound } from './sorted-ids.ts';

const INITIAL_SERIES_CAPACITY = 32;

/**
 * One series' head samples. The columns share one length and capacity, so an append
 * is a single bounds check and three stores.
 */
export class HeadSeries {
  ts = new Float64Array(INITIAL_SERIES_CAPACITY);
  values = new Float64Array(INITIAL_SERIES_CAPACITY);
  expiry = new Float64Array(INITIAL_SERIES_CAPACITY);
  /** Trace/span id codes, allocated only once a sample carries one. */
  traceCodes: Uint32Array | null = null;
  spanCodes: Uint32Array | null = null;
  length = 0;
  sorted = true;
  minExpiry = Infinity;

  constructor(readonly seriesId: number) {}

  append(ts: number, value: number, expiry: number, traceCode: number, spanCode: number): void {
    const n = this.length;
    if (n === this.ts.length) this.grow(n + 1);
    if (n > 0 && ts < this.ts[n - 1]) this.sorted = false;
    this.ts[n] = ts;
    this.values[n] = value;
    this.expiry[n] = expiry;
    if (expiry < this.minExpiry) this.minExpiry = expiry;
    if ((traceCode | spanCode) !== 0 || this.traceCodes) this.appendIds(n, traceCode, spanCode);
    this.length = n + 1;
  }

  /** Bulk append of a run; expiry = ts + ttl for each sample. */
  appendRun(ts: Float64Array, values: Float64Array, ttlMicros: number): void {
    const base = this.appendColumns(ts, values, ttlMicros);
    if (this.traceCodes && this.spanCodes) {
      this.traceCodes.fill(0, base, this.length);
      this.spanCodes.fill(0, base, this.length);
    }
  }

  /** appendRun with id codes: code k of the run is `headCodes[k - 1]` here, 0 stays 0. */
  appendRunWithIds(ts: Float64Array, values: Float64Array, ttlMicros: number, trace: Uint32Array, span: Uint32Array, headCodes: Uint32Array): void {
    const base = this.appendColumns(ts, values, ttlMicros);
    if (!this.traceCodes || !this.spanCodes) {
      this.traceCodes = new Uint32Array(this.ts.length);
      this.spanCodes = new Uint32Array(this.ts.length);
    }
    const tc = this.traceCodes, sc = this.spanCodes;
    for (let i = 0; i < ts.length; i++) {
      const t = trace[i]!, s = span[i]!;
      tc[base + i] = t === 0 ? 0 : headCodes[t - 1]!;
      sc[base + i] = s === 0 ? 0 : headCodes[s - 1]!;
    }
  }

  /** Copies a run's times and values, computes its expiries; returns the run's first row. */
  private appendColumns(ts: Float64Array, values: Float64Array, ttlMicros: number): number {
    const n = ts.length;
    const base = this.length;
    if (base + n > this.ts.length) this.grow(base + n);
    if (base > 0 && ts[0]! < this.ts[base - 1]!) this.sorted = false;
    this.ts.set(ts, base);
    this.values.set(values, base);
    const ex = this.expiry;
    let minExpiry = this.minExpiry;
    let sorted = this.sorted;
    for (let i = 0; i < n; i++) {
      const t = ts[i]!;
      const e = t + ttlMicros;
      ex[base + i] = e;
      if (e < minExpiry) minExpiry = e;
      if (i > 0 && t < ts[i - 1]!) sorted = false;
    }
    this.minExpiry = minExpiry;
    this.sorted = sorted;
    this.length = base + n;
    return base;
  }

  private appendIds(row: number, traceCode: number, spanCode: number): void {
    if (!this.traceCodes || !this.spanCodes) {
      this.traceCodes = new Uint32Array(this.ts.length);
      this.spanCodes = new Uint32Array(this.ts.length);
    }
    this.traceCodes[row] = traceCode;
    this.spanCodes[row] = spanCode;
  }

  private grow(min: number): void {
    let cap = this.ts.length * 2;
    while (cap < min) cap *= 2;
    this.ts = resized(this.ts, cap);
    this.values = resized(this.values, cap);
    this.expiry = resized(this.expiry, cap);
    if (this.traceCodes) this.traceCodes = resized(this.traceCodes, cap);
    if (this.spanCodes) this.spanCodes = resized(this.spanCodes, cap);
  }

  /** Restores time order after out-of-order appends (stable, so equal timestamps keep arrival order). */
  sort(): void {
    if (this.sorted) return;
    const n = this.length;
    const ts = this.ts;
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => ts[a] - ts[b] || a - b);
    permute(this.ts, order);
    permute(this.values, order);
    permute(this.expiry, order);
    if (this.traceCodes) permute(this.traceCodes, order);
    if (this.spanCodes) permute(this.spanCodes, order);
    this.sorted = true;
  }

  visit(minTs: number, maxTs: number, now: number, visit: SliceVisitor): void {
    this.sort();
    const ts = this.ts;
    const lo = lowerBound(ts, minTs, 0, this.length);
    const hi = upperBound(ts, maxTs, lo, this.length);
    if (lo >= hi) return;
    if (this.minExpiry > now) visit(ts, this.values, lo, hi);
    else visitLiveRuns(ts, this.values, this.expiry, lo, hi, now, visit);
  }
}

function resized<T extends Float64Array | Uint32Array>(a: T, capacity: number): T {
  const next = new (a.constructor as { new (n: number): T })(capacity);
  next.set(a);
  return next;
}

function permute<T extends Float64Array | Uint32Array>(col: T, order: number[]): void {
  const src = col.slice(0, order.length);
  for (let i = 0; i < order.length; i++) col[i] = src[order[i]];
}

export class MetricHead {
  /** The head's series, in order of first append. */
  series: HeadSeries[] = [];
  /** seriesId -> index in `series` + 1 (0 = not in the head): a typed-array lookup, no hashing. */
  private slotOf = new Int32Array(1024);
  /** Trace and span ids of head samples; handed to the segment at seal. */
  ids = new StringDictionary();
  rows = 0;
  minTs = Infinity;
  maxTs = -Infinity;
  /** Clock time of the first append since the last seal (for the age threshold). */
  openedAt = -1;
  /** expiry - ts of the first row, and whether every row since shares it. */
  ttlMicros = -1;
  uniformTtl = true;

  get(seriesId: number): HeadSeries | undefined {
    const slot = seriesId < this.slotOf.length ? this.slotOf[seriesId] : 0;
    return slot === 0 ? undefined : this.series[slot - 1];
  }

  seriesFor(seriesId: number): HeadSeries {
    if (seriesId >= this.slotOf.length) this.growSlots(seriesId);
    const slot = this.slotOf[seriesId];
    if (slot !== 0) return this.series[slot - 1];
    const s = new HeadSeries(seriesId);
    this.series.push(s);
    this.slotOf[seriesId] = this.series.length;
    return s;
  }

  private growSlots(seriesId: number): void {
    let cap = this.slotOf.length * 2;
    while (cap <= seriesId) cap *= 2;
    const next = new Int32Array(cap);
    next.set(this.slotOf);
    this.slotOf = next;
  }

  /** Bookkeeping after appending `count` rows; `now` is only read for the first row. */
  noteRows(count: number, minTs: number, maxTs: number, ttlMicros: number, now: () => number): void {
    if (this.rows === 0) {
      this.openedAt = now();
      this.ttlMicros = ttlMicros;
    } else if (ttlMicros !== this.ttlMicros) {
      this.uniformTtl = false;
    }
    this.rows += count;
    if (minTs < this.minTs) this.minTs = minTs;
    if (maxTs > this.maxTs) this.maxTs = maxTs;
  }

  reset(): void {
    for (const s of this.series) this.slotOf[s.seriesId] = 0;
    this.series = [];
    this.ids = new StringDictionary();
    this.rows = 0;
    this.minTs = Infinity;
    this.maxTs = -Infinity;
    this.openedAt = -1;
    this.ttlMicros = -1;
    this.uniformTtl = true;
  }
}
