/**
 * Fast paths of the commonest range-vector functions: one loop per function over one
 * series' samples and the whole step grid, with the window's two indices moving forward
 * only, no Window object and no call per step. The arithmetic is that of
 * range-functions.ts (Prometheus 2.42's functions.go), operation for operation, so the
 * results are the same bits — except avg_over_time's fast path (see there), which is
 * within a few ulps. rangeFunctionSeries uses these when the function has one.
 *
 * Each loop writes the steps with a value into outSteps/outValues and returns how many.
 * Step k's window is [end_k - range, end_k] with end_k = firstEnd + k * stepMs.
 */

export interface RangeLoopInput {
  t: Float64Array;
  v: Float64Array;
  firstEnd: number;
  stepMs: number;
  numSteps: number;
  rangeMs: number;
  outSteps: Int32Array;
  outValues: Float64Array;
}

export type RangeLoop = (input: RangeLoopInput) => number;

export const RANGE_LOOPS: Readonly<Record<string, RangeLoop>> = {
  rate: (x) => extrapolatedRateLoop(x, true, true),
  increase: (x) => extrapolatedRateLoop(x, true, false),
  delta: (x) => extrapolatedRateLoop(x, false, false),
  avg_over_time: avgOverTimeLoop,
  sum_over_time: sumOverTimeLoop,
  count_over_time: countOverTimeLoop,
  min_over_time: (x) => extremeOverTimeLoop(x, false),
  max_over_time: (x) => extremeOverTimeLoop(x, true),
  last_over_time: lastOverTimeLoop,
};

/** Scratch for the counter-reset prefix counts (one series at a time). */
let resetPrefix = new Int32Array(1024);

function extrapolatedRateLoop(x: RangeLoopInput, isCounter: boolean, isRate: boolean): number {
  const { t, v, firstEnd, stepMs, numSteps, rangeMs, outSteps, outValues } = x;
  const len = t.length;
  // resets[i]: counter resets among samples 1..i, so a window without any skips the scan.
  if (isCounter) {
    if (resetPrefix.length < len) resetPrefix = new Int32Array(Math.max(len, resetPrefix.length * 2));
    let r = 0;
    if (len > 0) resetPrefix[0] = 0;
    for (let i = 1; i < len; i++) {
      if (v[i] < v[i - 1]) r++;
      resetPrefix[i] = r;
    }
  }
  const resets = resetPrefix;
  const rangeSeconds = durationSeconds(rangeMs);
  let lo = 0;
  let hi = 0;
  let n = 0;
  for (let step = 0; step < numSteps; step++) {
    const end = firstEnd + step * stepMs;
    const start = end - rangeMs;
    while (hi < len && t[hi] <= end) hi++;
    while (lo < hi && t[lo] < start) lo++;
    if (hi - lo < 2) continue;
    const first = v[lo];
    const last = v[hi - 1];
    let result = last - first;
    if (isCounter && resets[hi - 1] !== resets[lo]) {
      let prev = first;
      for (let i = lo + 1; i < hi; i++) {
        if (v[i] < prev) result += prev;
        prev = v[i];
      }
    }
    let durationToStart = (t[lo] - start) / 1000;
    const durationToEnd = (end - t[hi - 1]) / 1000;
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
    if (isRate) factor /= rangeSeconds;
    outSteps[n] = step;
    outValues[n] = result * factor;
    n++;
  }
  return n;
}

/** time.Duration.Seconds() of a whole number of milliseconds, rounded as Go rounds it. */
function durationSeconds(ms: number): number {
  const whole = Math.trunc(ms / 1000);
  return whole + ((ms - whole * 1000) * 1e6) / 1e9;
}

