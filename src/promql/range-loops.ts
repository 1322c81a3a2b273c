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
import { FAST_PATHS } from './fast-paths.ts';
import { helper, HELPER_STATS, newControl, sharedScratch, type HelperJob, type Pending } from './helper.ts';
import { durationSeconds } from './range-functions.ts';
import type { StepArena } from './step-arena.ts';

export interface RangeLoopInput {
  t: Float64Array;
  v: Float64Array;
  firstEnd: number;
  stepMs: number;
  numSteps: number;
  rangeMs: number;
  outSteps: Int32Array;
  outValues: Float64Array;
  /**
   * When set (rate/increase/delta only, see FUSED_SUM_LOOPS), each step's value is added to
   * sum[sumBase + step] instead of being written out (sumCount marks cells that have one):
   * sum's running value, without a second pass over the output. The sum's cells start at
   * -0, the identity of IEEE addition (-0 + v is v for every v: +0, -0 and NaN included),
   * so the first value is added like the others, with the bits of storing it.
   */
  sum: Float64Array | null;
  sumCount: Float64Array | null;
  sumBase: number;
}

/**
 * A RangeLoopInput, always built here with the same fields in the same order: inputs of
 * different shapes (fields added later, in another order) made the loops deoptimise on
 * "wrong map" during the first queries, on this thread and on the helper's (seen with
 * --trace-deopt; those first queries measured no faster without it, within noise).
 */
export function rangeLoopInput(
  p: RangeParams, outSteps: Int32Array, outValues: Float64Array, sum: Float64Array | null = null, sumCount: Float64Array | null = null,
): RangeLoopInput {
  return {
    t: EMPTY, v: EMPTY, firstEnd: p.firstEnd, stepMs: p.stepMs, numSteps: p.numSteps, rangeMs: p.rangeMs,
    outSteps, outValues, sum, sumCount, sumBase: 0,
  };
}

const EMPTY = new Float64Array(0);

