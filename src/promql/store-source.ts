/**
 * The store as the PromQL engine and the Prometheus HTTP API see it: a SampleSource over
 * the series registry, its postings and the metric table, with Prometheus' naming rules.
 *
 * Names. Prometheus metric names are `[a-zA-Z_:][a-zA-Z0-9_:]*` and label names
 * `[a-zA-Z_][a-zA-Z0-9_]*`; strata keeps whatever names were ingested (`model.id`,
 * `llm.tokens`). The Prometheus view sanitises them: every character outside the allowed
 * set becomes `_` (one `_` per code point), a name starting with a digit gets a `_` in
 * front, an empty name is `_`. Label values are never changed. Matchers address the
 * sanitised names: `{model_id="x"}` finds a series whose raw label is `model.id`, and
 * `{__name__="llm_tokens"}` one whose raw metric name is `llm.tokens`.
 *
 * Collisions. Two raw label names of one series that sanitise alike (`model.id` and
 * `model_id`): the one that is already valid wins, else the smallest raw name (byte
 * order); the others are not part of the Prometheus view. A raw label that would become
 * `__name__` is dropped (the metric name wins). Two series whose sanitised label sets are
 * equal are one series in the Prometheus view: their samples are merged, and at a
 * timestamp both have, the series created later wins.
 *
 * Samples. The store keeps integer microseconds; PromQL has integer milliseconds, so a
 * sample's time is floor(µs / 1000). Two samples of a series at the same millisecond
 * (written twice, or less than 1 ms apart) are one: the last written wins, as a
 * Prometheus TSDB keeps one sample per timestamp. Expired samples are never returned.
 *
 * Reading. One postings selection per selector, then one pass per series over its slices
 * (sealed segments in seal order, then the head). A series that is one slice of a sealed
 * segment is handed out in place: a view of the segment's values and of its times in
 * milliseconds, which are computed once per segment and cached (256 MiB by default, least
 * recently used out first; segments never change, and a dropped segment's entry goes with
 * it; in shared memory, so the engine's helper thread reads them without a copy). Other
 * series are copied into one preallocated pair of Float64Arrays for the whole selection.
 * Slices arrive time-ordered unless samples were written out of order across seals: the
 * copy detects that and then sorts (stably, so the last written still wins).
 * The engine never writes into what select() returns.
 */
import { compileMatcher, type CompiledMatcher, type Matcher } from '../index/matcher.ts';
import type { SeriesRegistry } from '../index/series.ts';
import type { SliceVisitor } from '../storage/metric-segment.ts';
import { intersect, unionAll } from '../storage/sorted-ids.ts';
import { compareStrings, METRIC_NAME } from './labels.ts';
import { mergeRunsKeepingLast, NO_VALUES, sortKeepingLast } from './series-order.ts';
import type { SampleSource, SeriesData } from './source.ts';

/** What StoreSource needs of the Store (src/store.ts implements it). */
export interface MetricStore {
  readonly series: SeriesRegistry;
  /** The sealed segments, whose arrays never change (their millisecond times are cached). */
  readonly metrics: { readonly segments: readonly { readonly ts: Float64Array }[] };
  /** Microseconds now. */
  clock(): number;
  selectSeries(matchers: Matcher[]): Uint32Array;
  visitSeries(seriesId: number, minTs: number, maxTs: number, visit: SliceVisitor): void;
}

/** A metric name as Prometheus allows it: `[a-zA-Z_:][a-zA-Z0-9_:]*`. */
export function sanitizeMetricName(name: string): string {
  return sanitize(name, true);
}

/** A label name as Prometheus allows it: `[a-zA-Z_][a-zA-Z0-9_]*`. */
export function sanitizeLabelName(name: string): string {
  return sanitize(name, false);
}

const VALID_METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const VALID_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function sanitize(name: string, colons: boolean): string {
  if ((colons ? VALID_METRIC_NAME : VALID_LABEL_NAME).test(name)) return name;
  if (name === '') return '_';
  let out = '';
  for (const ch of name) {
    const c = ch.charCodeAt(0);
    const ok = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || (colons && c === 58);
    out += ok ? ch : '_';
  }
  const first = out.charCodeAt(0);
  return first >= 48 && first <= 57 ? '_' + out : out;
}

