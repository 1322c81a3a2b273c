/**
 * Storage for the step series one operator produces: each series' steps and values are
 * copied into large shared chunks and handed out as views, so a query over thousands of
 * series allocates a few buffers instead of two per series (less work for the collector).
 * A chunk lives as long as any series viewing it, i.e. for the query.
 */
const CHUNK = 1 << 16;

export class StepArena {
  private steps = new Int32Array(0);
  private values = new Float64Array(0);
  private used = 0;

  /** The first n entries of steps/values, copied; views into a chunk for small series. */
  take(steps: Int32Array, values: Float64Array, n: number): { steps: Int32Array; values: Float64Array } {
    if (n > CHUNK / 8) return { steps: steps.slice(0, n), values: values.slice(0, n) };
    if (this.used + n > this.steps.length) {
      this.steps = new Int32Array(CHUNK);
      this.values = new Float64Array(CHUNK);
      this.used = 0;
    }
    const from = this.used;
    const to = from + n;
    this.steps.set(n === steps.length ? steps : steps.subarray(0, n), from);
    this.values.set(n === values.length ? values : values.subarray(0, n), from);
    this.used = to;
    return { steps: this.steps.subarray(from, to), values: this.values.subarray(from, to) };
  }
}
