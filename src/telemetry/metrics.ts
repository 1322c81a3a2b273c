/** query_metrics: one MetricSeries per matching series, raw, bucketed or instant. */
import type { Matcher, MatchOp } from '../index/matcher.ts';
import { MatcherError } from '../index/matcher.ts';
import type { Store } from '../store.ts';
import { badRequest } from './errors.ts';

export interface QueryMetricsInput {
  start_time: number;
  end_time?: number | null;
  granularity?: string | null;
  query_type?: 'range' | 'instant' | null;
  label_matchers?: { name: string; value: string; operator?: MatchOp }[] | null;
}

export interface MetricPoint { timestamp: number; value: number; unit: string }
export interface WireMetricSeries { metric: string; labels: { name: string; value: string }[]; values: MetricPoint[] }

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
const SEC = 1_000_000;

/** "1h" -> 3600; null/"" -> null (raw samples). */
export function parseGranularity(g: string | null | undefined): number | null {
  if (g === null || g === undefined || g === '') return null;
  const m = /^([1-9][0-9]*)([smhdw])$/.exec(g);
  if (!m) throw badRequest(`granularity: expected a duration like 30s, 5m, 1h, 1d or 1w, got ${JSON.stringify(g)}`);
  return Number(m[1]) * UNIT_SECONDS[m[2]];
}

export function queryMetrics(store: Store, metricName: string, input: QueryMetricsInput): WireMetricSeries[] {
  const startS = input.start_time;
  const endS = input.end_time ?? Math.floor(store.clock() / SEC);
  if (endS < startS) throw badRequest(`end_time (${endS}) is before start_time (${startS})`);
  const instant = (input.query_type ?? 'range') === 'instant';
  const bucket = instant ? null : parseGranularity(input.granularity === undefined ? '1d' : input.granularity);
  const matchers: Matcher[] = [{ name: '__name__', op: '=', value: metricName }];
  for (const m of input.label_matchers ?? []) matchers.push({ name: m.name, op: m.operator ?? '=', value: m.value });
  let ids: Uint32Array;
  try {
    ids = store.selectSeries(matchers);
  } catch (e) {
    if (e instanceof MatcherError) throw badRequest(`label_matchers: ${e.message}`);
    throw e;
  }
  const minTs = startS * SEC, maxTs = endS * SEC;
  const out: WireMetricSeries[] = [];
  for (const id of ids) {
    const info = store.series.info(id);
    if (!info) continue;
    const unit = info.unit;
    const values = instant
      ? instantSum(store, id, minTs, maxTs, endS, unit)
      : bucket === null ? rawPoints(store, id, minTs, maxTs, unit) : bucketSums(store, id, minTs, maxTs, bucket, unit);
    if (values.length === 0) continue;
    out.push({ metric: metricName, labels: wireLabels(info.labels), values });
  }
  return out;
}

function wireLabels(labels: readonly (readonly [string, string])[]): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const [name, value] of labels) if (name !== '__name__') out.push({ name, value });
  return out;
}

function instantSum(store: Store, id: number, minTs: number, maxTs: number, endS: number, unit: string): MetricPoint[] {
  let sum = 0, n = 0;
  store.visitSeries(id, minTs, maxTs, (_ts, v, s, e) => {
    for (let i = s; i < e; i++) sum += v[i];
    n += e - s;
  });
  return n ? [{ timestamp: endS, value: sum, unit }] : [];
}

/** Raw samples in time order (slices may interleave when data arrived out of order). */
function rawPoints(store: Store, id: number, minTs: number, maxTs: number, unit: string): MetricPoint[] {
  const pts: { ts: number; value: number }[] = [];
  store.visitSeries(id, minTs, maxTs, (ts, v, s, e) => {
    for (let i = s; i < e; i++) pts.push({ ts: ts[i], value: v[i] });
  });
  pts.sort((a, b) => a.ts - b.ts);
  return pts.map((p) => ({ timestamp: Math.floor(p.ts / SEC), value: p.value, unit }));
}

/** Above this many buckets in the range, sums go to a Map instead of a dense array. */
const DENSE_BUCKETS = 4096;

/** Sums per epoch-aligned bucket, stamped with the bucket start; empty buckets omitted. */
export function bucketSums(store: Store, id: number, minTs: number, maxTs: number, bucketS: number, unit: string): MetricPoint[] {
  const width = bucketS * SEC;
  const first = Math.floor(minTs / width);
  const count = Math.floor(maxTs / width) - first + 1;
  if (count > DENSE_BUCKETS) return sparseBucketSums(store, id, minTs, maxTs, bucketS, unit);
  const a = dense;
  if (a.sums.length < count) {
    a.sums = new Float64Array(Math.max(count, 2 * a.sums.length));
    a.seen = new Uint8Array(a.sums.length);
  }
  a.seen.fill(0, 0, count);
  a.first = first;
  a.count = count;
  a.width = width;
  a.outside = false;
  store.visitSeries(id, minTs, maxTs, sumSlice);
  // Samples are within [minTs, maxTs] by visitSeries' contract; should one not be, the Map form counts it.
  if (a.outside) return sparseBucketSums(store, id, minTs, maxTs, bucketS, unit);
  const out: MetricPoint[] = [];
  for (let i = 0; i < count; i++) if (a.seen[i]) out.push({ timestamp: (first + i) * bucketS, value: a.sums[i], unit });
  return out;
}

/**
 * The dense sums bucketSums is filling: module state rather than closures made per series (a
 * query over thousands of series would make thousands). visitSeries calls sumSlice synchronously.
 */
const dense = { sums: new Float64Array(64), seen: new Uint8Array(64), first: 0, count: 0, width: 1, outside: false };

/**
 * Same additions in the same order as the sparse form (a run's sum, then added to its bucket),
 * so the sums are bit for bit the same.
 */
function sumSlice(ts: Float64Array, v: Float64Array, s: number, e: number): void {
  const width = dense.width;
  let current = NaN, acc = 0;
  for (let i = s; i < e; i++) {
    const b = Math.floor(ts[i] / width);
    if (b !== current) {
      if (!Number.isNaN(current)) addToBucket(current, acc);
      current = b;
      acc = 0;
    }
    acc += v[i];
  }
  if (!Number.isNaN(current)) addToBucket(current, acc);
}

function addToBucket(b: number, acc: number): void {
  const a = dense;
  const i = b - a.first;
  if (i >= 0 && i < a.count) {
    a.sums[i] = (a.seen[i] ? a.sums[i] : 0) + acc;
    a.seen[i] = 1;
  } else a.outside = true;
}

/** bucketSums with a Map per series: for ranges with very many buckets (and the dense form's oracle in tests). */
export function sparseBucketSums(store: Store, id: number, minTs: number, maxTs: number, bucketS: number, unit: string): MetricPoint[] {
  const width = bucketS * SEC;
  const sums = new Map<number, number>();
  store.visitSeries(id, minTs, maxTs, (ts, v, s, e) => {
    let current = NaN, acc = 0;
    for (let i = s; i < e; i++) {
      const b = Math.floor(ts[i] / width);
      if (b !== current) {
        if (!Number.isNaN(current)) sums.set(current, (sums.get(current) ?? 0) + acc);
        current = b;
        acc = 0;
      }
      acc += v[i];
    }
    if (!Number.isNaN(current)) sums.set(current, (sums.get(current) ?? 0) + acc);
  });
  return [...sums.keys()].sort((a, b) => a - b).map((b) => ({ timestamp: b * bucketS, value: sums.get(b) as number, unit }));
}
