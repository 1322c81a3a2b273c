/**
 * The series registry: label sets <-> dense series ids, plus the postings index over
 * them. A series is its metric name (label `__name__`) and its labels; ids are handed
 * out in increasing order and never reused, so postings lists stay sorted by appending.
 */
import { insertionOrderKey, pairsKey } from './label-key.ts';
import { Postings } from './postings.ts';

export type Labels = Record<string, string>;

export interface SeriesInfo {
  id: number;
  /** Sorted by name, including __name__. */
  labels: [string, string][];
  unit: string;
  /** Latest expiry (µs) of any sample appended; past it the series has no live data. */
  maxExpiry: number;
  /** Set when the series is forgotten (removeExpired): a cached reference to it is stale. */
  removed: boolean;
}

/** What a series name object remembers of its series in one registry (seriesOf). */
export interface SeriesMemo {
  registry: SeriesRegistry;
  info: SeriesInfo;
}

/**
 * A series as ingest names it. Decoders hand out the same object for a repeated label set
 * (header-cache.ts), so the registry leaves its answer on the object: the next batch's
 * lookup is a field read, not a hash lookup.
 */
export interface SeriesName {
  metric: string;
  unit?: string | undefined;
  labels: Labels;
  seriesMemo?: SeriesMemo | undefined;
}

export class SeriesRegistry {
  private readonly byKey = new Map<string, number>();
  /**
   * Label sets as ingest sends them (property order kept) -> id: a repeated label set costs
   * one Map lookup instead of a sort and a canonical key. Senders keep a stable order, so
   * this holds about one entry per series; it is cleared when series are removed.
   */
  private readonly byInsertionKey = new Map<string, number>();
  /**
   * Label objects ingest hands over again and again (the fast msgpack path keeps one per label
   * set it has seen) -> their series: a repeated label set is one WeakMap lookup.
   */
  private readonly byLabelsObject = new WeakMap<Labels, { metric: string; info: SeriesInfo }>();
  private readonly byId = new Map<number, SeriesInfo>();
  readonly postings = new Postings();
  private nextId = 0;

  /** Id of the series, created if new. `labels` must include __name__. */
  getOrCreate(labels: Labels, unit = ''): number {
    const fastKey = insertionOrderKey(labels);
    let id = this.byInsertionKey.get(fastKey);
    if (id === undefined) {
      id = this.getOrCreateSorted(labels);
      if (this.byInsertionKey.size > 2 * this.byId.size + 1024) this.byInsertionKey.clear();
      this.byInsertionKey.set(fastKey, id);
    }
    if (unit) (this.byId.get(id) as SeriesInfo).unit = unit;
    return id;
  }

  /** Id of the series `metric` + `labels` (labels without __name__), created if new. */
  getOrCreateSeries(metric: string, labels: Labels, unit = ''): number {
    return this.seriesInfo(metric, labels, unit).id;
  }

  /**
   * getOrCreateSeries' series itself, for callers that also note its expiry: a repeated labels
   * object costs one WeakMap lookup and nothing else.
   */
  seriesInfo(metric: string, labels: Labels, unit = ''): SeriesInfo {
    const cached = this.byLabelsObject.get(labels);
    if (cached !== undefined && cached.metric === metric && !cached.info.removed) {
      if (unit) cached.info.unit = unit;
      return cached.info;
    }
    const info = this.byId.get(this.getOrCreate({ ...labels, __name__: metric }, unit)) as SeriesInfo;
    this.byLabelsObject.set(labels, { metric, info });
    return info;
  }

  /** seriesInfo for a series name object, remembered on the object for this registry. */
  seriesOf(name: SeriesName): SeriesInfo {
    const memo = name.seriesMemo;
    if (memo !== undefined && memo.registry === this && !memo.info.removed) {
      if (name.unit) memo.info.unit = name.unit;
      return memo.info;
    }
    const info = this.seriesInfo(name.metric, name.labels, name.unit ?? '');
    name.seriesMemo = { registry: this, info };
    return info;
  }

  private getOrCreateSorted(labels: Labels): number {
    const sorted = sortedLabels(labels);
    const key = pairsKey(sorted);
    let id = this.byKey.get(key);
    if (id === undefined) {
      id = this.nextId++;
      this.byKey.set(key, id);
      this.byId.set(id, { id, labels: sorted, unit: '', maxExpiry: -Infinity, removed: false });
      this.postings.addSeries(id, sorted);
    }
    return id;
  }

  lookup(labels: Labels): number | undefined {
    return this.byKey.get(pairsKey(sortedLabels(labels)));
  }

  info(id: number): SeriesInfo | undefined {
    return this.byId.get(id);
  }

  labelsOf(id: number): Labels {
    const out: Labels = {};
    const info = this.byId.get(id);
    if (info) for (const [n, v] of info.labels) out[n] = v;
    return out;
  }

  noteExpiry(id: number, expiry: number): void {
    const info = this.byId.get(id);
    if (info) raiseExpiry(info, expiry);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Forgets series with no live sample left (head GC), keeping memory flat under churn. */
  removeExpired(now: number): number {
    const dead: number[] = [];
    for (const info of this.byId.values()) if (info.maxExpiry <= now) dead.push(info.id);
    if (dead.length === 0) return 0;
    this.byInsertionKey.clear();
    const deadLabels: [string, string][][] = [];
    for (const id of dead) {
      const info = this.byId.get(id) as SeriesInfo;
      info.removed = true;
      this.byId.delete(id);
      this.byKey.delete(pairsKey(info.labels));
      deadLabels.push(info.labels);
    }
    this.postings.remove(Uint32Array.from(dead), deadLabels);
    return dead.length;
  }
}

/** A series now has a sample that lives until `expiry` (µs). */
export function raiseExpiry(info: SeriesInfo, expiry: number): void {
  if (expiry > info.maxExpiry) info.maxExpiry = expiry;
}

export function sortedLabels(labels: Labels): [string, string][] {
  return Object.entries(labels).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

