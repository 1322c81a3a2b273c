import type { MatrixSelector, VectorSelector } from './ast.ts';
import { compareLabels, labelsFromRecord, labelsKey, type Labels } from './labels.ts';
import type { SampleSource } from './source.ts';
import { StepArena } from './step-arena.ts';
import { stepTime, type Grid, type RangeSeries, type StepSeries } from './vector.ts';
import { indexAfter } from './window-index.ts';

/** A selected series with its label set in our form. */
export interface FetchedSeries {
  labels: Labels;
  key: string;
  timestamps: Float64Array;
  values: Float64Array;
}

/**
 * Reads a selector's series once for the whole query window, ordered by label set as a
 * TSDB block returns them (the order topk/bottomk ties and instant results depend on).
 */
function fetchSeries(source: SampleSource, sel: VectorSelector, minMs: number, maxMs: number, timesOnly = false): FetchedSeries[] {
  const out: FetchedSeries[] = [];
  const records: Record<string, string>[] = [];
  for (const s of source.select(sel.matchers, minMs, maxMs, timesOnly)) {
    if (s.timestamps.length === 0) continue;
    let form = labelForms.get(s.labels);
    if (form === undefined) {
      const labels = labelsFromRecord(s.labels);
      form = { labels, key: labelsKey(labels) };
      labelForms.set(s.labels, form);
    }
    out.push({ labels: form.labels, key: form.key, timestamps: s.timestamps, values: s.values });
    records.push(s.labels);
  }
  return inLabelOrder(out, records, JSON.stringify(sel.matchers));
}

/**
 * Our form of a source's label record. A source hands out the same record object for a
 * series every time (StoreSource keeps one per series; records never change), so
 * converting and keying are done once per series, not once per query.
 */
const labelForms = new WeakMap<Record<string, string>, { labels: Labels; key: string }>();

/**
 * The label-set order of the last selection of each selector (by its matchers): the same
 * records in the same order (the usual case: a dashboard asking again) are put in order
 * without comparing label sets again.
 */
const lastOrders = new Map<string, { records: Record<string, string>[]; order: Int32Array }>();
const MAX_ORDERS = 256;

function inLabelOrder(out: FetchedSeries[], records: Record<string, string>[], selector: string): FetchedSeries[] {
  const last = lastOrders.get(selector);
  let order: Int32Array;
  if (last !== undefined && sameRecords(last.records, records)) {
    order = last.order;
  } else {
    order = Int32Array.from(out.keys()).sort((a, b) => compareLabels(out[a].labels, out[b].labels) || a - b);
    if (lastOrders.size >= MAX_ORDERS) lastOrders.clear();
    lastOrders.set(selector, { records, order });
  }
  const sorted: FetchedSeries[] = new Array(out.length);
  for (let i = 0; i < order.length; i++) sorted[i] = out[order[i]];
  return sorted;
}