/** One series in the Prometheus view. */
interface SeriesView {
  /** Sanitised labels, `__name__` included, empty values left out. */
  labels: Record<string, string>;
  /** True when sanitising changed a name or dropped a label. */
  changed: boolean;
  /** A key of the sanitised label set (only built when merging needs it). */
  key?: string;
}

/** The raw names behind the sanitised ones, for one query. */
interface NameMaps {
  /** Sanitised label name -> raw label names (only names that are not valid as they are, or that collide). */
  labelAliases: Map<string, string[]>;
  /** Raw metric names that are not valid Prometheus names, or null when every one is. */
  invalidMetricNames: string[] | null;
}

const EMPTY_IDS = new Uint32Array(0);

export class StoreSource implements SampleSource {
  /** Sanitised views by series id: ids are never reused and label sets never change. */
  private readonly views = new Map<number, SeriesView>();
  private namesCacheKey = '';
  private namesCache: { labelAliases: Map<string, string[]>; } | null = null;
  private metricNamesCache: { count: number; invalid: string[] | null; all: string[] } | null = null;

  private readonly millis: SegmentMillis;

  /** `cacheBytes`: budget of the segments' millisecond times (default 256 MiB). */
  constructor(private readonly store: MetricStore, opts: { cacheBytes?: number } = {}) {
    this.millis = new SegmentMillis(opts.cacheBytes ?? 256 * 1024 * 1024);
  }

  /** Series matching every matcher (sanitised names) with their samples in [minMs, maxMs]. */
  select(matchers: Matcher[], minMs: number, maxMs: number, timesOnly = false): SeriesData[] {
    const { ids, postFilter } = this.selectIds(matchers);
    if (ids.length === 0) return [];
    const views: SeriesView[] = [];
    const selected: number[] = [];
    let anyChanged = false;
    for (let i = 0; i < ids.length; i++) {
      const view = this.view(ids[i]);
      if (postFilter.length && !matchesAll(postFilter, view.labels)) continue;
      views.push(view);
      selected.push(ids[i]);
      if (view.changed) anyChanged = true;
    }
    // Merging equal label sets picks values by time: it needs them.
    const out = this.readSamples(selected, views, minMs, maxMs, timesOnly && !anyChanged);
    return anyChanged ? mergeEqualLabelSets(out, views) : out;
  }

  /** Label sets (sanitised) of the series matching any of the matcher sets, with a sample in [minMs, maxMs]. */
  series(matcherSets: Matcher[][], minMs: number, maxMs: number): Record<string, string>[] {
    const out = new Map<string, Record<string, string>>();
    for (const id of this.idsForSets(matcherSets, minMs, maxMs)) {
      const view = this.view(id);
      const key = viewKey(view);
      if (!out.has(key)) out.set(key, view.labels);
    }
    return [...out.values()].sort(compareLabelRecords);
  }

  /** Sanitised label names of the series matching any matcher set (all series when none), sorted. */
  labelNames(matcherSets: Matcher[][], minMs: number, maxMs: number): string[] {
    if (matcherSets.length === 0 && !isBounded(minMs, maxMs)) {
      const names = new Set<string>();
      const postings = this.store.series.postings;
      for (const raw of postings.labelNames()) {
        // A name that only ever has the empty value is no label in Prometheus' eyes.
        if (raw === METRIC_NAME || postings.labelValues(raw).some((v) => v !== '')) names.add(this.labelNameFor(raw));
      }
      return [...names].sort(compareStrings);
    }
    const names = new Set<string>();
    for (const id of this.idsForSets(matcherSets, minMs, maxMs)) for (const name in this.view(id).labels) names.add(name);
    return [...names].sort(compareStrings);
  }

