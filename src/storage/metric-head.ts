/**
 * The mutable head of the metric table: one set of columns per series (like
 * Prometheus' memSeries), so a series' recent samples are already contiguous and
 * sealing is a concatenation in series-id order.
 */
import { StringDictionary } from './column.ts';
import { HeadArrays } from './head-arrays.ts';
import { visitLiveRuns, type SliceVisitor } from './metric-segment.ts';
import { lowerBound, upperBound } from './sorted-ids.ts';

const INITIAL_SERIES_CAPACITY = 32;

/** A batch's id code columns and its dictionary translated to head codes (MetricTable.headCodesOf). */
export interface RunIds {
  trace: Uint32Array;
  span: Uint32Array;
  headCodes: Uint32Array;
}

/**
 * One series' head samples. The columns share one length and capacity, so an append
 * is a single bounds check and three stores.
 */
export class HeadSeries {
  ts: Float64Array;
  values: Float64Array;
  expiry: Float64Array;
  /** Trace/span id codes, allocated only once a sample carries one. */
  traceCodes: Uint32Array | null = null;
  spanCodes: Uint32Array | null = null;
  length = 0;
  sorted = true;
  minExpiry = Infinity;

  constructor(
    readonly seriesId: number,
    private readonly arrays: HeadArrays,
  ) {
    this.ts = arrays.f64(INITIAL_SERIES_CAPACITY);
    this.values = arrays.f64(INITIAL_SERIES_CAPACITY);
    this.expiry = arrays.f64(INITIAL_SERIES_CAPACITY);
  }

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

  /**
   * Bulk append of rows [from, to) of a batch's columns; expiry = ts + ttl for each. With id
   * codes, code k of the batch is `headCodes[k - 1]` here and 0 stays 0. Plain loops rather
   * than subarray + set: most runs are a few samples (a batch of metric events touches
   * thousands of series), where a view per column would cost more than the copy.
   */
  appendRange(ts: Float64Array, values: Float64Array, from: number, to: number, ttlMicros: number, ids: RunIds | null): void {
    const n = to - from;
    const base = this.length;
    if (base + n > this.ts.length) this.grow(base + n);
    const ownTs = this.ts, ownValues = this.values, ex = this.expiry;
    let minExpiry = this.minExpiry;
    let sorted = this.sorted;
    let last = base > 0 ? ownTs[base - 1]! : -Infinity;
    for (let i = 0; i < n; i++) {
      const t = ts[from + i]!;
      if (t < last) sorted = false;
      last = t;
      ownTs[base + i] = t;
      ownValues[base + i] = values[from + i]!;
      const e = t + ttlMicros;
      ex[base + i] = e;
      if (e < minExpiry) minExpiry = e;
    }
    this.minExpiry = minExpiry;
    this.sorted = sorted;
    this.length = base + n;
    if (ids) this.appendRangeIds(base, from, n, ids);
    else if (this.traceCodes && this.spanCodes) {
      this.traceCodes.fill(0, base, base + n);
      this.spanCodes.fill(0, base, base + n);
    }
  }

  private appendRangeIds(base: number, from: number, n: number, ids: RunIds): void {
    if (!this.traceCodes || !this.spanCodes) {
      this.traceCodes = this.arrays.u32(this.ts.length);
      this.spanCodes = this.arrays.u32(this.ts.length);
    }
    const tc = this.traceCodes, sc = this.spanCodes, { trace, span, headCodes } = ids;
    for (let i = 0; i < n; i++) {
      const t = trace[from + i]!, s = span[from + i]!;
      tc[base + i] = t === 0 ? 0 : headCodes[t - 1]!;
      sc[base + i] = s === 0 ? 0 : headCodes[s - 1]!;
    }
  }

  private appendIds(row: number, traceCode: number, spanCode: number): void {
    if (!this.traceCodes || !this.spanCodes) {
      this.traceCodes = this.arrays.u32(this.ts.length);
      this.spanCodes = this.arrays.u32(this.ts.length);
    }
    this.traceCodes[row] = traceCode;
    this.spanCodes[row] = spanCode;
  }

  private grow(min: number): void {
    let cap = this.ts.length * 2;
    while (cap < min) cap *= 2;
    const arrays = this.arrays;
    this.ts = moved(this.ts, arrays.f64(cap), arrays);
    this.values = moved(this.values, arrays.f64(cap), arrays);
    this.expiry = moved(this.expiry, arrays.f64(cap), arrays);
    if (this.traceCodes) this.traceCodes = moved(this.traceCodes, arrays.u32(cap), arrays);
    if (this.spanCodes) this.spanCodes = moved(this.spanCodes, arrays.u32(cap), arrays);
  }

