import type { AggregateExpr, Call, MatrixSelector, VectorSelector } from './ast.ts';
import { executionError } from './errors.ts';
import { goFormatFloat } from './gostrconv.ts';
import { GoHeap } from './go-heap.ts';
import { FAST_PATHS } from './fast-paths.ts';
import { compareStrings, dropMetricName, labelsKey, METRIC_NAME, setLabel, type Labels } from './labels.ts';
import { forEachRangeLoop, RANGE_LOOPS, type FusedSum } from './range-loops.ts';
import { fetchInstantSeries, fetchRangeSeries, instantSamples, instantSamplesInto, TIMES_ONLY_LOOPS, type CellSink } from './selectors.ts';
import type { SampleSource } from './source.ts';
import { quantile } from './quantile.ts';
import { SeriesCollector, StepCursor, type Grid, type StepSeries, type StepSeriesBuilder, type Value } from './vector.ts';

/**
 * Aggregation operators with Prometheus 2.42's semantics (engine.go `aggregation`):
 * groups in order of first appearance at each step, sum as a plain running sum, avg as
 * an incremental mean, min/max preferring any number over NaN, topk/bottomk through Go's
 * container/heap so ties pick the same series, stddev/stdvar by Welford's method.
 */
export function evalAggregation(e: AggregateExpr, input: readonly StepSeries[], param: Value | undefined, grid: Grid): StepSeries[] {
  const grouping = [...e.grouping].sort(compareStrings);
  if (e.op === 'count_values') {
    if (param?.type !== 'string') throw new Error('count_values needs a string parameter');
    return countValues(param.value, grouping, e.without, input, grid);
  }
  const groups = new Grouping(grouping, e.without, input);
  if (FAST_PATHS.seriesMajorAggregation && SERIES_MAJOR_OPS.has(e.op) && groups.labels.length * grid.numSteps <= SERIES_MAJOR_MAX_CELLS) {
    return accumulateSeriesMajor(e.op, groups, input, grid);
  }
  const collector = new SeriesCollector(grid.numSteps);
  const scalar = param?.type === 'scalar' ? param.values : undefined;
  const step = makeStepAggregator(e.op, groups, input, collector);
  const cursor = new StepCursor(input);
  // Every step, even without input: Prometheus checks topk's k before looking at samples.
  for (let s = 0; s < grid.numSteps; s++) {
    cursor.advance(s);
    step(cursor, s, scalar ? scalar[s] : NaN);
  }
  return collector.finish().filter((x) => x.steps.length > 0);
}

const SERIES_MAJOR_OPS = new Set<AggregateExpr['op']>(['sum', 'avg', 'min', 'max', 'count', 'group']);
/** Groups × steps up to which the series-major path keeps one running value per (group, step). */
const SERIES_MAJOR_MAX_CELLS = 4_000_000;

/**
 * sum, avg, min, max, count and group walking each input series once (not every series at
 * every step): a running value per (group, step). The input is taken in series order, so
 * every (group, step) sees its samples in the order the step-by-step path sees them, and
 * the arithmetic is the same, operation for operation. Groups come out in the same order.
 */
function accumulateSeriesMajor(op: AggregateExpr['op'], groups: Grouping, input: readonly StepSeries[], grid: Grid): StepSeries[] {
  const acc = new SeriesMajorAccumulator(op, groups.labels.length, grid.numSteps);
  for (let i = 0; i < input.length; i++) acc.add(groups.groupOf[i], input[i].steps, input[i].values, input[i].steps.length);
  return acc.finish(groups.labels.map((_, g) => g), groups.labels);
}

/** The running values of accumulateSeriesMajor: one per (group, step). */
class SeriesMajorAccumulator {
  private readonly value: Float64Array;
  private readonly count: Float64Array;

  constructor(
    private readonly op: AggregateExpr['op'],
    numGroups: number,
    private readonly T: number,
  ) {
    this.value = new Float64Array(numGroups * T);
    // A sum's cells start at -0 (range-loops.ts adds into them without looking at count).
    if (op === 'sum') this.value.fill(-0);
    this.count = new Float64Array(numGroups * T);
  }

  /** The running values and counts, cell (g, step) at g × numSteps + step. */
  cells(): { sum: Float64Array; count: Float64Array } {
    return { sum: this.value, count: this.count };
  }