  /** Values of the sanitised label `name` among the series matching any matcher set (all when none), sorted. */
  labelValues(name: string, matcherSets: Matcher[][], minMs: number, maxMs: number): string[] {
    const values = new Set<string>();
    if (matcherSets.length === 0 && !isBounded(minMs, maxMs)) {
      const postings = this.store.series.postings;
      if (name === METRIC_NAME) {
        for (const raw of this.metricNames().all) values.add(sanitizeMetricName(raw));
        return [...values].sort(compareStrings);
      }
      const raws = this.rawLabelNames(name);
      if (raws.length <= 1) {
        for (const v of postings.labelValues(raws[0] ?? name)) if (v !== '') values.add(v);
        return [...values].sort(compareStrings);
      }
      // Several raw names: which one a series shows depends on the series (collision policy).
      matcherSets = [[{ name, op: '!=', value: '' }]];
    }
    for (const id of this.idsForSets(matcherSets, minMs, maxMs)) {
      const v = this.view(id).labels[name];
      if (v !== undefined) values.add(v);
    }
    return [...values].sort(compareStrings);
  }

  /** Units of the series of every (sanitised) metric name; `metric` limits it to one name. */
  metricUnits(metric?: string): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    const postings = this.store.series.postings;
    const registry = this.store.series;
    for (const raw of this.metricNames().all) {
      const name = sanitizeMetricName(raw);
      if (metric !== undefined && name !== metric) continue;
      let units = out.get(name);
      if (!units) out.set(name, (units = new Set()));
      for (const id of postings.get(METRIC_NAME, raw)) units.add(registry.info(id)?.unit ?? '');
    }
    return out;
  }

  // ---- selection ----

  /**
   * Series ids for matchers on sanitised names. Matchers whose name is used raw go to
   * the postings as they are; a name that stands for other raw names is renamed (one raw
   * name) or applied to the sanitised view afterwards (several); `__name__` matchers,
   * when some raw metric names are not valid, resolve through the sanitised names.
   */
  private selectIds(matchers: Matcher[]): { ids: Uint32Array; postFilter: CompiledMatcher[] } {
    const maps = this.nameMaps();
    const direct: Matcher[] = [];
    const postFilter: CompiledMatcher[] = [];
    const idSets: Uint32Array[] = [];
    for (const m of matchers) {
      if (m.name === METRIC_NAME) {
        if (maps.invalidMetricNames === null) direct.push(m);
        else idSets.push(this.metricNameIds(compileMatcher(m)));
        continue;
      }
      const raws = maps.labelAliases.get(m.name);
      if (raws === undefined) direct.push(m);
      else if (raws.length === 1) direct.push({ ...m, name: raws[0] });
      else postFilter.push(compileMatcher(m));
    }
    let ids: Uint32Array;
    if (direct.length > 0 || idSets.length === 0) {
      ids = this.store.selectSeries(direct);
    } else {
      ids = idSets.shift()!;
    }
    for (const set of idSets) {
      if (ids.length === 0) break;
      ids = intersect(ids, set);
    }
    return { ids, postFilter };
  }

  /** Series whose sanitised metric name satisfies `m`. */
  private metricNameIds(m: CompiledMatcher): Uint32Array {
    const postings = this.store.series.postings;
    const lists: Uint32Array[] = [];
    for (const raw of this.metricNames().all) {
      if (m.matches(sanitizeMetricName(raw))) lists.push(postings.get(METRIC_NAME, raw));
    }
    return lists.length ? unionAll(lists) : EMPTY_IDS;
  }

  /** Ids of the series matching any of the sets (all series when there is none) with a sample in [minMs, maxMs]. */
  private idsForSets(matcherSets: Matcher[][], minMs: number, maxMs: number): number[] {
    let ids: Uint32Array;
    if (matcherSets.length === 0) {
      ids = this.store.series.postings.allIds();
    } else {
      const lists: Uint32Array[] = [];
      for (const set of matcherSets) {
        const { ids: candidates, postFilter } = this.selectIds(set);
        if (postFilter.length === 0) lists.push(candidates);
        else lists.push(Uint32Array.from(candidates.filter((id) => matchesAll(postFilter, this.view(id).labels))));
      }
      ids = unionAll(lists);
    }
    const out: number[] = [];
    const bounded = isBounded(minMs, maxMs);
    const { minUs, maxUs } = microsRange(minMs, maxMs);
    for (let i = 0; i < ids.length; i++) {
      if (!bounded || this.hasSample(ids[i], minUs, maxUs)) out.push(ids[i]);
    }
    return out;
  }

  private hasSample(id: number, minUs: number, maxUs: number): boolean {
    let found = false;
    this.store.visitSeries(id, minUs, maxUs, () => {
      found = true;
    });
    return found;
  }

  // ---- names ----

  /** The label-name aliases, rebuilt when the set of raw label names changes. */
  private nameMaps(): NameMaps {
    const rawNames = this.store.series.postings.labelNames();
    const key = rawNames.join('\u0000');
    if (this.namesCache === null || key !== this.namesCacheKey) {
      const bySanitised = new Map<string, string[]>();
      for (const raw of rawNames) {
        if (raw === METRIC_NAME) continue;
        const name = sanitizeLabelName(raw);
        const list = bySanitised.get(name);
        if (list) list.push(raw);
        else bySanitised.set(name, [raw]);
      }
      const labelAliases = new Map<string, string[]>();
      for (const [name, raws] of bySanitised) {
        if (raws.length > 1 || raws[0] !== name) labelAliases.set(name, raws);
      }
      this.namesCache = { labelAliases };
      this.namesCacheKey = key;
    }
    return { labelAliases: this.namesCache.labelAliases, invalidMetricNames: this.metricNames().invalid };
  }

  /** Raw metric names, and those among them that are not valid Prometheus names. */
  private metricNames(): { all: string[]; invalid: string[] | null } {
    const all = this.store.series.postings.labelValues(METRIC_NAME);
    const cached = this.metricNamesCache;
    if (cached && cached.count === all.length && sameStrings(cached.all, all)) return cached;
    const invalid = all.filter((n) => !VALID_METRIC_NAME.test(n));
    const fresh = { count: all.length, all, invalid: invalid.length ? invalid : null };
    this.metricNamesCache = fresh;
    return fresh;
  }

  private labelNameFor(raw: string): string {
    return raw === METRIC_NAME ? raw : sanitizeLabelName(raw);
  }

  private rawLabelNames(name: string): string[] {
    return this.nameMaps().labelAliases.get(name) ?? [name];
  }

  /** The sanitised view of one series, built once. */
  private view(id: number): SeriesView {
    let view = this.views.get(id);
    if (view) return view;
    const info = this.store.series.info(id);
    view = info ? sanitizedView(info.labels) : { labels: {}, changed: false };
    if (this.views.size > 2 * this.store.series.size + 1024) this.views.clear();
    this.views.set(id, view);
    return view;
  }

  // ---- samples ----

  /** Reads the samples of `ids` in [minMs, maxMs]; series without any are left out. `timesOnly`: values empty, not copied. */
  private readSamples(ids: number[], views: SeriesView[], minMs: number, maxMs: number, timesOnly: boolean): (SeriesData & { view: SeriesView; id: number })[] {
    const { minUs, maxUs } = microsRange(minMs, maxMs);
    const msViews = this.segmentMillis();
    // Pass 1: the slices of every series (arrays, start, end); those read in place need no room.
    const slices = sliceScratch;
    slices.reset();
    const firstSlice = new Int32Array(ids.length + 1);
    const visit: SliceVisitor = (ts, values, start, end) => slices.push(ts, values, start, end);
    let copied = 0;
    for (let i = 0; i < ids.length; i++) {
      const first = (firstSlice[i] = slices.length);
      this.store.visitSeries(ids[i], minUs, maxUs, visit);
      const n = slices.length - first;
      if (n === 1 && msViews.inPlace(slices.ts[first])) continue;
      for (let k = first; k < slices.length; k++) copied += slices.end[k] - slices.start[k];
    }
    firstSlice[ids.length] = slices.length;
    const allTs = new Float64Array(copied);
    const allValues = timesOnly ? NO_VALUES : new Float64Array(copied);
    // Pass 2: views into the segments' millisecond times where a series is one slice of a
    // segment; else a copy (µs -> ms), checking order, fixing the rare unordered or duplicated series.
    const out: (SeriesData & { view: SeriesView; id: number })[] = [];
    let offset = 0;
    let runStart = new Int32Array(16);
    for (let i = 0; i < ids.length; i++) {
      const first = firstSlice[i];
      const last = firstSlice[i + 1];
      if (last === first) continue;
      if (last - first === 1) {
        const ms = msViews.inPlace(slices.ts[first]);
        if (ms) {
          const start = slices.start[first];
          const end = slices.end[first];
          out.push({ labels: views[i].labels, timestamps: ms.subarray(start, end), values: timesOnly ? NO_VALUES : slices.values[first].subarray(start, end), view: views[i], id: ids[i] });
          continue;
        }
      }
      const from = offset;
      if (runStart.length < last - first + 1) runStart = new Int32Array(2 * (last - first + 1));
      const order = copySlices(slices, first, last, msViews, allTs, timesOnly ? null : allValues, from, runStart);
      offset = from + runStart[last - first]!;
      let timestamps: Float64Array = allTs.subarray(from, offset);
      let values: Float64Array = timesOnly ? NO_VALUES : allValues.subarray(from, offset);
      if (order === UNORDERED_SLICES) [timestamps, values] = mergeRunsKeepingLast(timestamps, values, runStart, last - first);
      else if (order !== ORDERED) [timestamps, values] = sortKeepingLast(timestamps, values, order === DUPLICATES);
      out.push({ labels: views[i].labels, timestamps, values, view: views[i], id: ids[i] });
    }
    slices.release();
    msViews.release();
    return out;
  }

  /** The millisecond times of the sealed segments (cached) for one read. */
  private segmentMillis(): SegmentMillis {
    this.millis.refresh(this.store.metrics.segments);
    return this.millis;
  }
}