/** The loops that can add straight into a sum's running values (RangeLoopInput.sum). */
export const FUSED_SUM_LOOPS: ReadonlySet<string> = new Set(['rate', 'increase', 'delta']);

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
  const sum = x.sum;
  const sumCount = x.sumCount ?? outValues;
  const sumBase = x.sumBase;
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
  let lastStartGapMs = NaN;
  let lastEndGapMs = NaN;
  let lastSampledMs = NaN;
  let lastCount = -1;
  let lastFactor = NaN;
  let lo = 0;
  let hi = 0;
  let dLo = 0;
  let dHi = 0;
  let n = 0;
  for (let step = 0; step < numSteps; step++) {
    const end = firstEnd + step * stepMs;
    const start = end - rangeMs;
    // The window's moves as window-index.ts makes them (try last step's, else walk), written
    // out here to keep the times read at the window's ends: t[lo] and t[hi - 1] are not
    // loaded again below. (This loop is the engine's hottest; with the sums' -0 start, this
    // took it from ~26 to ~20 ns a step on the benchmark's counters, fused into a sum.)
    let h = hi + dHi;
    let tLast = NaN;
    if (!(h > 0 && h < len && (tLast = t[h - 1]) <= end && t[h] > end)) {
      h = hi;
      while (h < len && t[h] <= end) h++;
      tLast = h > 0 ? t[h - 1] : NaN;
    }
    dHi = h - hi;
    hi = h;
    let l = lo + dLo;
    let tFirst = NaN;
    if (!(l > 0 && l < hi && t[l - 1] < start && (tFirst = t[l]) >= start)) {
      l = lo;
      while (l < hi && t[l] < start) l++;
      tFirst = l < hi ? t[l] : NaN;
    }
    dLo = l - lo;
    lo = l;
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
    const startGapMs = tFirst - start;
    const endGapMs = end - tLast;
    const sampledMs = tLast - tFirst;
    const count = hi - lo;
    let durationToStart = NaN;
    let toZero = false;
    // A counter may be extrapolated only down to its zero point. That point is before the
    // window's start whenever first >= result and the samples span more than the start gap
    // (then durationToZero = sampled × first/result >= sampled >= start gap, each step of
    // the rounding monotone): the usual case, decided without its three divisions.
    if (isCounter && result > 0 && first >= 0 && !(first >= result && sampledMs >= startGapMs)) {
      durationToStart = startGapMs / 1000;
      const durationToZero = (sampledMs / 1000) * (first / result);
      if (durationToZero < durationToStart) {
        durationToStart = durationToZero;
        toZero = true;
      }
    }
    let factor: number;
    // Regular scrapes give every step the same gaps: the factor is then the previous one
    // (same inputs, same arithmetic), and its divisions are skipped.
    if (!toZero && startGapMs === lastStartGapMs && endGapMs === lastEndGapMs && sampledMs === lastSampledMs && count === lastCount) {
      factor = lastFactor;
    } else {
      if (!toZero) durationToStart = startGapMs / 1000;
      const sampledInterval = sampledMs / 1000;
      const durationToEnd = endGapMs / 1000;
      const averageDurationBetweenSamples = sampledInterval / (count - 1);
      const extrapolationThreshold = averageDurationBetweenSamples * 1.1;
      let extrapolateToInterval = sampledInterval;
      extrapolateToInterval += durationToStart < extrapolationThreshold ? durationToStart : averageDurationBetweenSamples / 2;
      extrapolateToInterval += durationToEnd < extrapolationThreshold ? durationToEnd : averageDurationBetweenSamples / 2;
      factor = extrapolateToInterval / sampledInterval;
      if (isRate) factor /= rangeSeconds;
      if (toZero) {
        lastCount = -1;
      } else {
        lastStartGapMs = startGapMs;
        lastEndGapMs = endGapMs;
        lastSampledMs = sampledMs;
        lastCount = count;
        lastFactor = factor;
      }
    }
    const value = result * factor;
    if (sum !== null) {
      // The same operations as SeriesMajorAccumulator.add's sum, in the same (series) order
      // (the cell's first value added to its -0 is that value).
      const c = sumBase + step;
      sum[c] += value;
      sumCount[c] = 1;
    } else {
      outSteps[n] = step;
      outValues[n] = value;
    }
    n++;
  }
  return n;
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

// ---- whole selections, split with the helper thread ----

export interface RangeParams {
  firstEnd: number;
  stepMs: number;
  numSteps: number;
  rangeMs: number;
}

/** Selections with fewer samples are evaluated on this thread alone. */
export const PARALLEL_MIN_SAMPLES = 100_000;
/** Series × steps above which the helper's output would take too much shared memory. */
const PARALLEL_MAX_CELLS = 8_000_000;

/**
 * The range function `name` (a RANGE_LOOPS key) over every series: for each, its steps
 * and values (views into `arena`), or null when it has none.
 */
export function evalRangeLoops(
  name: string, series: readonly { t: Float64Array; v: Float64Array }[], p: RangeParams, arena: StepArena,
): ({ steps: Int32Array; values: Float64Array } | null)[] {
  const out: ({ steps: Int32Array; values: Float64Array } | null)[] = new Array(series.length).fill(null);
  forEachRangeLoop(name, series, p, (i, steps, values, n) => {
    out[i] = arena.take(steps, values, n);
  });
  return out;
}

/**
 * Runs the range function `name` over every series and hands each result with at least one
 * step to `visit`, in series order (the arrays are reused: copy what is kept). Large
 * selections are split by samples: this thread takes the first part, the helper thread
 * (helper.ts) the rest, which is visited once it is done.
 */
