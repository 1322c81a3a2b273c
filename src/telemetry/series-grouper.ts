/**
 * Metric events regrouped into series columns: the samples of a batch that share a metric,
 * a label set and a unit become one SeriesEntry. The store then resolves each series once
 * per batch and appends a run, and the WAL stores two Float64Arrays per series instead of an
 * object per event. Meaning is unchanged: a series entry is defined as the equivalent metric
 * events (SPEC §3), in arrival order within each series.
 *
 * Samples are collected in arrival order into flat columns with a group index each; `finish`
 * counts the groups and scatters the samples into one buffer per column, handing every
 * series a view of its slice: a few allocations per batch plus one small object per series.
 * Trace and span ids travel as codes into one dictionary per batch.
 */
import { keyPart } from '../index/label-key.ts';
import type { SeriesEntry } from '../storage/events.ts';
import { metricEventLabels } from '../storage/events.ts';
import { IdDictionaryBuilder } from '../storage/sample-ids.ts';
import { seriesHeader, type SeriesHeader } from '../storage/header-cache.ts';
import { seriesEntries, type SeriesColumns } from '../storage/series-columns.ts';
import type { Attributes } from './schema.ts';

interface Group {
  header: SeriesHeader;
  count: number;
}

export class SeriesGrouper {
  private readonly groupOf = new Map<string, number>();
  private readonly groups: Group[] = [];
  private sampleGroup: Int32Array;
  private ts: Float64Array;
  private values: Float64Array;
  private traceCodes: Uint32Array;
  private spanCodes: Uint32Array;
  /** The batch's trace and span ids; every entry's codes index this one dictionary. */
  readonly ids = new IdDictionaryBuilder();
  /** Whether any sample carried a trace or span id: without, entries carry no id columns. */
  private withIds = false;
  private length = 0;

  constructor(expectedSamples = 16) {
    const capacity = Math.max(1, expectedSamples);
    this.sampleGroup = new Int32Array(capacity);
    this.ts = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
    this.traceCodes = new Uint32Array(capacity);
    this.spanCodes = new Uint32Array(capacity);
  }

  get samples(): number {
    return this.length;
  }

  /** One sample of the series named by metric + attributes (as labels) + unit. */
  add(
    metric: string, attributes: Attributes | null | undefined, unit: string, ts: number, value: number,
    traceId: string | null = null, spanId: string | null = null,
  ): void {
    this.addToGroup(this.groupFor(metric, attributes, unit), ts, value, this.ids.code(traceId), this.ids.code(spanId));
  }

  /**
   * A new series for callers that tell series apart themselves (the fast msgpack path, which
   * hands the same header object for a label set batch after batch: the registry and the
   * limits keep their answers on it); returns its group.
   */
  newGroup(header: SeriesHeader): number {
    this.groups.push({ header, count: 0 });
    return this.groups.length - 1;
  }

  /** One sample of a group from `newGroup` (or `add`); ids as codes from `this.ids` (0 = none). */
  addToGroup(group: number, ts: number, value: number, traceCode: number, spanCode: number): void {
    const i = this.length;
    if (i === this.ts.length) this.grow();
    this.sampleGroup[i] = group;
    this.ts[i] = ts;
    this.values[i] = value;
    this.traceCodes[i] = traceCode;
    this.spanCodes[i] = spanCode;
    if ((traceCode | spanCode) !== 0) this.withIds = true;
    this.groups[group]!.count++;
    this.length = i + 1;
  }

  /** The series entries, in order of each series' first sample. */
  finish(): SeriesEntry[] {
    return seriesEntries(this.finishColumns());
  }

  /** The samples as columns, series after series in order of each series' first sample. */
  finishColumns(): SeriesColumns {
    const n = this.length;
    const groups = this.groups;
    const start = new Int32Array(groups.length + 1);
    for (let g = 0; g < groups.length; g++) start[g + 1] = start[g]! + groups[g]!.count;
    const cursor = start.slice(0, groups.length);
    const ts = new Float64Array(n);
    const values = new Float64Array(n);
    const withIds = this.withIds;
    const traceCodes = new Uint32Array(withIds ? n : 0);
    const spanCodes = new Uint32Array(withIds ? n : 0);
    for (let i = 0; i < n; i++) {
      const at = cursor[this.sampleGroup[i]!]!++;
      ts[at] = this.ts[i]!;
      values[at] = this.values[i]!;
      if (withIds) {
        traceCodes[at] = this.traceCodes[i]!;
        spanCodes[at] = this.spanCodes[i]!;
      }
    }
    const columns: SeriesColumns = { series: groups.map((g) => g.header), start, timestamps: ts, values };
    if (withIds) columns.ids = { dictionary: this.ids.dictionary, trace: traceCodes, span: spanCodes };
    return columns;
  }

  private groupFor(metric: string, attributes: Attributes | null | undefined, unit: string): number {
    let key = keyPart(metric) + keyPart(unit);
    if (attributes) {
      for (const name in attributes) {
        const value = attributes[name];
        if (value === null || value === undefined || name.startsWith('__')) continue;
        key += keyPart(name) + keyPart(typeof value === 'string' ? value : String(value));
      }
    }
    let group = this.groupOf.get(key);
    if (group === undefined) {
      group = this.newGroup(seriesHeader(metric, unit, metricEventLabels(attributes)));
      this.groupOf.set(key, group);
    }
    return group;
  }

  private grow(): void {
    const capacity = this.ts.length * 2;
    this.sampleGroup = grown(this.sampleGroup, new Int32Array(capacity));
    this.ts = grown(this.ts, new Float64Array(capacity));
    this.values = grown(this.values, new Float64Array(capacity));
    this.traceCodes = grown(this.traceCodes, new Uint32Array(capacity));
    this.spanCodes = grown(this.spanCodes, new Uint32Array(capacity));
  }
}


function grown<T extends Int32Array | Uint32Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