/** How a series' copied samples came out: in order, with repeated times, with slices out of order with each other, or with a slice out of order in itself. */
const ORDERED = 0, DUPLICATES = 1, UNORDERED_SLICES = 2, UNORDERED = 3;

/**
 * Copies slices [first, last) of one series into `allTs` (ms) and `allValues` from `from`
 * on, recording where each slice's rows begin in `runStart` (relative to `from`, one more
 * entry for the end); returns their order. A function of its own, called per series, so
 * that V8 optimises it within a query's first few hundred series (a loop inside a function
 * that runs once per query would run interpreted until replaced on the stack).
 */
function copySlices(slices: SliceList, first: number, last: number, msViews: SegmentMillis, allTs: Float64Array, allValues: Float64Array | null, from: number, runStart: Int32Array): number {
  let offset = from;
  let ordered = true;
  let slicesOrdered = true;
  let duplicates = false;
  let prev = -Infinity;
  for (let s = first; s < last; s++) {
    const ts = slices.ts[s]!;
    const values = slices.values[s]!;
    const end = slices.end[s]!;
    const ms = msViews.millis(ts);
    runStart[s - first] = offset - from;
    for (let r = slices.start[s]!; r < end; r++) {
      const t = ms !== null ? ms[r]! : Math.floor(ts[r]! / 1000);
      if (t <= prev) {
        if (t < prev) {
          ordered = false;
          if (r > slices.start[s]!) slicesOrdered = false;
        } else duplicates = true;
      }
      prev = t;
      allTs[offset] = t;
      if (allValues !== null) allValues[offset] = values[r]!;
      offset++;
    }
  }
  runStart[last - first] = offset - from;
  if (!ordered) return slicesOrdered ? UNORDERED_SLICES : UNORDERED;
  return duplicates ? DUPLICATES : ORDERED;
}