function avgOverTimeLoop(x: RangeLoopInput): number {
  const { t, v, firstEnd, stepMs, numSteps, rangeMs, outSteps, outValues } = x;
  const len = t.length;
  let lo = 0;
  let hi = 0;
  let n = 0;
  for (let step = 0; step < numSteps; step++) {
    const end = firstEnd + step * stepMs;
    const start = end - rangeMs;
    while (hi < len && t[hi] <= end) hi++;
    while (lo < hi && t[lo] < start) lo++;
    if (hi === lo) continue;
    // Fast path: a compensated sum divided by the count, when every value has the same
    // sign and the sum stays finite (and normal). Then nothing cancels, and it is within a few ulps of
    // the incremental mean below (2.42's, which avoids overflow); else that mean, exactly.
    let total = 0;
    let comp = 0;
    let positive = false;
    let negative = false;
    for (let i = lo; i < hi; i++) {
      const val = v[i];
      if (val > 0) positive = true;
      else if (val < 0) negative = true;
      else if (val !== 0) negative = positive = true;
      const next = total + val;
      if (Math.abs(total) >= Math.abs(val)) comp += total - next + val;
      else comp += val - next + total;
      total = next;
    }
    const compensated = total + comp;
    // Finite, and zero or far from the subnormals, where a division's rounding is coarse.
    const safe = compensated - compensated === 0 && (compensated === 0 || Math.abs(compensated) > 1e-290);
    if (!(positive && negative) && safe) {
      outSteps[n] = step;
      outValues[n] = compensated / (hi - lo);
      n++;
      continue;
    }
    let mean = 0;
    let count = 0;
    let c = 0;
    for (let i = lo; i < hi; i++) {
      const val = v[i];
      count++;
      if (mean === Infinity || mean === -Infinity) {
        if ((val === Infinity || val === -Infinity) && mean > 0 === val > 0) continue;
        if (Number.isFinite(val)) continue;
      }
      // Kahan-Neumaier step of mean += val/count - mean/count.
      const inc = val / count - mean / count;
      const sum = mean + inc;
      if (Math.abs(mean) >= Math.abs(inc)) c += mean - sum + inc;
      else c += inc - sum + mean;
      mean = sum;
    }
    outSteps[n] = step;
    outValues[n] = mean === Infinity || mean === -Infinity ? mean : mean + c;
    n++;
  }
  return n;
}

function sumOverTimeLoop(x: RangeLoopInput): number {
  const { t, v, firstEnd, stepMs, numSteps, rangeMs, outSteps, outValues } = x;
  const len = t.length;
  let lo = 0;
  let hi = 0;
  let n = 0;
  for (let step = 0; step < numSteps; step++) {
    const end = firstEnd + step * stepMs;
    const start = end - rangeMs;
    while (hi < len && t[hi] <= end) hi++;
    while (lo < hi && t[lo] < start) lo++;
    if (hi === lo) continue;
    let sum = 0;
    let c = 0;
    for (let i = lo; i < hi; i++) {
      const inc = v[i];
      const next = sum + inc;
      if (Math.abs(sum) >= Math.abs(inc)) c += sum - next + inc;
      else c += inc - next + sum;
      sum = next;
    }
    outSteps[n] = step;
    outValues[n] = Number.isFinite(sum) || Number.isNaN(sum) ? sum + c : sum;
    n++;
  }
  return n;
}

function countOverTimeLoop(x: RangeLoopInput): number {
  const { t, firstEnd, stepMs, numSteps, rangeMs, outSteps, outValues } = x;
  const len = t.length;
  let lo = 0;
  let hi = 0;
  let n = 0;
  for (let step = 0; step < numSteps; step++) {
    const end = firstEnd + step * stepMs;
    const start = end - rangeMs;
    while (hi < len && t[hi] <= end) hi++;
    while (lo < hi && t[lo] < start) lo++;
    if (hi === lo) continue;
    outSteps[n] = step;
    outValues[n] = hi - lo;
    n++;
  }
  return n;
}

function lastOverTimeLoop(x: RangeLoopInput): number {
  const { t, v, firstEnd, stepMs, numSteps, rangeMs, outSteps, outValues } = x;
  const len = t.length;
  let lo = 0;
  let hi = 0;
  let n = 0;
  for (let step = 0; step < numSteps; step++) {
    const end = firstEnd + step * stepMs;
    const start = end - rangeMs;
    while (hi < len && t[hi] <= end) hi++;
    while (lo < hi && t[lo] < start) lo++;
    if (hi === lo) continue;
    outSteps[n] = step;
    outValues[n] = v[hi - 1];
    n++;
  }
  return n;
}

function extremeOverTimeLoop(x: RangeLoopInput, isMax: boolean): number {
  const { t, v, firstEnd, stepMs, numSteps, rangeMs, outSteps, outValues } = x;
  const len = t.length;
  let lo = 0;
  let hi = 0;
  let n = 0;
  for (let step = 0; step < numSteps; step++) {
    const end = firstEnd + step * stepMs;
    const start = end - rangeMs;
    while (hi < len && t[hi] <= end) hi++;
    while (lo < hi && t[lo] < start) lo++;
    if (hi === lo) continue;
    let best = v[lo];
    if (isMax) {
      for (let i = lo; i < hi; i++) {
        const val = v[i];
        if (val > best || Number.isNaN(best)) best = val;
      }
    } else {
      for (let i = lo; i < hi; i++) {
        const val = v[i];
        if (val < best || Number.isNaN(best)) best = val;
      }
    }
    outSteps[n] = step;
    outValues[n] = best;
    n++;
  }
  return n;
}
