import { executionError } from './errors.ts';
import { quantile } from './quantile.ts';

/**
 * The samples of one series inside one range window, plus the window's bounds. The
 * engine reuses one Window object and moves lo/hi along the series step by step.
 */
export interface Window {
  timestamps: Float64Array;
  values: Float64Array;
  /** First sample in the window. */
  lo: number;
  /** One past the last sample in the window; always > lo. */
  hi: number;
  /** The evaluation time of the step. */
  evalMs: number;
  rangeStartMs: number;
  rangeEndMs: number;
  rangeMs: number;
}

/**
 * A function of a range vector; `scalars` holds the values of its scalar arguments at the
 * step, in argument order. undefined means "no sample" (e.g. rate over one point).
 */
export type RangeFunction = (w: Window, scalars: readonly number[]) => number | undefined;

/** Functions over range vectors, with Prometheus 2.42's arithmetic (promql/functions.go). */
export const RANGE_FUNCTIONS: Readonly<Record<string, RangeFunction>> = {
  rate: (w) => extrapolatedRate(w, true, true),
  increase: (w) => extrapolatedRate(w, true, false),
  delta: (w) => extrapolatedRate(w, false, false),
  irate: (w) => instantValue(w, true),
  idelta: (w) => instantValue(w, false),
  avg_over_time: avgOverTime,
  sum_over_time: sumOverTime,
  count_over_time: (w) => w.hi - w.lo,
  min_over_time: minOverTime,
  max_over_time: maxOverTime,
  last_over_time: (w) => w.values[w.hi - 1],
  present_over_time: () => 1,
  stddev_over_time: (w) => Math.sqrt(varianceOverTime(w)),
  stdvar_over_time: varianceOverTime,
  quantile_over_time: (w, [q]) => quantile(q, Array.from(w.values.subarray(w.lo, w.hi))),
  changes,
  resets,
  deriv,
  predict_linear: predictLinear,
  holt_winters: holtWinters,
};

/**
 * rate/increase/delta: the difference between the window's first and last samples
 * (adding back counter resets), extrapolated towards the window's edges when the
 * samples come close enough to them, but never below a counter's zero point.
 */