/** A sealed segment's times in milliseconds, and whether every series in it can be read in place. */
interface MillisEntry {
  ms: Float64Array;
  /** No two adjacent rows share a millisecond: a series' slice has strictly increasing times. */
  strictlyIncreasing: boolean;
  lastUsed: number;
}

/**
 * floor(µs / 1000) of every row of the sealed segments that queries read, computed once
 * per segment (segments never change) and kept within a byte budget, least recently used
 * out first; entries of dropped segments go at the next read. Slices of the head, which
 * changes, are always converted as they are read.
 */
class SegmentMillis {
  private readonly entries = new Map<Float64Array, MillisEntry>();
  private segments = new Set<Float64Array>();
  private bytes = 0;
  private clock = 0;

  constructor(private readonly maxBytes: number) {}

  refresh(segments: readonly { ts: Float64Array }[]): void {
    this.clock++;
    this.segments = new Set(segments.map((s) => s.ts));
    for (const [ts, entry] of this.entries) {
      if (!this.segments.has(ts)) {
        this.entries.delete(ts);
        this.bytes -= entry.ms.byteLength;
      }
    }
  }

  /** The ms times of a sealed segment's rows, or null (head slices, or over the budget). */
  millis(ts: Float64Array): Float64Array | null {
    return this.entry(ts)?.ms ?? null;
  }

