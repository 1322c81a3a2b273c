/**
 * The mutable head of the metric table: one set of growable columns per series (like
 * Prometheus' memSeries), so a series' recent samples are already contiguous and
 * sealing is a concatenation in series-id order.
 */
import { GrowableColumn, StringDictionary, f64Column, u32Column } from './column.ts';
import { visitLiveRuns, type SliceVisitor } from './metric-segment.ts';
import { lowerBound, upperBound } from './sorted-ids.ts';

const INITIAL_SERIES_CAPACITY = 32;

export class HeadSeries {
  readonly ts = f64Column(INITIAL_SERIES_CAPACITY);
  readonly values = f64Column(INITIAL_SERIES_CAPACITY);
  readonly expiry = f64Column(INITIAL_SERIES_CAPACITY);
  /** Trace/span id codes, allocated only once a sample carries one. */
  traceCodes: GrowableColumn<Uint32Array> | null = null;
  spanCodes: GrowableColumn<Uint32Array> | null = null;
  sorted = true;
  minExpiry = Infinity;

  get length(): number {
    return this.ts.length;
  }

  append(ts: number, value: number, expiry: number, traceCode: number, spanCode: number): void {
    const n = this.ts.length;
    if (n > 0 && ts < this.ts.data[n - 1]) this.sorted = false;
    this.ts.push(ts);
    this.values.push(value);
    this.expiry.push(expiry);
    if (expiry < this.minExpiry) this.minExpiry = expiry;
    if ((traceCode | spanCode) !== 0 || this.traceCodes) this.appendIds(n, traceCode, spanCode);
  }

  private appendIds(row: number, traceCode: number, spanCode: number): void {
    if (!this.traceCodes || !this.spanCodes) {
      this.traceCodes = u32Column(row + 1);
      this.spanCodes = u32Column(row + 1);
      this.traceCodes.fill(0, row);
      this.spanCodes.fill(0, row);
    }
    this.traceCodes.push(traceCode);
    this.spanCodes.push(spanCode);
  }

  /** Restores time order after out-of-order appends (stable, so equal timestamps keep arrival order). */
  sort(): void {
    if (this.sorted) return;
    const n = this.ts.length;
    const ts = this.ts.data;
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
    const ts = this.ts.data;
    const n = this.ts.length;
    const lo = lowerBound(ts, minTs, 0, n);
    const hi = upperBound(ts, maxTs, lo, n);
    if (lo >= hi) return;
    if (this.minExpiry > now) visit(ts, this.values.data, lo, hi);
    else visitLiveRuns(ts, this.values.data, this.expiry.data, lo, hi, now, visit);
  }
}

function permute<T extends Float64Array | Uint32Array>(col: GrowableColumn<T>, order: number[]): void {
  const src = col.data.slice(0, order.length);
  const dst = col.data;
  for (let i = 0; i < order.length; i++) dst[i] = src[order[i]];
}

export class MetricHead {
  readonly series = new Map<number, HeadSeries>();
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

  seriesFor(seriesId: number): HeadSeries {
    let s = this.series.get(seriesId);
    if (!s) {
      s = new HeadSeries();
      this.series.set(seriesId, s);
    }
    return s;
  }

  noteRows(count: number, minTs: number, maxTs: number, ttlMicros: number, now: number): void {
    if (this.rows === 0) {
      this.openedAt = now;
      this.ttlMicros = ttlMicros;
    } else if (ttlMicros !== this.ttlMicros) {
      this.uniformTtl = false;
    }
    this.rows += count;
    if (minTs < this.minTs) this.minTs = minTs;
    if (maxTs > this.maxTs) this.maxTs = maxTs;
  }

  reset(): void {
    this.series.clear();
    this.ids = new StringDictionary();
    this.rows = 0;
    this.minTs = Infinity;
    this.maxTs = -Infinity;
    this.openedAt = -1;
    this.ttlMicros = -1;
    this.uniformTtl = true;
  }
}
