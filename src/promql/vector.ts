import { executionError } from './errors.ts';
import type { Labels } from './labels.ts';

/**
 * The step grid of a query: an instant query is a grid of one step. Every expression is
 * evaluated once over the whole grid (as Prometheus' rangeEval does), so selectors read
 * storage once per query and operators loop over steps with moving cursors.
 */
export interface Grid {
  startMs: number;
  stepMs: number;
  numSteps: number;
}

export function stepTime(grid: Grid, step: number): number {
  return grid.startMs + step * grid.stepMs;
}

/** One series of an instant-vector expression over the grid: the steps where it has a value. */
export interface StepSeries {
  labels: Labels;
  /** labelsKey(labels), computed once. */
  key: string;
  /** Ascending step indices. */
  steps: Int32Array;
  values: Float64Array;
}

/** Raw samples of one series in a range-vector window (a range selector in an instant query). */
export interface RangeSeries {
  labels: Labels;
  timestamps: Float64Array;
  values: Float64Array;
}

export type Value =
  | { type: 'scalar'; values: Float64Array }
  | { type: 'vector'; series: StepSeries[] }
  | { type: 'matrix'; series: RangeSeries[] }
  | { type: 'string'; value: string };

const SAME_LABELSET = 'vector cannot contain metrics with the same labelset';

/** Accumulates one output series step by step in growable typed arrays. */
export class StepSeriesBuilder {
  private steps: Int32Array;
  private values: Float64Array;
  private length = 0;
  /** The last step written, to catch two samples with one label set at the same step. */
  lastStep = -1;

  constructor(
    readonly labels: Labels,
    readonly key: string,
    private readonly maxLength: number,
  ) {
    const initial = Math.min(maxLength, 16);
    this.steps = new Int32Array(initial);
    this.values = new Float64Array(initial);
  }

  push(step: number, value: number): void {
    if (step === this.lastStep) throw executionError(SAME_LABELSET);
    if (this.length === this.steps.length) this.grow();
    this.steps[this.length] = step;
    this.values[this.length] = value;
    this.length++;
    this.lastStep = step;
  }

  finish(): StepSeries {
    return {
      labels: this.labels,
      key: this.key,
      steps: this.steps.slice(0, this.length),
      values: this.values.slice(0, this.length),
    };
  }

  private grow(): void {
    const size = Math.min(this.maxLength, Math.max(16, this.steps.length * 2));
    const steps = new Int32Array(size);
    const values = new Float64Array(size);
    steps.set(this.steps);
    values.set(this.values);
    this.steps = steps;
    this.values = values;
  }
}

/**
 * Gathers an operator's per-step output into series. Samples with equal label sets at
 * different steps join one series (as Prometheus merges its output by label hash); at
 * the same step they are an error. Series keep the order in which they first appeared,
 * which for an instant query is Prometheus' evaluation order.
 */
export class SeriesCollector {
  private readonly byKey = new Map<string, StepSeriesBuilder>();
  private readonly order: StepSeriesBuilder[] = [];

  constructor(private readonly numSteps: number) {}

  builderFor(labels: Labels, key: string): StepSeriesBuilder {
    let b = this.byKey.get(key);
    if (!b) {
      b = new StepSeriesBuilder(labels, key, this.numSteps);
      this.byKey.set(key, b);
      this.order.push(b);
    }
    return b;
  }

  finish(): StepSeries[] {
    return this.order.map((b) => b.finish());
  }
}

/**
 * Walks the series of an instant vector step by step. After advance(step), `present`
 * holds the indices of the series with a value at that step (in series order) and
 * `values` their values. Steps must be visited in increasing order.
 */
export class StepCursor {
  readonly present: Int32Array;
  readonly values: Float64Array;
  count = 0;
  private readonly positions: Int32Array;

  constructor(readonly series: readonly StepSeries[]) {
    this.present = new Int32Array(series.length);
    this.values = new Float64Array(series.length);
    this.positions = new Int32Array(series.length);
  }

  advance(step: number): void {
    let n = 0;
    const series = this.series;
    for (let i = 0; i < series.length; i++) {
      const s = series[i];
      let p = this.positions[i];
      while (p < s.steps.length && s.steps[p] < step) p++;
      if (p < s.steps.length && s.steps[p] === step) {
        this.present[n] = i;
        this.values[n] = s.values[p];
        n++;
        p++;
      }
      this.positions[i] = p;
    }
    this.count = n;
  }
}

/** Matrix.ContainsSameLabelset: two series of one result may not share a label set. */
export function assertDistinctLabelSets(series: readonly { key: string }[]): void {
  const seen = new Set<string>();
  for (const s of series) {
    if (seen.has(s.key)) throw executionError(SAME_LABELSET);
    seen.add(s.key);
  }
}