function sameRecords(a: readonly object[], b: readonly object[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * An instant vector selector at every step: the latest sample at or before the step's
 * time (minus offset), if it is no older than the lookback delta. With `take:
 * 'timestamp'` the result holds the samples' times instead of their values (timestamp()).
 */
export function selectInstantVector(
  source: SampleSource,
  sel: VectorSelector,
  grid: Grid,
  lookbackMs: number,
  take: 'value' | 'timestamp' = 'value',
): StepSeries[] {
  const out: StepSeries[] = [];
  const steps = new Int32Array(grid.numSteps);
  const values = new Float64Array(grid.numSteps);
  const arena = new StepArena();
  for (const s of fetchInstantSeries(source, sel, grid, lookbackMs)) {
    const n = instantSamples(s.timestamps, take === 'value' ? s.values : s.timestamps, stepTime(grid, 0) - sel.offsetMs, grid, lookbackMs, steps, values);
    if (n > 0) out.push({ labels: s.labels, key: s.key, ...arena.take(steps, values, n) });
  }
  return out;
}

/** The series an instant selector reads for the whole grid (with its lookback). */
export function fetchInstantSeries(source: SampleSource, sel: VectorSelector, grid: Grid, lookbackMs: number): FetchedSeries[] {
  const first = stepTime(grid, 0) - sel.offsetMs;
  const last = stepTime(grid, grid.numSteps - 1) - sel.offsetMs;
  return fetchSeries(source, sel, first - lookbackMs, last);
}

/**
 * One series as an instant vector over the grid: at each step (time `first + k × step`)
 * the latest sample at or before it, if within the lookback; writes the steps with one and
 * their `pick` values (the values, or the times for timestamp()), returns how many.
 */
export function instantSamples(
  ts: Float64Array, pick: Float64Array, first: number, grid: Grid, lookbackMs: number, outSteps: Int32Array, outValues: Float64Array,
): number {
  const numSteps = grid.numSteps;
  const stepMs = grid.stepMs;
  let n = 0;
  let next = 0;
  let moved = 0;
  for (let step = 0; step < numSteps; step++) {
    const ref = first + step * stepMs;
    const at = indexAfter(ts, next, moved, ref);
    moved = at - next;
    next = at;
    if (next > 0 && ts[next - 1] >= ref - lookbackMs) {
      outSteps[n] = step;
      outValues[n] = pick[next - 1];
      n++;
    }
  }
  return n;
}

/** Running values of sum, max or min, one per (group, step) (aggregations.ts). */
export interface CellSink {
  op: 'sum' | 'max' | 'min';
  value: Float64Array;
  /** Non-zero where a cell has a value. */
  count: Float64Array;
  /** The series' group row: cell (step) is at base + step. */
  base: number;
}

/**
 * instantSamples adding each step's sample straight into a sum's, max's or min's running
 * values (the operations of SeriesMajorAccumulator.add, in the same order); returns how
 * many steps had a sample.
 */
export function instantSamplesInto(ts: Float64Array, values: Float64Array, first: number, grid: Grid, lookbackMs: number, sink: CellSink): number {
  const numSteps = grid.numSteps;
  const stepMs = grid.stepMs;
  const { value, count, base } = sink;
  const op = sink.op === 'sum' ? 0 : sink.op === 'max' ? 1 : 2;
  let n = 0;
  let next = 0;
  let moved = 0;
  for (let step = 0; step < numSteps; step++) {
    const ref = first + step * stepMs;
    const at = indexAfter(ts, next, moved, ref);
    moved = at - next;
    next = at;
    if (next === 0 || ts[next - 1] < ref - lookbackMs) continue;
    const v = values[next - 1];
    const c = base + step;
    n++;
    if (count[c] === 0) {
      count[c] = 1;
      value[c] = v;
    } else if (op === 0) {
      value[c] += v;
    } else if (op === 1) {
      if (value[c] < v || Number.isNaN(value[c])) value[c] = v;
    } else if (value[c] > v || Number.isNaN(value[c])) {
      value[c] = v;
    }
  }
  return n;
}

/**
 * The data a range selector needs for every step of the grid, fetched in one read; for a
 * function that reads times only (`timesOnly`, count_over_time) the values may be empty.
 */
export function fetchRangeSeries(source: SampleSource, ms: MatrixSelector, grid: Grid, timesOnly = false): FetchedSeries[] {
  const lastEnd = stepTime(grid, grid.numSteps - 1) - ms.selector.offsetMs;
  const firstStart = stepTime(grid, 0) - ms.selector.offsetMs - ms.rangeMs;
  return fetchSeries(source, ms.selector, firstStart, lastEnd, timesOnly);
}

/** Range loops that read sample times only: their selections may leave the values out. */
export const TIMES_ONLY_LOOPS: ReadonlySet<string> = new Set(['count_over_time']);

/** A range selector evaluated at one time: the raw samples in [t - offset - range, t - offset]. */
export function selectMatrix(source: SampleSource, ms: MatrixSelector, timeMs: number): RangeSeries[] {
  const end = timeMs - ms.selector.offsetMs;
  return fetchSeries(source, ms.selector, end - ms.rangeMs, end).map((s) => {
    let lo = 0;
    while (lo < s.timestamps.length && s.timestamps[lo] < end - ms.rangeMs) lo++;
    let hi = s.timestamps.length;
    while (hi > lo && s.timestamps[hi - 1] > end) hi--;
    return { labels: s.labels, timestamps: s.timestamps.subarray(lo, hi), values: s.values.subarray(lo, hi) };
  }).filter((s) => s.timestamps.length > 0);
}
