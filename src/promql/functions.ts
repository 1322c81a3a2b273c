import type { Call, Expr, MatrixSelector } from './ast.ts';
import { goUnixDate, type GoDate } from './go-time.ts';
import { histogramQuantile } from './histogram-quantile.ts';
import { dropMetricName, labelsKey, type Labels } from './labels.ts';
import { mapVector } from './map-vector.ts';
import { RANGE_FUNCTIONS, type RangeFunction, type Window } from './range-functions.ts';
import { evalRangeLoops, RANGE_LOOPS } from './range-loops.ts';
import { FAST_PATHS } from './fast-paths.ts';
import { StepArena } from './step-arena.ts';
import { absentLabels, labelJoin, labelReplace, onesAt } from './label-functions.ts';
import { fetchRangeSeries, selectInstantVector, TIMES_ONLY_LOOPS } from './selectors.ts';
import type { SampleSource } from './source.ts';
import { assertDistinctLabelSets, stepTime, type Grid, type StepSeries, type Value } from './vector.ts';

/** What a function call needs from the evaluator. */
export interface CallContext {
  grid: Grid;
  source: SampleSource;
  lookbackMs: number;
  evalExpr(e: Expr): Value;
}

type InstantFunction = (args: Value[], grid: Grid) => Value;

const unchanged = (l: Labels) => l;

/** A function applied to every sample of an instant vector, dropping the metric name. */
const perSample =
  (f: (v: number) => number): InstantFunction =>
  ([v], grid) => ({ type: 'vector', series: mapVector(vectorOf(v), grid, dropMetricName, f) });

/** Go's sign function: keeps ±0 and NaN as they are. */
const sgn = (v: number) => (v < 0 ? -1 : v > 0 ? 1 : v);

/** Functions of instant vectors and scalars (promql/functions.go of 2.42). */
const INSTANT_FUNCTIONS: Readonly<Record<string, InstantFunction>> = {
  abs: perSample(Math.abs),
  ceil: perSample(Math.ceil),
  floor: perSample(Math.floor),
  exp: perSample(Math.exp),
  sqrt: perSample(Math.sqrt),
  ln: perSample(Math.log),
  log2: perSample(Math.log2),
  log10: perSample(Math.log10),
  sgn: perSample(sgn),
  sin: perSample(Math.sin),
  cos: perSample(Math.cos),
  tan: perSample(Math.tan),
  asin: perSample(Math.asin),
  acos: perSample(Math.acos),
  atan: perSample(Math.atan),
  sinh: perSample(Math.sinh),
  cosh: perSample(Math.cosh),
  tanh: perSample(Math.tanh),
  asinh: perSample(Math.asinh),
  acosh: perSample(Math.acosh),
  atanh: perSample(Math.atanh),
  rad: perSample((v) => (v * Math.PI) / 180),
  deg: perSample((v) => (v * 180) / Math.PI),
  clamp_min: ([v, min], grid) => ({
    type: 'vector',
    series: mapVector(vectorOf(v), grid, dropMetricName, (x, step) => Math.max(scalarAt(min, step), x)),
  }),
  clamp_max: ([v, max], grid) => ({
    type: 'vector',
    series: mapVector(vectorOf(v), grid, dropMetricName, (x, step) => Math.min(scalarAt(max, step), x)),
  }),
  clamp: ([v, min, max], grid) => ({
    type: 'vector',
    series: mapVector(vectorOf(v), grid, dropMetricName, (x, step) => {
      const lo = scalarAt(min, step);
      const hi = scalarAt(max, step);
      // An empty range yields no samples at all.
      return hi < lo ? undefined : Math.max(lo, Math.min(hi, x));
    }),
  }),
  round: ([v, toNearest], grid) => ({
    type: 'vector',
    series: mapVector(vectorOf(v), grid, dropMetricName, (x, step) => {
      // Rounding against the inverse is what Prometheus does ("fewer floating point accuracy issues").
      const inverse = 1 / (toNearest ? scalarAt(toNearest, step) : 1);
      return Math.floor(x * inverse + 0.5) / inverse;
    }),
  }),
  scalar: ([v], grid) => ({ type: 'scalar', values: scalarOfVector(vectorOf(v), grid) }),
  vector: ([s], grid) => ({ type: 'vector', series: [constantSeries(scalarValues(s), grid)] }),
  time: (_, grid) => ({ type: 'scalar', values: Float64Array.from({ length: grid.numSteps }, (_, i) => stepTime(grid, i) / 1000) }),
  pi: (_, grid) => ({ type: 'scalar', values: new Float64Array(grid.numSteps).fill(Math.PI) }),
  sort: ([v], grid) => ({ type: 'vector', series: sortInstant(vectorOf(v), grid, false) }),
  sort_desc: ([v], grid) => ({ type: 'vector', series: sortInstant(vectorOf(v), grid, true) }),
  histogram_quantile: ([q, v], grid) => ({ type: 'vector', series: histogramQuantile(scalarValues(q), vectorOf(v), grid) }),
  label_replace: ([v, dst, replacement, src, regex], grid) => ({
    type: 'vector',
    series: labelReplace(vectorOf(v), grid, stringOf(dst), stringOf(replacement), stringOf(src), stringOf(regex)),
  }),
  label_join: ([v, dst, separator, ...sources], grid) => ({
    type: 'vector',
    series: labelJoin(vectorOf(v), grid, stringOf(dst), stringOf(separator), sources.map(stringOf)),
  }),
  minute: dateFunction((d) => d.minute),
  hour: dateFunction((d) => d.hour),
  day_of_week: dateFunction((d) => d.weekday),
  day_of_month: dateFunction((d) => d.day),
  day_of_year: dateFunction((d) => d.yearDay),
  days_in_month: dateFunction((d) => d.daysInMonth),
  month: dateFunction((d) => d.month),
  year: dateFunction((d) => d.year),
};