  /** Gives the columns back to the pool: the series is no longer in any head. */
  release(): void {
    const arrays = this.arrays;
    arrays.give(this.ts);
    arrays.give(this.values);
    arrays.give(this.expiry);
    if (this.traceCodes) arrays.give(this.traceCodes);
    if (this.spanCodes) arrays.give(this.spanCodes);
    this.traceCodes = this.spanCodes = null;
    this.length = 0;
  }

  /** Restores time order after out-of-order appends (stable, so equal timestamps keep arrival order). */
  sort(): void {
    if (this.sorted) return;
    if (!this.insertionSort()) this.sortByOrder();
    this.sorted = true;
  }

  /**
   * Batches that arrive a little out of order (concurrent clients) leave a few rows out of
   * place: an insertion sort fixes those in one pass. Gives up (false) once it has moved
   * more than a few rows per row, leaving the rows permuted but stably so, for sortByOrder.
   */
  private insertionSort(): boolean {
    const n = this.length;
    const { ts, values, expiry, traceCodes, spanCodes } = this;
    let budget = 4 * n + 64;
    for (let i = 1; i < n; i++) {
      const t = ts[i]!;
      if (t >= ts[i - 1]!) continue;
      const v = values[i]!, e = expiry[i]!;
      const tc = traceCodes ? traceCodes[i]! : 0, sc = spanCodes ? spanCodes[i]! : 0;
      let j = i;
      for (; j > 0 && ts[j - 1]! > t; j--) {
        ts[j] = ts[j - 1]!;
        values[j] = values[j - 1]!;
        expiry[j] = expiry[j - 1]!;
        if (traceCodes && spanCodes) {
          traceCodes[j] = traceCodes[j - 1]!;
          spanCodes[j] = spanCodes[j - 1]!;
        }
      }
      ts[j] = t;
      values[j] = v;
      expiry[j] = e;
      if (traceCodes && spanCodes) {
        traceCodes[j] = tc;
        spanCodes[j] = sc;
      }
      budget -= i - j;
      if (budget < 0) return false;
    }
    return true;
  }

  private sortByOrder(): void {
    const n = this.length;
    const ts = this.ts;
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => ts[a] - ts[b] || a - b);
    permute(this.ts, order);
    permute(this.values, order);
    permute(this.expiry, order);
    if (this.traceCodes) permute(this.traceCodes, order);
    if (this.spanCodes) permute(this.spanCodes, order);
  }

  /** Empties the series for the next head, keeping its arrays (they are the size the series grows to). */
  clear(): void {
    this.length = 0;
    this.sorted = true;
    this.minExpiry = Infinity;
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

/** `a`'s contents in `next`, and `a` given back. */
function moved<T extends Float64Array | Uint32Array>(a: T, next: T, arrays: HeadArrays): T {
  next.set(a);
  arrays.give(a);
  return next;
}

function permute<T extends Float64Array | Uint32Array>(col: T, order: number[]): void {
  const src = col.slice(0, order.length);
  for (let i = 0; i < order.length; i++) col[i] = src[order[i]];
}

export class MetricHead {
  /** The head's series, in order of first append. */
  series: HeadSeries[] = [];
  /**
   * seriesId -> index in `series` + 1, or -(index in `spare` + 1), 0 for neither: a typed-array
   * lookup, no hashing.
   */
  private slotOf = new Int32Array(1024);
  /**
   * The previous head's series, whose arrays a series reuses when it comes again: no growing
   * from scratch after every seal. Kept for one head only, so series that stopped are let go.
   */
  private spare: HeadSeries[] = [];
  /** Where every series of this head and the next ones gets its columns. */
  private readonly arrays = new HeadArrays();
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
    return slot > 0 ? this.series[slot - 1] : undefined;
  }

  seriesFor(seriesId: number): HeadSeries {
    if (seriesId >= this.slotOf.length) this.growSlots(seriesId);
    const slot = this.slotOf[seriesId];
    if (slot > 0) return this.series[slot - 1];
    let s: HeadSeries;
    if (slot < 0) {
      s = this.spare[-slot - 1]!;
      s.clear();
    } else {
      s = new HeadSeries(seriesId, this.arrays);
    }
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
    // Spare series that did not come again in this head are let go, their columns recycled.
    for (const s of this.spare) {
      if (this.slotOf[s.seriesId]! >= 0) continue;
      this.slotOf[s.seriesId] = 0;
      s.release();
    }
    for (let i = 0; i < this.series.length; i++) this.slotOf[this.series[i]!.seriesId] = -(i + 1);
    this.spare = this.series;
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
