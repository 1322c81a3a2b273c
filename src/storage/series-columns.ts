/**
 * A batch's series samples as columns: series k's samples are rows [start[k], start[k + 1])
 * of every column. What the metric-event grouper builds; the WAL encoder writes it with one
 * copy per column, and `seriesEntries` cuts it into per-series views for the store.
 */
import type { IngestBatch, SampleIds, SeriesEntry } from './events.ts';
import type { SeriesHeader } from './header-cache.ts';

export interface SeriesColumns {
  series: SeriesHeader[];
  /** series.length + 1 row offsets. */
  start: Int32Array;
  timestamps: Float64Array;
  values: Float64Array;
  /** Id codes of every row (0 = none), when any row has one. */
  ids?: SampleIds;
}

export function seriesEntries(c: SeriesColumns): SeriesEntry[] {
  const entries: SeriesEntry[] = new Array(c.series.length);
  for (let k = 0; k < c.series.length; k++) {
    const { metric, unit, labels } = c.series[k]!;
    const from = c.start[k]!, to = c.start[k + 1]!;
    const ids: SampleIds | undefined = c.ids && { dictionary: c.ids.dictionary, trace: c.ids.trace.subarray(from, to), span: c.ids.span.subarray(from, to) };
    entries[k] = { metric, labels, unit, timestamps: c.timestamps.subarray(from, to), values: c.values.subarray(from, to), ids };
  }
  return entries;
}

/** Every series entry of a batch, its columns cut into entries too. */
export function allSeriesEntries(batch: { series: SeriesEntry[]; columns?: SeriesColumns }): SeriesEntry[] {
  return batch.columns ? [...batch.series, ...seriesEntries(batch.columns)] : batch.series;
}

/** A fast decoder's columns (with their TTL) as a batch of per-series entries; null stays null. */
export function columnsBatch(body: { ttlSeconds: number; columns: SeriesColumns } | null): IngestBatch | null {
  return body && { ttlSeconds: body.ttlSeconds, events: [], series: seriesEntries(body.columns) };
}