/**
 * Calls whose evaluation depends on their argument's expression, not only its value:
 * timestamp() of a selector reads sample times, absent() builds labels from matchers.
 */
const SPECIAL_CALLS: Readonly<Record<string, (call: Call, ctx: CallContext) => Value>> = {
  timestamp: (call, ctx) => {
    const arg = unwrapParens(call.args[0]);
    const grid = ctx.grid;
    if (arg.kind === 'vectorSelector') {
      const series = selectInstantVector(ctx.source, arg, grid, ctx.lookbackMs, 'timestamp');
      return { type: 'vector', series: mapVector(series, grid, dropMetricName, (t) => t / 1000) };
    }
    const input = vectorOf(ctx.evalExpr(arg));
    return { type: 'vector', series: mapVector(input, grid, dropMetricName, (_, step) => stepTime(grid, step) / 1000) };
  },
  absent: (call, ctx) => {
    const arg = unwrapParens(call.args[0]);
    const present = stepsWithSamples(vectorOf(ctx.evalExpr(arg)), ctx.grid);
    const labels = absentLabels(arg.kind === 'vectorSelector' ? arg.matchers : undefined);
    return { type: 'vector', series: onesAt(labels, stepsWithout(present)) };
  },
  absent_over_time: (call, ctx) => {
    const ms = unwrapParens(call.args[0]) as MatrixSelector;
    const present = stepsWithSamples(rangeFunctionSeries(call, 0, ctx, RANGE_FUNCTIONS.present_over_time), ctx.grid);
    return { type: 'vector', series: onesAt(absentLabels(ms.selector.matchers), stepsWithout(present)) };
  },
};

/** Whether strata implements a function (the parser rejects the others as unsupported). */
export function isSupportedFunction(name: string): boolean {
  return name in INSTANT_FUNCTIONS || name in RANGE_FUNCTIONS || name in SPECIAL_CALLS;
}

export function evalCall(call: Call, ctx: CallContext): Value {
  const special = SPECIAL_CALLS[call.func];
  if (special) return special(call, ctx);
  const matrixArg = call.args.findIndex((a) => unwrapParens(a).kind === 'matrixSelector');
  if (matrixArg >= 0) {
    const fn = RANGE_FUNCTIONS[call.func];
    if (!fn) throw new Error(`function ${call.func} is not implemented`);
    const series = rangeFunctionSeries(call, matrixArg, ctx, fn);
    assertDistinctLabelSets(series);
    return { type: 'vector', series };
  }
  const impl = INSTANT_FUNCTIONS[call.func];
  if (!impl) throw new Error(`function ${call.func} is not implemented`);
  return impl(call.args.map((a) => ctx.evalExpr(a)), ctx.grid);
}

function unwrapParens(e: Expr): Expr {
  while (e.kind === 'paren') e = e.expr;
  return e;
}

/**
 * A function over a range vector, evaluated series by series from one read of the
 * source: the window [t - offset - range, t - offset] slides along each series' samples
 * with two indices that only move forward, so no step searches the series again.
 */