  /** One input series of group g: its first n steps and values. */
  add(g: number, steps: Int32Array, values: Float64Array, n: number): void {
    const base = g * this.T;
    const value = this.value;
    const count = this.count;
    switch (this.op) {
      case 'sum':
        for (let k = 0; k < n; k++) {
          const c = base + steps[k];
          if (count[c] === 0) {
            count[c] = 1;
            value[c] = values[k];
          } else value[c] += values[k];
        }
        break;
      case 'avg':
        for (let k = 0; k < n; k++) {
          const c = base + steps[k];
          const v = values[k];
          if (count[c] === 0) {
            count[c] = 1;
            value[c] = v;
            continue;
          }
          const cnt = ++count[c];
          const mean = value[c];
          if (mean === Infinity || mean === -Infinity) {
            if ((v === Infinity || v === -Infinity) && mean > 0 === v > 0) continue;
            if (Number.isFinite(v)) continue;
          }
          // Dividing both terms by the count keeps the update from overflowing.
          value[c] = mean + (v / cnt - mean / cnt);
        }
        break;
      case 'max':
      case 'min': {
        const isMax = this.op === 'max';
        for (let k = 0; k < n; k++) {
          const c = base + steps[k];
          const v = values[k];
          if (count[c] === 0) {
            count[c] = 1;
            value[c] = v;
          } else if (isMax ? value[c] < v || Number.isNaN(value[c]) : value[c] > v || Number.isNaN(value[c])) {
            value[c] = v;
          }
        }
        break;
      }
      case 'count':
      case 'group': {
        const isGroup = this.op === 'group';
        for (let k = 0; k < n; k++) {
          const c = base + steps[k];
          count[c]++;
          value[c] = isGroup ? 1 : count[c];
        }
        break;
      }
      default:
        throw new Error(`unexpected aggregation ${this.op}`);
    }
  }

  /**
   * The groups' series, in `order`, leaving out groups without any step. A group with a
   * value at every step of one run (the usual case: all steps but a few at the start or end)
   * is a view of its row of the running values, its steps a view of one array 0…T-1 shared
   * by all groups (series' arrays are never written to once made): no copy, no allocation.
   */
  finish(order: readonly number[], labelsOf: readonly Labels[]): StepSeries[] {
    const T = this.T;
    const count = this.count;
    const out: StepSeries[] = [];
    let everyStep: Int32Array | null = null;
    for (const g of order) {
      const base = g * T;
      let n = 0;
      let first = -1;
      let last = -1;
      for (let step = 0; step < T; step++) {
        if (count[base + step] === 0) continue;
        if (n === 0) first = step;
        last = step;
        n++;
      }
      if (n === 0) continue;
      const labels = labelsOf[g];
      if (last - first + 1 === n) {
        everyStep ??= Int32Array.from({ length: T }, (_, i) => i);
        out.push({ labels, key: labelsKey(labels), steps: everyStep.subarray(first, last + 1), values: this.value.subarray(base + first, base + last + 1) });
        continue;
      }
      const steps = new Int32Array(n);
      const values = new Float64Array(n);
      let j = 0;
      for (let step = 0; step < T; step++) {
        if (this.count[base + step] === 0) continue;
        steps[j] = step;
        values[j] = this.value[base + step];
        j++;
      }
      out.push({ labels, key: labelsKey(labels), steps, values });
    }
    return out;
  }
}

/**
 * sum/avg/min/max/count/group of a range function over a selector (`sum by (job)
 * (rate(x[5m]))`), fused: each series' function values go straight into the running
 * values, none is stored. The same answer as evaluating the call and then aggregating:
 * series in the same order, groups in order of their first series with a value. Null when
 * this path does not apply (then the caller evaluates the two steps); that includes
 * selections whose series collide once the metric name is dropped (the call reports that).
 */
export function evalRangeAggregation(e: AggregateExpr, call: Call, ms: MatrixSelector, source: SampleSource, grid: Grid): StepSeries[] | null {
  if (!FAST_PATHS.fusedAggregation || !FAST_PATHS.rangeLoops || !SERIES_MAJOR_OPS.has(e.op) || e.param || call.args.length !== 1) return null;
  if (!(call.func in RANGE_LOOPS)) return null;
  const fetched = fetchRangeSeries(source, ms, grid, TIMES_ONLY_LOOPS.has(call.func));
  const plan = fusedGroups(e, fetched, call.func === 'last_over_time', grid);
  if (!plan) return null;
  const params = { firstEnd: grid.startMs - ms.selector.offsetMs, stepMs: grid.stepMs, numSteps: grid.numSteps, rangeMs: ms.rangeMs };
  forEachRangeLoop(call.func, fetched.map((s) => ({ t: s.timestamps, v: s.values })), params, (i, steps, values, n) => plan.add(i, steps, values, n), plan.fusedSum);
  return plan.finish();
}

