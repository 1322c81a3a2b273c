import { compileMatcher, type CompiledMatcher, type Matcher } from '../index/matcher.ts';

/** One series as the PromQL engine reads it: its labels and its samples in time order. */
export interface SeriesData {
  labels: Record<string, string> /* includes __name__ */;
  timestamps: Float64Array /* ms, ascending */;
  values: Float64Array;
}

/** The only way the PromQL engine reads data; the store implements it, tests use ArraySource. */
export interface SampleSource {
  /**
   * Series matching all matchers with their samples in [minMs, maxMs] (both inclusive),
   * time-ordered. `timesOnly`: the caller reads no values (count_over_time), and a source may
   * leave them out (an empty `values`) to read less.
   */
  select(matchers: Matcher[], minMs: number, maxMs: number, timesOnly?: boolean): SeriesData[];
}

/**
 * An in-memory SampleSource over whole series. select() returns zero-copy subarray views
 * of the stored samples and leaves out series with no sample in the window, as a TSDB
 * querier would.
 */
export class ArraySource implements SampleSource {
  private readonly series: SeriesData[];

  constructor(series: SeriesData[]) {
    for (const s of series) assertTimeOrdered(s);
    this.series = series;
  }

  select(matchers: Matcher[], minMs: number, maxMs: number): SeriesData[] {
    const compiled = matchers.map(compileMatcher);
    const out: SeriesData[] = [];
    for (const s of this.series) {
      if (!matchesAll(compiled, s.labels)) continue;
      const from = lowerBound(s.timestamps, minMs);
      const to = upperBound(s.timestamps, maxMs);
      if (to <= from) continue;
      out.push({ labels: s.labels, timestamps: s.timestamps.subarray(from, to), values: s.values.subarray(from, to) });
    }
    return out;
  }
}

function matchesAll(matchers: CompiledMatcher[], labels: Record<string, string>): boolean {
  for (const m of matchers) {
    if (!m.matches(labels[m.name] ?? '')) return false;
  }
  return true;
}

function assertTimeOrdered(s: SeriesData): void {
  if (s.timestamps.length !== s.values.length) {
    throw new Error(`series ${JSON.stringify(s.labels)}: ${s.timestamps.length} timestamps but ${s.values.length} values`);
  }
  for (let i = 1; i < s.timestamps.length; i++) {
    if (!(s.timestamps[i] > s.timestamps[i - 1])) {
      throw new Error(`series ${JSON.stringify(s.labels)}: timestamps must be strictly ascending (index ${i})`);
    }
  }
}

/** Index of the first element >= x. */
export function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element > x. */
export function upperBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
