/**
 * OTLP/JSON ExportMetricsServiceRequest -> series samples (SPEC §3), named and labelled as
 * Prometheus' OTLP receiver does: a point's labels are the resource attributes overlaid by
 * its own; sum and gauge points are samples of `<name>`; a histogram point is the cumulative
 * `<name>_bucket{le="…"}` samples (ending with `le="+Inf"`), `<name>_sum` and `<name>_count`;
 * a summary point is `<name>{quantile="…"}`, `_sum` and `_count`. Exponential histograms
 * are not supported: their points are rejected and counted (OTLP partial success).
 */
import type { SeriesEntry } from '../storage/events.ts';
import {
  arrayField, flattenAttributes, forEachItem, nanosToMicros, noteRejected, numberField, objectAt, OtlpShapeError, stringField,
  type Json, type OtlpConversion,
} from './otlp-values.ts';
import type { Attributes } from './schema.ts';
import { SeriesGrouper } from './series-grouper.ts';

/** DataPointFlags.FLAG_NO_RECORDED_VALUE: a point that marks a gap, with no value. */
const NO_RECORDED_VALUE = 1;

interface Sample {
  name: string;
  labels: Attributes;
  unit: string;
  value: number;
}

type PointReader = (point: Json, name: string, unit: string, labels: Attributes, at: string) => Sample[];

const READERS: Record<string, PointReader> = {
  gauge: numberPoint,
  sum: numberPoint,
  histogram: histogramPoint,
  summary: summaryPoint,
};

export function otlpMetricsToSeries(body: unknown): OtlpConversion<SeriesEntry[]> {
  const grouper = new SeriesGrouper();
  const result: OtlpConversion<SeriesEntry[]> = { items: [], rejected: 0 };
  // A metric without a readable name or kind is rejected as one, however many points it has.
  forEachItem(body, 'Metrics', 'metrics', result, (metric, resourceAttributes, at) => readMetric(metric, resourceAttributes, at, grouper, result));
  result.items = grouper.samples > 0 ? grouper.finish() : [];
  return result;
}

function readMetric(value: unknown, resourceAttributes: Attributes, at: string, grouper: SeriesGrouper, result: OtlpConversion<unknown>): void {
  const metric = objectAt(value, at);
  const name = stringField(metric, 'name', at);
  if (name === '') throw new OtlpShapeError(`${at}.name`, 'expected a non-empty metric name');
  const unit = stringField(metric, 'unit', at, false);
  const kind = Object.keys(READERS).find((k) => metric[k] !== undefined && metric[k] !== null);
  if (!kind) {
    const points = metric.exponentialHistogram ? arrayField(objectAt(metric.exponentialHistogram, at), 'dataPoints', at).length : 0;
    result.rejected += points;
    if (points > 0) result.firstProblem ??= `${at}: exponential histograms are not supported`;
    return;
  }
  const dataAt = `${at}.${kind}`;
  const points = arrayField(objectAt(metric[kind], dataAt), 'dataPoints', dataAt);
  for (let p = 0; p < points.length; p++) {
    const pointAt = `${dataAt}.dataPoints[${p}]`;
    try {
      const point = objectAt(points[p], pointAt);
      if ((Number(point.flags ?? 0) & NO_RECORDED_VALUE) !== 0) continue;
      const ts = nanosToMicros(point.timeUnixNano, `${pointAt}.timeUnixNano`);
      const labels = flattenAttributes(arrayField(point, 'attributes', pointAt), `${pointAt}.attributes`, { ...resourceAttributes });
      // Read the whole point before adding any of it, so a bad point is rejected whole.
      for (const sample of READERS[kind]!(point, name, unit, labels, pointAt)) {
        grouper.add(sample.name, sample.labels, sample.unit, ts, sample.value);
      }
    } catch (error) {
      noteRejected(result, error);
    }
  }
}

/** proto3 JSON leaves zero values out, so a point with neither field is 0. */
function numberPoint(point: Json, name: string, unit: string, labels: Attributes, at: string): Sample[] {
  const value = numberField(point, 'asDouble', at) ?? numberField(point, 'asInt', at) ?? 0;
  return [{ name, labels, unit, value }];
}

function histogramPoint(point: Json, name: string, unit: string, labels: Attributes, at: string): Sample[] {
  const counts = arrayField(point, 'bucketCounts', at);
  const bounds = arrayField(point, 'explicitBounds', at);
  if (counts.length > 0 && counts.length !== bounds.length + 1) {
    throw new OtlpShapeError(`${at}.bucketCounts`, `expected ${bounds.length + 1} counts (explicitBounds + 1), got ${counts.length}`);
  }
  const samples: Sample[] = [];
  let cumulative = 0;
  for (let i = 0; i < counts.length; i++) {
    cumulative += numberField({ c: counts[i] }, 'c', `${at}.bucketCounts[${i}]`) ?? 0;
    const le = i < bounds.length ? formatBound(numberField({ b: bounds[i] }, 'b', `${at}.explicitBounds[${i}]`) ?? 0) : '+Inf';
    samples.push({ name: `${name}_bucket`, labels: { ...labels, le }, unit: '', value: cumulative });
  }
  samples.push(...sumAndCount(point, name, unit, labels, at));
  return samples;
}

function summaryPoint(point: Json, name: string, unit: string, labels: Attributes, at: string): Sample[] {
  const quantiles = arrayField(point, 'quantileValues', at);
  const samples: Sample[] = quantiles.map((value, i) => {
    const q = objectAt(value, `${at}.quantileValues[${i}]`);
    const quantile = formatBound(numberField(q, 'quantile', `${at}.quantileValues[${i}]`) ?? 0);
    return { name, labels: { ...labels, quantile }, unit, value: numberField(q, 'value', `${at}.quantileValues[${i}]`) ?? 0 };
  });
  samples.push(...sumAndCount(point, name, unit, labels, at));
  return samples;
}

function sumAndCount(point: Json, name: string, unit: string, labels: Attributes, at: string): Sample[] {
  const samples: Sample[] = [];
  const sum = numberField(point, 'sum', at);
  if (sum !== undefined) samples.push({ name: `${name}_sum`, labels, unit, value: sum });
  samples.push({ name: `${name}_count`, labels, unit: '', value: numberField(point, 'count', at) ?? 0 });
  return samples;
}

/** Bucket bounds and quantiles as Prometheus prints them: shortest round-trip decimal, `+Inf`. */
function formatBound(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