/**
 * `agg(selector)` (sum/avg/min/max/count/group of an instant selector) in one pass: each
 * series' samples at the steps go straight into the running values. The same answer as
 * selecting, then aggregating.
 */
export function evalSelectorAggregation(e: AggregateExpr, sel: VectorSelector, source: SampleSource, grid: Grid, lookbackMs: number): StepSeries[] | null {
  if (!FAST_PATHS.fusedAggregation || !SERIES_MAJOR_OPS.has(e.op) || e.param) return null;
  const fetched = fetchInstantSeries(source, sel, grid, lookbackMs);
  // A selector's series are distinct with their names; nothing is dropped, so nothing can collide.
  const plan = fusedGroups(e, fetched, true, grid);
  if (!plan) return null;
  const first = grid.startMs - sel.offsetMs;
  if (plan.sink !== null) {
    const sink = plan.sink;
    for (let i = 0; i < fetched.length; i++) {
      sink.base = plan.baseOf(i);
      if (instantSamplesInto(fetched[i].timestamps, fetched[i].values, first, grid, lookbackMs, sink) > 0) plan.added(i);
    }
    return plan.finish();
  }
  const steps = new Int32Array(grid.numSteps);
  const values = new Float64Array(grid.numSteps);
  for (let i = 0; i < fetched.length; i++) {
    const n = instantSamples(fetched[i].timestamps, fetched[i].values, first, grid, lookbackMs, steps, values);
    if (n > 0) plan.add(i, steps, values, n);
  }
  return plan.finish();
}

interface FusedPlan {
  add(index: number, steps: Int32Array, values: Float64Array, n: number): void;
  /** For sum: the running values, for loops that add into them directly. */
  fusedSum: FusedSum | null;
  /** For sum, max and min: the running values as a CellSink (base set per series with baseOf). */
  sink: CellSink | null;
  baseOf(index: number): number;
  /** To be called after series `index` added a value through fusedSum or sink (keeps the groups' order). */
  added(index: number): void;
  finish(): StepSeries[];
}

/**
 * The groups of a fused aggregation over `fetched` (labels as the inner expression gives
 * them: without the metric name unless `keepName`). Null when the path does not apply:
 * series colliding once their name is dropped, or too many groups × steps.
 */
function fusedGroups(e: AggregateExpr, fetched: readonly { labels: Labels; key: string }[], keepName: boolean, grid: Grid): FusedPlan | null {
  const grouping = [...e.grouping].sort(compareStrings);
  const spec = (e.without ? 'without\u0000' : 'by\u0000') + grouping.join('\u0000');
  // Series that all have one name stay distinct without it: no collision to look for.
  const checkCollisions = !keepName && !sameMetricName(fetched);
  // Only by(__name__) sees the difference between the labels with and without the name.
  const groupWithoutName = !keepName && !e.without && grouping.includes(METRIC_NAME);
  const keys = new Set<string>();
  const groupIds = new Map<string, number>();
  const groupLabelsList: Labels[] = [];
  const groupOf = new Int32Array(fetched.length);
  for (let i = 0; i < fetched.length; i++) {
    if (checkCollisions) {
      const labels = dropMetricName(fetched[i].labels);
      const key = labels === fetched[i].labels ? fetched[i].key : labelsKey(labels);
      if (keys.has(key)) return null;
      keys.add(key);
    }
    let gl: Labels;
    let gk: string;
    if (groupWithoutName) {
      gl = groupLabels(dropMetricName(fetched[i].labels), grouping, e.without);
      gk = labelsKey(gl);
    } else {
      ({ labels: gl, key: gk } = groupOfSeries(fetched[i].labels, spec, grouping, e.without));
    }
    let g = groupIds.get(gk);
    if (g === undefined) {
      g = groupLabelsList.length;
      groupIds.set(gk, g);
      groupLabelsList.push(gl);
    }
    groupOf[i] = g;
  }
  if (groupLabelsList.length * grid.numSteps > SERIES_MAJOR_MAX_CELLS) return null;
  const acc = new SeriesMajorAccumulator(e.op, groupLabelsList.length, grid.numSteps);
  // Groups come out in order of their first series with a value, as when aggregating the inner result.
  const order: number[] = [];
  const seen = new Uint8Array(groupLabelsList.length);
  const added = (i: number) => {
    const g = groupOf[i];
    if (!seen[g]) {
      seen[g] = 1;
      order.push(g);
    }
  };
  const cells = acc.cells();
  const baseOf = (i: number) => groupOf[i] * grid.numSteps;
  return {
    add(i, steps, values, n) {
      added(i);
      acc.add(groupOf[i], steps, values, n);
    },
    fusedSum: e.op === 'sum' ? { ...cells, groups: groupLabelsList.length, group: (i) => groupOf[i], baseOf, added } : null,
    sink: e.op === 'sum' || e.op === 'max' || e.op === 'min' ? { op: e.op, value: cells.sum, count: cells.count, base: 0 } : null,
    baseOf,
    added,
    finish: () => acc.finish(order, groupLabelsList),
  };
}