function rangeFunctionSeries(call: Call, matrixArg: number, ctx: CallContext, fn: RangeFunction): StepSeries[] {
  const ms = unwrapParens(call.args[matrixArg]) as MatrixSelector;
  const { grid } = ctx;
  const scalarArgs = call.args.flatMap((a, i) => (i === matrixArg ? [] : [scalarValues(ctx.evalExpr(a))]));
  const scalars = scalarArgs.map(() => NaN);
  const offset = ms.selector.offsetMs;
  // last_over_time acts like an offset and so keeps the metric name.
  const relabel = call.func === 'last_over_time' ? unchanged : dropMetricName;

  const out: StepSeries[] = [];
  const steps = new Int32Array(grid.numSteps);
  const values = new Float64Array(grid.numSteps);
  const arena = new StepArena();
  const loop = scalarArgs.length === 0 && FAST_PATHS.rangeLoops ? RANGE_LOOPS[call.func] : undefined;
  if (loop) {
    const fetched = fetchRangeSeries(ctx.source, ms, grid, TIMES_ONLY_LOOPS.has(call.func));
    const params = { firstEnd: stepTime(grid, 0) - offset, stepMs: grid.stepMs, numSteps: grid.numSteps, rangeMs: ms.rangeMs };
    const results = evalRangeLoops(call.func, fetched.map((s) => ({ t: s.timestamps, v: s.values })), params, arena);
    for (let i = 0; i < fetched.length; i++) {
      const r = results[i];
      if (r === null) continue;
      const s = fetched[i];
      const labels = relabel(s.labels);
      out.push({ labels, key: labels === s.labels ? s.key : labelsKey(labels), steps: r.steps, values: r.values });
    }
    return out;
  }
  for (const s of fetchRangeSeries(ctx.source, ms, grid)) {
    const w: Window = { timestamps: s.timestamps, values: s.values, lo: 0, hi: 0, evalMs: 0, rangeStartMs: 0, rangeEndMs: 0, rangeMs: ms.rangeMs };
    const t = s.timestamps;
    let lo = 0;
    let hi = 0;
    let n = 0;
    for (let step = 0; step < grid.numSteps; step++) {
      const evalMs = stepTime(grid, step);
      const end = evalMs - offset;
      const start = end - ms.rangeMs;
      while (hi < t.length && t[hi] <= end) hi++;
      while (lo < hi && t[lo] < start) lo++;
      if (hi === lo) continue;
      w.lo = lo;
      w.hi = hi;
      w.evalMs = evalMs;
      w.rangeStartMs = start;
      w.rangeEndMs = end;
      for (let i = 0; i < scalarArgs.length; i++) scalars[i] = scalarArgs[i][step];
      const v = fn(w, scalars);
      if (v === undefined) continue;
      steps[n] = step;
      values[n] = v;
      n++;
    }
    if (n === 0) continue;
    const labels = relabel(s.labels);
    out.push({ labels, key: labels === s.labels ? s.key : labelsKey(labels), ...arena.take(steps, values, n) });
  }
  return out;
}

function vectorOf(v: Value): StepSeries[] {
  if (v.type !== 'vector') throw new Error(`expected an instant vector, got ${v.type}`);
  return v.series;
}

function stringOf(v: Value): string {
  if (v.type !== 'string') throw new Error(`expected a string, got ${v.type}`);
  return v.value;
}

/**
 * The date functions: of each sample's value read as Unix seconds (dropping the metric
 * name), or without an argument of the evaluation time.
 */
function dateFunction(f: (d: GoDate) => number): InstantFunction {
  const at = (seconds: number) => f(goUnixDate(seconds));
  return (args, grid) => {
    if (args.length === 0) {
      const values = Float64Array.from({ length: grid.numSteps }, (_, i) => at(Math.trunc(stepTime(grid, i) / 1000)));
      return { type: 'vector', series: [constantSeries(values, grid)] };
    }
    return { type: 'vector', series: mapVector(vectorOf(args[0]), grid, dropMetricName, at) };
  };
}

function stepsWithSamples(series: readonly StepSeries[], grid: Grid): Uint8Array {
  const present = new Uint8Array(grid.numSteps);
  for (const s of series) for (let i = 0; i < s.steps.length; i++) present[s.steps[i]] = 1;
  return present;
}

function stepsWithout(present: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < present.length; i++) if (!present[i]) out.push(i);
  return out;
}

function scalarValues(v: Value): Float64Array {
  if (v.type !== 'scalar') throw new Error(`expected a scalar, got ${v.type}`);
  return v.values;
}

function scalarAt(v: Value, step: number): number {
  return scalarValues(v)[step];
}

/** scalar(v): the only sample's value, or NaN when there is not exactly one. */
function scalarOfVector(series: StepSeries[], grid: Grid): Float64Array {
  const count = new Int32Array(grid.numSteps);
  const out = new Float64Array(grid.numSteps).fill(NaN);
  for (const s of series) {
    for (let i = 0; i < s.steps.length; i++) {
      const step = s.steps[i];
      count[step]++;
      out[step] = count[step] === 1 ? s.values[i] : NaN;
    }
  }
  return out;
}

/** vector(s): one series without labels, present at every step. */
function constantSeries(values: Float64Array, grid: Grid): StepSeries {
  return { labels: [], key: labelsKey([]), steps: Int32Array.from({ length: grid.numSteps }, (_, i) => i), values: values.slice() };
}

/**
 * sort/sort_desc only order an instant query's result (range results are ordered by
 * labels anyway); NaN goes last either way.
 */
function sortInstant(series: StepSeries[], grid: Grid, descending: boolean): StepSeries[] {
  if (grid.numSteps !== 1) return series;
  return [...series].sort((a, b) => {
    const x = a.values[0];
    const y = b.values[0];
    if (Number.isNaN(x) || Number.isNaN(y)) return Number(Number.isNaN(x)) - Number(Number.isNaN(y));
    return descending ? y - x || 0 : x - y || 0;
  });
}