export function forEachRangeLoop(
  name: string, series: readonly { t: Float64Array; v: Float64Array }[], p: RangeParams,
  visit: (index: number, steps: Int32Array, values: Float64Array, n: number) => void,
  fused: FusedSum | null = null,
): void {
  const loop = RANGE_LOOPS[name];
  let samples = 0;
  for (const s of series) samples += s.t.length;
  let split = series.length;
  let pending: { job: RangeJob; wait: Pending } | null = null;
  const h = FAST_PATHS.helperThread && samples >= PARALLEL_MIN_SAMPLES && series.length * p.numSteps <= PARALLEL_MAX_CELLS ? helper() : null;
  const direct = fused !== null && FUSED_SUM_LOOPS.has(name) ? fused : null;
  if (h && direct && splitByGroups(h, name, series, p, samples, direct)) return;
  if (h) {
    let sum = 0;
    split = 0;
    while (split < series.length && sum * 2 < samples) sum += series[split++].t.length;
    if (split < series.length) {
      const job = rangeJob(name, series, Int32Array.from({ length: series.length - split }, (_, k) => split + k), p, null);
      pending = { job, wait: h.submit(job) };
    }
  }
  const steps = new Int32Array(p.numSteps);
  const values = new Float64Array(p.numSteps);
  const input = direct ? rangeLoopInput(p, steps, values, direct.sum, direct.count) : rangeLoopInput(p, steps, values);
  const local = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      input.t = series[i].t;
      input.v = series[i].v;
      if (direct) {
        input.sumBase = direct.baseOf(i);
        if (loop(input) > 0) direct.added(i);
        continue;
      }
      const n = loop(input);
      if (n > 0) visit(i, steps, values, n);
    }
  };
  local(0, split);
  if (pending) {
    if (pending.wait.wait()) {
      HELPER_STATS.range++;
      const { outSteps, outValues, outCounts } = pending.job;
      const stepView = new Int32Array(outSteps);
      const valueView = new Float64Array(outValues);
      const counts = new Int32Array(outCounts, 0, pending.job.count);
      for (let i = split; i < series.length; i++) {
        const k = i - split;
        const n = counts[k];
        if (n > 0) {
          const at = k * p.numSteps;
          visit(i, stepView.subarray(at, at + n), valueView.subarray(at, at + n), n);
        }
      }
    } else {
      local(split, series.length);
    }
  } else if (split < series.length) {
    local(split, series.length);
  }
}

/**
 * A fused sum shared with the helper by whole groups: the helper evaluates every series of
 * some groups (about half the samples) and sums them into shared rows, in series order,
 * while this thread does the other groups; then its rows are copied over. Each cell sees
 * its series in the same order as on one thread, so the sums are the same bits, and
 * nothing is added on this thread after the wait. False (nothing done) with one group.
 */
function splitByGroups(
  h: { submit(job: HelperJob): Pending }, name: string, series: readonly { t: Float64Array; v: Float64Array }[],
  p: RangeParams, samples: number, direct: FusedSum,
): boolean {
  const G = direct.groups;
  if (G < 2) return false;
  const perGroup = new Float64Array(G);
  for (let i = 0; i < series.length; i++) perGroup[direct.group(i)] += series[i].t.length;
  // Helper rows: groups taken in order until they hold half the samples.
  const row = new Int32Array(G).fill(-1);
  let rows = 0;
  let taken = 0;
  for (let g = 0; g < G && taken * 2 < samples; g++) {
    if (perGroup[g] === 0) continue;
    row[g] = rows++;
    taken += perGroup[g];
  }
  if (rows === 0 || taken >= samples) return false;
  const picked: number[] = [];
  for (let i = 0; i < series.length; i++) if (row[direct.group(i)] >= 0) picked.push(i);
  const T = p.numSteps;
  const bases = Int32Array.from(picked, (i) => row[direct.group(i)] * T);
  const job = rangeJob(name, series, Int32Array.from(picked), p, { rows, bases });
  const wait = h.submit(job);

  const loop = RANGE_LOOPS[name];
  const values = new Float64Array(T);
  const input = rangeLoopInput(p, new Int32Array(T), values, direct.sum, direct.count);
  const had = new Uint8Array(series.length);
  /** The series of the helper's groups (true) or of this thread's (false), in order. */
  const local = (helpers: boolean) => {
    for (let i = 0; i < series.length; i++) {
      if ((row[direct.group(i)] >= 0) !== helpers) continue;
      input.t = series[i].t;
      input.v = series[i].v;
      input.sumBase = direct.baseOf(i);
      if (loop(input) > 0) had[i] = 1;
    }
  };
  local(false);
  if (wait.wait()) {
    HELPER_STATS.range++;
    const counts = new Int32Array(job.outCounts, 0, picked.length);
    for (let k = 0; k < picked.length; k++) if (counts[k] > 0) had[picked[k]] = 1;
    const sum = new Float64Array(job.sumRows!, 0, rows * T);
    const count = new Float64Array(job.countRows!, 0, rows * T);
    for (let g = 0; g < G; g++) {
      if (row[g] < 0) continue;
      const from = row[g] * T;
      direct.sum.set(sum.subarray(from, from + T), g * T);
      direct.count.set(count.subarray(from, from + T), g * T);
    }
  } else {
    // Those groups' rows are untouched here: summing their series now gives the same bits.
    local(true);
  }
  // Groups are ordered by their first series with a value: told in series order.
  for (let i = 0; i < series.length; i++) if (had[i]) direct.added(i);
  return true;
}