/** Each input series' group, computed once: by(...) keeps, without(...) drops labels (and __name__). */
class Grouping {
  readonly groupOf: Int32Array;
  readonly labels: Labels[] = [];

  constructor(grouping: string[], without: boolean, input: readonly StepSeries[]) {
    const ids = new Map<string, number>();
    this.groupOf = Int32Array.from(input, (s) => {
      const labels = groupLabels(s.labels, grouping, without);
      const key = labelsKey(labels);
      let id = ids.get(key);
      if (id === undefined) {
        id = this.labels.length;
        ids.set(key, id);
        this.labels.push(labels);
      }
      return id;
    });
  }
}

function sameMetricName(series: readonly { labels: Labels }[]): boolean {
  let name: string | undefined;
  for (let i = 0; i < series.length; i++) {
    const labels = series[i].labels;
    const own = labels.find((l) => l.name === METRIC_NAME)?.value;
    if (own === undefined) return false;
    if (i === 0) name = own;
    else if (own !== name) return false;
  }
  return true;
}

/**
 * A series' group labels and key under one grouping, remembered with its label set (which
 * selectors.ts keeps from query to query), so a repeated query does not rebuild them.
 */
const groupCache = new WeakMap<Labels, { spec: string; labels: Labels; key: string }>();

function groupOfSeries(labels: Labels, spec: string, grouping: readonly string[], without: boolean): { labels: Labels; key: string } {
  let entry = groupCache.get(labels);
  if (entry === undefined || entry.spec !== spec) {
    const gl = groupLabels(labels, grouping, without);
    entry = { spec, labels: gl, key: labelsKey(gl) };
    groupCache.set(labels, entry);
  }
  return entry;
}

function groupLabels(labels: Labels, grouping: readonly string[], without: boolean): Labels {
  if (without) return labels.filter((l) => l.name !== METRIC_NAME && !grouping.includes(l.name));
  return grouping.length === 0 ? [] : labels.filter((l) => grouping.includes(l.name));
}

type StepAggregator = (cursor: StepCursor, step: number, param: number) => void;

function makeStepAggregator(op: AggregateExpr['op'], groups: Grouping, input: readonly StepSeries[], collector: SeriesCollector): StepAggregator {
  if (op === 'topk' || op === 'bottomk') return topK(op === 'topk', groups, input, collector);
  const outputs = groups.labels.map((l) => collector.builderFor(l, labelsKey(l)));
  return op === 'quantile' ? quantiles(groups, outputs) : accumulate(op, groups, outputs);
}

/** sum, avg, min, max, count, group, stddev, stdvar: one running value per group. */
function accumulate(op: AggregateExpr['op'], groups: Grouping, outputs: StepSeriesBuilder[]): StepAggregator {
  const n = groups.labels.length;
  const value = new Float64Array(n);
  const mean = new Float64Array(n);
  const count = new Float64Array(n);
  const stamp = new Int32Array(n);
  const ordered = new Int32Array(n);
  return (cursor, step) => {
    let numGroups = 0;
    for (let k = 0; k < cursor.count; k++) {
      const g = groups.groupOf[cursor.present[k]];
      const v = cursor.values[k];
      if (stamp[g] !== step + 1) {
        stamp[g] = step + 1;
        ordered[numGroups++] = g;
        value[g] = op === 'stddev' || op === 'stdvar' ? 0 : op === 'group' ? 1 : v;
        mean[g] = v;
        count[g] = 1;
        continue;
      }
      switch (op) {
        case 'sum':
          value[g] += v;
          break;
        case 'avg':
          count[g]++;
          if (mean[g] === Infinity || mean[g] === -Infinity) {
            if ((v === Infinity || v === -Infinity) && mean[g] > 0 === v > 0) break;
            if (Number.isFinite(v)) break;
          }
          // Dividing both terms by the count keeps the update from overflowing.
          mean[g] += v / count[g] - mean[g] / count[g];
          break;
        case 'max':
          if (value[g] < v || Number.isNaN(value[g])) value[g] = v;
          break;
        case 'min':
          if (value[g] > v || Number.isNaN(value[g])) value[g] = v;
          break;
        case 'count':
          count[g]++;
          break;
        case 'stddev':
        case 'stdvar': {
          count[g]++;
          const delta = v - mean[g];
          mean[g] += delta / count[g];
          value[g] += delta * (v - mean[g]);
          break;
        }
        case 'group':
          break;
        default:
          throw new Error(`unexpected aggregation ${op}`);
      }
    }
    for (let i = 0; i < numGroups; i++) {
      const g = ordered[i];
      outputs[g].push(step, finalValue(op, value[g], mean[g], count[g]));
    }
  };
}