function extrapolatedRate(w: Window, isCounter: boolean, isRate: boolean): number | undefined {
  const { timestamps: t, values: v, lo, hi } = w;
  if (hi - lo < 2) return undefined;
  const first = v[lo];
  const last = v[hi - 1];
  let result = last - first;
  if (isCounter) {
    let prev = first;
    for (let i = lo + 1; i < hi; i++) {
      if (v[i] < prev) result += prev;
      prev = v[i];
    }
  }
  let durationToStart = (t[lo] - w.rangeStartMs) / 1000;
  const durationToEnd = (w.rangeEndMs - t[hi - 1]) / 1000;
  const sampledInterval = (t[hi - 1] - t[lo]) / 1000;
  const averageDurationBetweenSamples = sampledInterval / (hi - lo - 1);

  if (isCounter && result > 0 && first >= 0) {
    const durationToZero = sampledInterval * (first / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const extrapolationThreshold = averageDurationBetweenSamples * 1.1;
  let extrapolateToInterval = sampledInterval;
  extrapolateToInterval += durationToStart < extrapolationThreshold ? durationToStart : averageDurationBetweenSamples / 2;
  extrapolateToInterval += durationToEnd < extrapolationThreshold ? durationToEnd : averageDurationBetweenSamples / 2;

  let factor = extrapolateToInterval / sampledInterval;
  if (isRate) factor /= durationSeconds(w.rangeMs);
  return result * factor;
}

/** time.Duration.Seconds() of a whole number of milliseconds, rounded as Go rounds it. */
export function durationSeconds(ms: number): number {
  const whole = Math.trunc(ms / 1000);
  return whole + ((ms - whole * 1000) * 1e6) / 1e9;
}

/** irate/idelta: from the last two samples only. */
function instantValue(w: Window, isRate: boolean): number | undefined {
  const { timestamps: t, values: v, lo, hi } = w;
  if (hi - lo < 2) return undefined;
  const last = v[hi - 1];
  const previous = v[hi - 2];
  let result = isRate && last < previous ? last : last - previous;
  const sampledInterval = t[hi - 1] - t[hi - 2];
  if (sampledInterval === 0) return undefined;
  if (isRate) result /= sampledInterval / 1000;
  return result;
}

/**
 * Kahan-Neumaier summation step: returns the new sum, and the new compensation in
 * kahanC (module state keeps the hot loops free of allocations).
 */
let kahanC = 0;
function kahanSumInc(inc: number, sum: number, c: number): number {
  const t = sum + inc;
  if (Math.abs(sum) >= Math.abs(inc)) c += sum - t + inc;
  else c += inc - t + sum;
  kahanC = c;
  return t;
}

function sumOverTime(w: Window): number {
  let sum = 0;
  let c = 0;
  for (let i = w.lo; i < w.hi; i++) {
    sum = kahanSumInc(w.values[i], sum, c);
    c = kahanC;
  }
  return Number.isFinite(sum) || Number.isNaN(sum) ? sum + c : sum;
}

/** An incremental mean, summed with compensation, as 2.42 computes it to avoid overflow. */
function avgOverTime(w: Window): number {
  let mean = 0;
  let count = 0;
  let c = 0;
  for (let i = w.lo; i < w.hi; i++) {
    const v = w.values[i];
    count++;
    if (mean === Infinity || mean === -Infinity) {
      if ((v === Infinity || v === -Infinity) && mean > 0 === v > 0) continue;
      if (Number.isFinite(v)) continue;
    }
    mean = kahanSumInc(v / count - mean / count, mean, c);
    c = kahanC;
  }
  return mean === Infinity || mean === -Infinity ? mean : mean + c;
}

function minOverTime(w: Window): number {
  let min = w.values[w.lo];
  for (let i = w.lo; i < w.hi; i++) {
    const v = w.values[i];
    if (v < min || Number.isNaN(min)) min = v;
  }
  return min;
}

function maxOverTime(w: Window): number {
  let max = w.values[w.lo];
  for (let i = w.lo; i < w.hi; i++) {
    const v = w.values[i];
    if (v > max || Number.isNaN(max)) max = v;
  }
  return max;
}

/** Population variance with Welford's update, compensated as in 2.42's stdvar_over_time. */
function varianceOverTime(w: Window): number {
  let count = 0;
  let mean = 0;
  let cMean = 0;
  let aux = 0;
  let cAux = 0;
  for (let i = w.lo; i < w.hi; i++) {
    const v = w.values[i];
    count++;
    const delta = v - (mean + cMean);
    mean = kahanSumInc(delta / count, mean, cMean);
    cMean = kahanC;
    aux = kahanSumInc(delta * (v - (mean + cMean)), aux, cAux);
    cAux = kahanC;
  }
  return (aux + cAux) / count;
}

function changes(w: Window): number {
  let n = 0;
  let prev = w.values[w.lo];
  for (let i = w.lo + 1; i < w.hi; i++) {
    const cur = w.values[i];
    if (cur !== prev && !(Number.isNaN(cur) && Number.isNaN(prev))) n++;
    prev = cur;
  }
  return n;
}

function resets(w: Window): number {
  let n = 0;
  let prev = w.values[w.lo];
  for (let i = w.lo + 1; i < w.hi; i++) {
    const cur = w.values[i];
    if (cur < prev) n++;
    prev = cur;
  }
  return n;
}

function deriv(w: Window): number | undefined {
  if (w.hi - w.lo < 2) return undefined;
  // Intercept at the first sample keeps x small (prometheus/prometheus#2674).
  return linearRegression(w, w.timestamps[w.lo]).slope;
}

function predictLinear(w: Window, [duration]: readonly number[]): number | undefined {
  if (w.hi - w.lo < 2) return undefined;
  const { slope, intercept } = linearRegression(w, w.evalMs);
  return slope * duration + intercept;
}

/**
 * Double exponential smoothing with smoothing factor sf and trend factor tf, both in
 * (0, 1); out-of-range factors fail the query as they do in 2.42.
 */
function holtWinters(w: Window, [sf, tf]: readonly number[]): number | undefined {
  if (sf <= 0 || sf >= 1) {
    throw executionError(`invalid smoothing factor. Expected: 0 < sf < 1, got: ${goFormatFixed(sf)}`);
  }
  if (tf <= 0 || tf >= 1) throw executionError(`invalid trend factor. Expected: 0 < tf < 1, got: ${goFormatFixed(tf)}`);
  if (w.hi - w.lo < 2) return undefined;
  const v = w.values;
  let s0 = 0;
  let s1 = v[w.lo];
  let b = v[w.lo + 1] - v[w.lo];
  for (let i = 1; i < w.hi - w.lo; i++) {
    const x = sf * v[w.lo + i];
    // The trend at the previous point (calcTrendValue); the first one is the raw slope.
    if (i - 1 !== 0) b = tf * (s1 - s0) + (1 - tf) * b;
    const y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  return s1;
}

/** Go's %f: six decimals. */
function goFormatFixed(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  return v.toFixed(6);
}

/** Least-squares fit of value over time (seconds since interceptMs), compensated sums. */
function linearRegression(w: Window, interceptMs: number): { slope: number; intercept: number } {
  let n = 0;
  let sumX = 0, cX = 0;
  let sumY = 0, cY = 0;
  let sumXY = 0, cXY = 0;
  let sumX2 = 0, cX2 = 0;
  const initY = w.values[w.lo];
  let constY = true;
  for (let i = w.lo; i < w.hi; i++) {
    const y = w.values[i];
    if (constY && i > w.lo && y !== initY) constY = false;
    n += 1;
    const x = (w.timestamps[i] - interceptMs) / 1e3;
    sumX = kahanSumInc(x, sumX, cX);
    cX = kahanC;
    sumY = kahanSumInc(y, sumY, cY);
    cY = kahanC;
    sumXY = kahanSumInc(x * y, sumXY, cXY);
    cXY = kahanC;
    sumX2 = kahanSumInc(x * x, sumX2, cX2);
    cX2 = kahanC;
  }
  if (constY) {
    if (initY === Infinity || initY === -Infinity) return { slope: NaN, intercept: NaN };
    return { slope: 0, intercept: initY };
  }
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  return { slope, intercept: sumY / n - (slope * sumX) / n };
}
