import type { Labels } from './labels.ts';
import { labelsKey } from './labels.ts';
import { SeriesCollector, StepCursor, type Grid, type StepSeries } from './vector.ts';

/**
 * Applies a per-sample function to an instant vector: fn gets a sample's value and step
 * and returns the new value, or undefined to drop the sample. relabel maps each series'
 * labels (e.g. dropping __name__). When relabelling makes two series equal, they merge,
 * and meeting at one step is an error, as in Prometheus.
 */
export function mapVector(
  input: readonly StepSeries[],
  grid: Grid,
  relabel: (labels: Labels) => Labels,
  fn: (value: number, step: number) => number | undefined,
): StepSeries[] {
  const outLabels = input.map((s) => relabel(s.labels));
  const outKeys = outLabels.map((l, i) => (l === input[i].labels ? input[i].key : labelsKey(l)));
  if (new Set(outKeys).size === outKeys.length) {
    return input.map((s, i) => mapSeries(s, outLabels[i], outKeys[i], fn)).filter((s) => s.steps.length > 0);
  }
  const collector = new SeriesCollector(grid.numSteps);
  const builders = outLabels.map((l, i) => collector.builderFor(l, outKeys[i]));
  const cursor = new StepCursor(input);
  for (let step = 0; step < grid.numSteps; step++) {
    cursor.advance(step);
    for (let k = 0; k < cursor.count; k++) {
      const v = fn(cursor.values[k], step);
      if (v !== undefined) builders[cursor.present[k]].push(step, v);
    }
  }
  return collector.finish().filter((s) => s.steps.length > 0);
}

/** The fast path: series keep distinct label sets, so each maps on its own. */
function mapSeries(
  s: StepSeries,
  labels: Labels,
  key: string,
  fn: (value: number, step: number) => number | undefined,
): StepSeries {
  const steps = new Int32Array(s.steps.length);
  const values = new Float64Array(s.steps.length);
  let n = 0;
  for (let i = 0; i < s.steps.length; i++) {
    const v = fn(s.values[i], s.steps[i]);
    if (v === undefined) continue;
    steps[n] = s.steps[i];
    values[n] = v;
    n++;
  }
  return n === steps.length ? { labels, key, steps, values } : { labels, key, steps: steps.slice(0, n), values: values.slice(0, n) };
}