function finalValue(op: AggregateExpr['op'], value: number, mean: number, count: number): number {
  switch (op) {
    case 'avg':
      return mean;
    case 'count':
      return count;
    case 'stdvar':
      return value / count;
    case 'stddev':
      return Math.sqrt(value / count);
    default:
      return value;
  }
}

/** quantile(φ, v): all of a group's values at the step, interpolated. */
function quantiles(groups: Grouping, outputs: StepSeriesBuilder[]): StepAggregator {
  const values: number[][] = groups.labels.map(() => []);
  const stamp = new Int32Array(groups.labels.length);
  const ordered: number[] = [];
  return (cursor, step, q) => {
    ordered.length = 0;
    for (let k = 0; k < cursor.count; k++) {
      const g = groups.groupOf[cursor.present[k]];
      if (stamp[g] !== step + 1) {
        stamp[g] = step + 1;
        values[g].length = 0;
        ordered.push(g);
      }
      values[g].push(cursor.values[k]);
    }
    for (const g of ordered) outputs[g].push(step, quantile(q, values[g]));
  };
}

const MAX_INT64 = 9223372036854775807;

/**
 * topk/bottomk keep, per group, a heap of the k best samples exactly as Go's
 * container/heap does, so which of several equal values wins matches Prometheus.
 * The output is the selected series themselves, metric name included.
 */
function topK(isTop: boolean, groups: Grouping, input: readonly StepSeries[], collector: SeriesCollector): StepAggregator {
  const heaps = groups.labels.map(() => new GoHeap(isTop));
  const stamp = new Int32Array(groups.labels.length);
  const ordered: number[] = [];
  // Created on first output so an instant query lists series in heap order, as Prometheus does.
  const outputs: (StepSeriesBuilder | undefined)[] = new Array(input.length);
  const outputFor = (series: number) => (outputs[series] ??= collector.builderFor(input[series].labels, input[series].key));
  return (cursor, step, param) => {
    if (!(param <= MAX_INT64 && param >= -MAX_INT64 - 1)) {
      throw executionError(`Scalar value ${goFormatFloat(param, 'e')} overflows int64`);
    }
    const k = Math.trunc(param);
    if (k < 1) return;
    ordered.length = 0;
    for (let i = 0; i < cursor.count; i++) {
      const series = cursor.present[i];
      const v = cursor.values[i];
      const g = groups.groupOf[series];
      const heap = heaps[g];
      if (stamp[g] !== step + 1) {
        stamp[g] = step + 1;
        ordered.push(g);
        heap.reset(v, series);
        continue;
      }
      if (heap.size < k || heap.isWorseThanTop(v)) {
        if (heap.size === k) {
          if (k === 1) {
            heap.replaceTop(v, series);
            continue;
          }
          heap.pop();
        }
        heap.push(v, series);
      }
    }
    for (const g of ordered) {
      for (const [series, value] of heaps[g].sortedBestFirst()) outputFor(series).push(step, value);
    }
  };
}

/** count_values("label", v): counts samples per distinct value, the value becoming a label. */
function countValues(valueLabel: string, grouping: string[], without: boolean, input: readonly StepSeries[], grid: Grid): StepSeries[] {
  if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(valueLabel)) throw executionError(`invalid label name ${JSON.stringify(valueLabel)}`);
  const effectiveGrouping = without ? grouping : [...grouping, valueLabel].sort(compareStrings);
  const collector = new SeriesCollector(grid.numSteps);
  const cursor = new StepCursor(input);
  const counts = new Map<string, { builder: StepSeriesBuilder; count: number }>();
  for (let step = 0; step < grid.numSteps; step++) {
    cursor.advance(step);
    counts.clear();
    for (let k = 0; k < cursor.count; k++) {
      const withValue = setLabel(input[cursor.present[k]].labels, valueLabel, goFormatFloat(cursor.values[k], 'f'));
      const labels = groupLabels(withValue, effectiveGrouping, without);
      const key = labelsKey(labels);
      const entry = counts.get(key);
      if (entry) entry.count++;
      else counts.set(key, { builder: collector.builderFor(labels, key), count: 1 });
    }
    for (const { builder, count } of counts.values()) builder.push(step, count);
  }
  return collector.finish().filter((s) => s.steps.length > 0);
}