/**
 * A sum's running values (SeriesMajorAccumulator) that this thread's loops add into
 * directly: series i goes to row baseOf(i); added(i) is called after a series that added
 * anything. Series the helper thread evaluated still arrive through `visit`.
 */
export interface FusedSum {
  sum: Float64Array;
  count: Float64Array;
  /** Groups (rows), and series i's group: its row starts at baseOf(i) = group(i) × numSteps. */
  groups: number;
  group(index: number): number;
  baseOf(index: number): number;
  added(index: number): void;
}

/** The helper's part of a range-function evaluation, in shared memory. */
export interface RangeJob extends HelperJob {
  kind: 'range';
  name: string;
  params: RangeParams;
  /**
   * Series k's times: a view of tShared[tWhere[3k]] at element tWhere[3k + 1], tWhere[3k + 2]
   * long. Times that already live in shared memory (store-source.ts' millisecond cache and
   * its reads) are referenced where they are; the others are copied into tShared[0].
   */
  tShared: SharedArrayBuffer[];
  tWhere: Float64Array;
  v: SharedArrayBuffer;
  /** Series k's values are [offsets[k], offsets[k + 1]) of v. */
  offsets: SharedArrayBuffer;
  /** Series in the job (the buffers may be larger). */
  count: number;
  /**
   * A fused sum (splitByGroups): series k adds its values into row sumBases[k] of
   * sumRows/countRows (-0 and 0 to start with; numSteps cells a row) instead of writing them out; outCounts
   * still says how many steps had one. Null otherwise.
   */
  sumRows: SharedArrayBuffer | null;
  countRows: SharedArrayBuffer | null;
  sumBases: SharedArrayBuffer | null;
  /** Series k writes at k × numSteps. */
  outSteps: SharedArrayBuffer;
  outValues: SharedArrayBuffer;
  outCounts: SharedArrayBuffer;
}