  /** The ms times when a slice of `ts` can be handed out as a view (strictly increasing), else null. */
  inPlace(ts: Float64Array): Float64Array | null {
    const entry = this.entry(ts);
    return entry && entry.strictlyIncreasing ? entry.ms : null;
  }

  release(): void {
    this.segments = new Set();
  }

  private entry(ts: Float64Array): MillisEntry | undefined {
    let entry = this.entries.get(ts);
    if (entry) {
      entry.lastUsed = this.clock;
      return entry;
    }
    if (!this.segments.has(ts) || ts.byteLength > this.maxBytes) return undefined;
    while (this.bytes + ts.byteLength > this.maxBytes) this.evictOne();
    // In shared memory: the helper thread reads series' times in place (range-loops.ts).
    const ms = new Float64Array(new SharedArrayBuffer(ts.byteLength));
    let strictlyIncreasing = true;
    // In chunks: a function called many times is optimised after the first few (see copySlices).
    for (let from = 0; from < ts.length; from += MILLIS_CHUNK) {
      if (!toMillis(ts, ms, from, Math.min(ts.length, from + MILLIS_CHUNK))) strictlyIncreasing = false;
    }
    entry = { ms, strictlyIncreasing, lastUsed: this.clock };
    this.entries.set(ts, entry);
    this.bytes += ms.byteLength;
    return entry;
  }

  private evictOne(): void {
    let oldest: Float64Array | null = null;
    let oldestUse = Infinity;
    for (const [ts, e] of this.entries) {
      if (e.lastUsed < oldestUse) {
        oldest = ts;
        oldestUse = e.lastUsed;
      }
    }
    if (oldest === null) return;
    this.bytes -= this.entries.get(oldest)!.ms.byteLength;
    this.entries.delete(oldest);
  }
}

const MILLIS_CHUNK = 16_384;

/**
 * ms[i] = floor(ts[i] / 1000) for i in [from, to); false when two neighbours (the one before
 * `from` included) share a millisecond. Across a series boundary the times restart, so only
 * equal neighbours can be a repeat.
 */
function toMillis(ts: Float64Array, ms: Float64Array, from: number, to: number): boolean {
  let strictlyIncreasing = true;
  let prev = from > 0 ? ms[from - 1]! : NaN;
  for (let i = from; i < to; i++) {
    const t = Math.floor(ts[i]! / 1000);
    if (t === prev) strictlyIncreasing = false;
    ms[i] = t;
    prev = t;
  }
  return strictlyIncreasing;
}

/** A growable list of slices, reused across queries (one select runs at a time: the engine is synchronous). */
class SliceList {
  ts: Float64Array[] = [];
  values: Float64Array[] = [];
  start = new Int32Array(1024);
  end = new Int32Array(1024);
  length = 0;

  reset(): void {
    this.length = 0;
  }

  push(ts: Float64Array, values: Float64Array, start: number, end: number): void {
    const n = this.length;
    if (n === this.start.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.start = grow(this.start);
      this.end = grow(this.end);
    }
    this.ts[n] = ts;
    this.values[n] = values;
    this.start[n] = start;
    this.end[n] = end;
    this.length = n + 1;
  }

  totalRows(): number {
    let n = 0;
    for (let i = 0; i < this.length; i++) n += this.end[i] - this.start[i];
    return n;
  }

  /** Drops the references to the store's arrays, so a dropped segment is not kept alive. */
  release(): void {
    this.ts.length = 0;
    this.values.length = 0;
    this.length = 0;
  }
}

const sliceScratch = new SliceList();

