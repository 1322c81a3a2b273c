/**
 * A series' samples in time order with one sample per timestamp: of equal timestamps the
 * last written wins (visit order is write order), as a sample written again replaces the
 * first in Prometheus.
 */

/** What a times-only read hands out as a series' values. */
export const NO_VALUES = new Float64Array(0);

/**
 * A stable sort (when not `ordered`), then of equal timestamps the last. `values` may be
 * NO_VALUES: then only the times are put in order.
 */
export function sortKeepingLast(ts: Float64Array, values: Float64Array, ordered: boolean): [Float64Array, Float64Array] {
  if (ordered) return keepingLast(ts, values, null);
  const idx = Array.from({ length: ts.length }, (_, i) => i);
  idx.sort((a, b) => ts[a] - ts[b] || a - b);
  return keepingLast(ts, values, Int32Array.from(idx));
}

/**
 * What sortKeepingLast(ts, values, false) gives, for rows that are runs each already in time
 * order: run r is rows [runStart[r], runStart[r + 1]). The slices of a series from successive
 * segments and the head are such runs, overlapping only when samples came out of order across
 * a seal; merging them (ties to the earlier run) is one pass instead of a comparator sort of
 * every row.
 */
export function mergeRunsKeepingLast(ts: Float64Array, values: Float64Array, runStart: Int32Array, runs: number): [Float64Array, Float64Array] {
  const n = ts.length;
  const cursor = runStart.slice(0, runs);
  const order = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    let best = -1;
    let t = 0;
    for (let r = 0; r < runs; r++) {
      const c = cursor[r]!;
      if (c < runStart[r + 1]! && (best < 0 || ts[c]! < t)) {
        best = r;
        t = ts[c]!;
      }
    }
    order[k] = cursor[best]!++;
  }
  return keepingLast(ts, values, order);
}

/** The rows in `order` (all rows when null), already in time order, keeping the last of equal times. */
function keepingLast(ts: Float64Array, values: Float64Array, order: Int32Array | null): [Float64Array, Float64Array] {
  const n = ts.length;
  const withValues = values.length > 0;
  const outTs = new Float64Array(n);
  const outValues = withValues ? new Float64Array(n) : NO_VALUES;
  let m = 0;
  for (let k = 0; k < n; k++) {
    const i = order ? order[k]! : k;
    const t = ts[i]!;
    if (m > 0 && outTs[m - 1] === t) {
      if (withValues) outValues[m - 1] = values[i]!;
      continue;
    }
    outTs[m] = t;
    if (withValues) outValues[m] = values[i]!;
    m++;
  }
  return [outTs.subarray(0, m), withValues ? outValues.subarray(0, m) : NO_VALUES];
}