function rangeJob(
  name: string, series: readonly { t: Float64Array; v: Float64Array }[], picked: Int32Array, params: RangeParams,
  fusedSum: { rows: number; bases: Int32Array } | null,
): RangeJob {
  const m = picked.length;
  let samples = 0;
  for (let k = 0; k < m; k++) samples += series[picked[k]].t.length;
  // Times already in shared memory are referenced, not copied; the others go into buffer 0.
  let copied = 0;
  for (let k = 0; k < m; k++) {
    const ts = series[picked[k]].t;
    if (!(ts.buffer instanceof SharedArrayBuffer)) copied += ts.length;
  }
  const t = sharedScratch('range.t', Math.max(8, copied * 8));
  const tView = new Float64Array(t, 0, copied);
  const tShared: SharedArrayBuffer[] = [t];
  const tWhere = new Float64Array(3 * m);
  const bufferIndex = new Map<SharedArrayBuffer, number>([[t, 0]]);
  const v = sharedScratch('range.v', samples * 8);
  const offsets = sharedScratch('range.offsets', (m + 1) * 4);
  const vView = new Float64Array(v, 0, samples);
  const offsetView = new Int32Array(offsets, 0, m + 1);
  let o = 0, c = 0;
  for (let k = 0; k < m; k++) {
    const s = series[picked[k]];
    const ts = s.t;
    if (ts.buffer instanceof SharedArrayBuffer) {
      let b = bufferIndex.get(ts.buffer);
      if (b === undefined) {
        b = tShared.length;
        bufferIndex.set(ts.buffer, b);
        tShared.push(ts.buffer);
      }
      tWhere[3 * k] = b;
      tWhere[3 * k + 1] = ts.byteOffset / 8;
    } else {
      tView.set(ts, c);
      tWhere[3 * k] = 0;
      tWhere[3 * k + 1] = c;
      c += ts.length;
    }
    tWhere[3 * k + 2] = ts.length;
    offsetView[k] = o;
    vView.set(s.v, o);
    o += ts.length;
  }
  offsetView[m] = o;
  let sumRows: SharedArrayBuffer | null = null;
  let countRows: SharedArrayBuffer | null = null;
  let sumBases: SharedArrayBuffer | null = null;
  if (fusedSum) {
    const cells = fusedSum.rows * params.numSteps;
    sumRows = sharedScratch('range.sumRows', cells * 8);
    countRows = sharedScratch('range.countRows', cells * 8);
    new Float64Array(sumRows, 0, cells).fill(-0);
    new Float64Array(countRows, 0, cells).fill(0);
    sumBases = sharedScratch('range.sumBases', m * 4);
    new Int32Array(sumBases, 0, m).set(fusedSum.bases);
  }
  // A fused job writes no steps or values: its output buffers are left empty.
  const outCells = fusedSum ? 0 : m * params.numSteps;
  return {
    kind: 'range', control: newControl(), name, params, tShared, tWhere, v, offsets, count: m,
    sumRows, countRows, sumBases,
    outSteps: sharedScratch('range.outSteps', outCells * 4),
    outValues: sharedScratch('range.outValues', outCells * 8),
    outCounts: sharedScratch('range.outCounts', m * 4),
  };
}

/** Runs a range job on the helper thread. */
export function runRangeJob(job: RangeJob): number {
  const loop = RANGE_LOOPS[job.name];
  const v = new Float64Array(job.v);
  const offsets = new Int32Array(job.offsets);
  const outSteps = new Int32Array(job.outSteps);
  const outValues = new Float64Array(job.outValues);
  const counts = new Int32Array(job.outCounts, 0, job.count);
  const T = job.params.numSteps;
  const fused = job.sumRows !== null && job.countRows !== null;
  const input = fused ? rangeLoopInput(job.params, outSteps, outValues, new Float64Array(job.sumRows!), new Float64Array(job.countRows!)) : rangeLoopInput(job.params, outSteps, outValues);
  const shared = job.tShared.map((b) => new Float64Array(b));
  const where = job.tWhere;
  const bases = job.sumBases ? new Int32Array(job.sumBases, 0, job.count) : null;
  for (let k = 0; k < counts.length; k++) {
    const at = where[3 * k + 1];
    input.t = shared[where[3 * k]].subarray(at, at + where[3 * k + 2]);
    input.v = v.subarray(offsets[k], offsets[k + 1]);
    if (bases) {
      input.sumBase = bases[k];
    } else {
      input.outSteps = outSteps.subarray(k * T, (k + 1) * T);
      input.outValues = outValues.subarray(k * T, (k + 1) * T);
    }
    counts[k] = loop(input);
  }
  return 0;
}
