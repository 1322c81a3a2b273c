import { goFormatFloat } from './gostrconv.ts';
import { compareLabels, labelsToRecord } from './labels.ts';
import { stepTime, type Grid, type RangeSeries, type StepSeries } from './vector.ts';

/** `[unix seconds, "value"]`, the pair shape of Prometheus' HTTP API. */
export type SamplePair = [number, string];

export interface VectorSample {
  metric: Record<string, string>;
  value: SamplePair;
}

export interface MatrixSeries {
  metric: Record<string, string>;
  values: SamplePair[];
}

export type QueryResult =
  | { resultType: 'vector'; result: VectorSample[] }
  | { resultType: 'matrix'; result: MatrixSeries[] }
  | { resultType: 'scalar'; result: SamplePair }
  | { resultType: 'string'; result: [number, string] };

/**
 * A sample value as the HTTP API prints it in vectors and matrices (util/jsonutil
 * MarshalValue): shortest round-trip digits, exponent form below 1e-6 and from 1e21 on.
 */
export function formatSampleValue(v: number): string {
  // The common case first: on [1e-6, 1e21) Number#toString prints the same shortest digits in plain notation.
  if ((v >= 1e-6 && v < 1e21) || (v <= -1e-6 && v > -1e21)) return String(v);
  const abs = Math.abs(v);
  return goFormatFloat(v, abs !== 0 && (abs < 1e-6 || abs >= 1e21) ? 'e' : 'f');
}

/** A scalar result's value: Scalar.MarshalJSON always uses plain notation. */
export function formatScalarValue(v: number): string {
  return goFormatFloat(v, 'f');
}

export function toSeconds(ms: number): number {
  return ms / 1000;
}

/** An instant query's vector: one sample per series, stamped with the evaluation time. */
export function vectorResult(series: readonly StepSeries[], timeMs: number): QueryResult {
  return {
    resultType: 'vector',
    result: series.map((s) => ({ metric: labelsToRecord(s.labels), value: [toSeconds(timeMs), formatSampleValue(s.values[0])] })),
  };
}

/** A range query's matrix: series ordered by label set, as Prometheus sorts them. */
export function stepMatrixResult(series: readonly StepSeries[], grid: Grid): QueryResult {
  const sorted = sortByLabels(series);
  return {
    resultType: 'matrix',
    result: sorted.map((s) => ({
      metric: labelsToRecord(s.labels),
      values: Array.from(s.steps, (step, i): SamplePair => [toSeconds(stepTime(grid, step)), formatSampleValue(s.values[i])]),
    })),
  };
}

/** Series ordered by label set (labels.Compare), as Prometheus orders a range query's matrix. */
export function sortByLabels(series: readonly StepSeries[]): StepSeries[] {
  return [...series].sort((a, b) => compareLabels(a.labels, b.labels));
}

/** A range selector in an instant query: raw samples with their own timestamps. */
export function rawMatrixResult(series: readonly RangeSeries[]): QueryResult {
  return {
    resultType: 'matrix',
    result: series.map((s) => ({
      metric: labelsToRecord(s.labels),
      values: Array.from(s.timestamps, (t, i): SamplePair => [toSeconds(t), formatSampleValue(s.values[i])]),
    })),
  };
}