/** The sanitised label record of raw sorted labels, with the collision policy. */
function sanitizedView(raw: readonly [string, string][]): SeriesView {
  const labels: Record<string, string> = {};
  /** Which raw name supplied each sanitised name. */
  const source = new Map<string, string>();
  let changed = false;
  for (const [rawName, value] of raw) {
    if (value === '') continue;
    if (rawName === METRIC_NAME) {
      const name = sanitizeMetricName(value);
      if (name !== value) changed = true;
      labels[METRIC_NAME] = name;
      continue;
    }
    const name = sanitizeLabelName(rawName);
    if (name !== rawName) changed = true;
    if (name === METRIC_NAME) continue;
    const previous = source.get(name);
    // Raw names come sorted, so the first seen is the smallest; a valid raw name beats it.
    if (previous !== undefined && previous === name) continue;
    if (previous !== undefined && rawName !== name) continue;
    labels[name] = value;
    source.set(name, rawName);
  }
  return { labels, changed };
}

function viewKey(view: SeriesView): string {
  if (view.key !== undefined) return view.key;
  const names = Object.keys(view.labels).sort(compareStrings);
  // Joined, not `+=`: the key is kept with the view, and a concatenation would stay a tree of
  // string objects for every full GC to mark.
  const key = names.map((n) => n + '\u0000' + view.labels[n] + '\u0001').join('');
  view.key = key;
  return key;
}

/** Series whose sanitised label sets are equal become one (the later series wins at shared timestamps). */
function mergeEqualLabelSets(series: (SeriesData & { view: SeriesView; id: number })[], _views: SeriesView[]): SeriesData[] {
  const groups = new Map<string, (SeriesData & { id: number })[]>();
  for (const s of series) {
    const key = viewKey(s.view);
    const group = groups.get(key);
    if (group) group.push(s);
    else groups.set(key, [s]);
  }
  const out: SeriesData[] = [];
  for (const group of groups.values()) {
    if (group.length === 1) {
      out.push(group[0]);
      continue;
    }
    group.sort((a, b) => a.id - b.id);
    let n = 0;
    for (const s of group) n += s.timestamps.length;
    const ts = new Float64Array(n);
    const values = new Float64Array(n);
    const runStart = new Int32Array(group.length + 1);
    let o = 0;
    for (let g = 0; g < group.length; g++) {
      const s = group[g];
      runStart[g] = o;
      ts.set(s.timestamps, o);
      values.set(s.values, o);
      o += s.timestamps.length;
    }
    runStart[group.length] = o;
    // Each series is in order already (readSamples): a merge, the later series winning ties.
    const [sortedTs, sortedValues] = mergeRunsKeepingLast(ts, values, runStart, group.length);
    out.push({ labels: group[0].labels, timestamps: sortedTs, values: sortedValues });
  }
  return out;
}

function matchesAll(matchers: CompiledMatcher[], labels: Record<string, string>): boolean {
  for (const m of matchers) if (!m.matches(labels[m.name] ?? '')) return false;
  return true;
}

/** The µs range holding exactly the samples whose millisecond is in [minMs, maxMs]. */
function microsRange(minMs: number, maxMs: number): { minUs: number; maxUs: number } {
  return {
    minUs: Number.isFinite(minMs) ? Math.ceil(minMs) * 1000 : minMs,
    maxUs: Number.isFinite(maxMs) ? Math.floor(maxMs) * 1000 + 999 : maxMs,
  };
}

function isBounded(minMs: number, maxMs: number): boolean {
  return Number.isFinite(minMs) || Number.isFinite(maxMs);
}

function sameStrings(a: string[], b: string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function compareLabelRecords(a: Record<string, string>, b: Record<string, string>): number {
  const an = Object.keys(a).sort(compareStrings);
  const bn = Object.keys(b).sort(compareStrings);
  const n = Math.min(an.length, bn.length);
  for (let i = 0; i < n; i++) {
    const byName = compareStrings(an[i], bn[i]);
    if (byName !== 0) return byName;
    const byValue = compareStrings(a[an[i]], b[bn[i]]);
    if (byValue !== 0) return byValue;
  }
  return an.length - bn.length;
}
