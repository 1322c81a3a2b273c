import { goParseFloat } from './gostrconv.ts';
import { BUCKET_LABEL, labelsKey, METRIC_NAME, type Labels } from './labels.ts';
import { bucketQuantile, type Bucket } from './quantile.ts';
import { SeriesCollector, StepCursor, type Grid, type StepSeries, type StepSeriesBuilder } from './vector.ts';

/**
 * histogram_quantile(φ, buckets) over classic histograms: at each step, the samples that
 * differ only in `le` form one histogram (the metric name still tells histograms apart),
 * and the result carries their labels without `le` and __name__. Samples whose `le` is
 * missing or not a float are skipped, as in Prometheus.
 */
export function histogramQuantile(q: Float64Array, input: readonly StepSeries[], grid: Grid): StepSeries[] {
  const collector = new SeriesCollector(grid.numSteps);
  const upperBound = new Float64Array(input.length);
  const histogramOf = new Int32Array(input.length).fill(-1);
  const histogramLabels: Labels[] = [];
  const ids = new Map<string, number>();
  input.forEach((s, i) => {
    const le = goParseFloat(s.labels.find((l) => l.name === BUCKET_LABEL)?.value ?? '');
    if (le === undefined) return;
    upperBound[i] = le;
    const withoutLe = s.labels.filter((l) => l.name !== BUCKET_LABEL);
    const key = labelsKey(withoutLe);
    let id = ids.get(key);
    if (id === undefined) {
      id = histogramLabels.length;
      ids.set(key, id);
      histogramLabels.push(withoutLe.filter((l) => l.name !== METRIC_NAME));
    }
    histogramOf[i] = id;
  });

  const outputs: (StepSeriesBuilder | undefined)[] = new Array(histogramLabels.length);
  const buckets: Bucket[][] = histogramLabels.map(() => []);
  const stamp = new Int32Array(histogramLabels.length);
  const ordered: number[] = [];
  const cursor = new StepCursor(input);
  for (let step = 0; step < grid.numSteps; step++) {
    cursor.advance(step);
    ordered.length = 0;
    for (let k = 0; k < cursor.count; k++) {
      const i = cursor.present[k];
      const h = histogramOf[i];
      if (h < 0) continue;
      if (stamp[h] !== step + 1) {
        stamp[h] = step + 1;
        buckets[h] = [];
        ordered.push(h);
      }
      buckets[h].push({ upperBound: upperBound[i], count: cursor.values[k] });
    }
    for (const h of ordered) {
      const labels = histogramLabels[h];
      outputs[h] ??= collector.builderFor(labels, labelsKey(labels));
      outputs[h].push(step, bucketQuantile(q[step], buckets[h]));
    }
  }
  return collector.finish().filter((s) => s.steps.length > 0);
}
