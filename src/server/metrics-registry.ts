/**
 * strata's own metrics in the Prometheus text exposition format 0.0.4: counters, gauges (set
 * directly or computed by a callback at scrape time) and fixed-bucket histograms, each with
 * optional labels. Label values are given positionally, in the order of `labelNames`, and each
 * label combination's child is cached, so recording on a hot path is one Map lookup.
 */

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Prometheus client defaults: 5 ms to 10 s, suited to request latencies in seconds. */
export const DEFAULT_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface MetricOptions {
  name: string;
  help: string;
  labelNames?: readonly string[];
}

export interface GaugeOptions extends MetricOptions {
  /** Called on every render so the value is read from its source instead of being mirrored. */
  collect?: (gauge: Gauge) => void;
}

export interface HistogramOptions extends MetricOptions {
  buckets?: readonly number[];
}

export class CounterChild {
  value = 0;
  inc(amount = 1): void {
    if (!(amount >= 0)) throw new RangeError(`counter increment must be >= 0, got ${amount}`);
    this.value += amount;
  }
}

export class GaugeChild {
  value = 0;
  set(value: number): void { this.value = value; }
  inc(amount = 1): void { this.value += amount; }
  dec(amount = 1): void { this.value -= amount; }
}

export class HistogramChild {
  /** Per-bucket (non-cumulative) counts; the last slot is the +Inf bucket. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly upperBounds: readonly number[]) {
    this.counts = new Float64Array(upperBounds.length + 1);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.upperBounds.length && value > this.upperBounds[i]!) i++;
    this.counts[i]! += 1;
    this.sum += value;
    this.count += 1;
  }
}

abstract class Metric<Child> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  protected readonly children = new Map<string, { labelValues: string[]; child: Child }>();

  constructor(options: MetricOptions) {
    if (!METRIC_NAME.test(options.name)) throw new Error(`invalid metric name: ${options.name}`);
    for (const label of options.labelNames ?? []) {
      if (!LABEL_NAME.test(label) || label.startsWith('__')) throw new Error(`invalid label name: ${label}`);
    }
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames ?? [];
  }

  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  protected abstract newChild(): Child;
  abstract renderSamples(lines: string[]): void;

  labels(...labelValues: string[]): Child {
    if (labelValues.length !== this.labelNames.length) {
      throw new Error(`${this.name} expects ${this.labelNames.length} label values, got ${labelValues.length}`);
    }
    const key = labelValues.join('\u0000');
    let entry = this.children.get(key);
    if (!entry) {
      entry = { labelValues, child: this.newChild() };
      this.children.set(key, entry);
    }
    return entry.child;
  }

  /** Drops every label combination, e.g. before a collect callback re-reports the current ones. */
  reset(): void {
    this.children.clear();
  }

  protected labelText(labelValues: readonly string[], extra?: string): string {
    const parts = labelValues.map((value, i) => `${this.labelNames[i]}="${escapeLabelValue(value)}"`);
    if (extra !== undefined) parts.push(extra);
    return parts.length === 0 ? '' : `{${parts.join(',')}}`;
  }
}

export class Counter extends Metric<CounterChild> {
  readonly type = 'counter';
  protected newChild(): CounterChild { return new CounterChild(); }
  inc(amount = 1): void { this.labels().inc(amount); }
  renderSamples(lines: string[]): void {
    for (const { labelValues, child } of this.children.values()) {
      lines.push(`${this.name}${this.labelText(labelValues)} ${formatNumber(child.value)}`);
    }
  }
}

export class Gauge extends Metric<GaugeChild> {
  readonly type = 'gauge';
  private readonly collect?: (gauge: Gauge) => void;
  constructor(options: GaugeOptions) {
    super(options);
    this.collect = options.collect;
  }
  protected newChild(): GaugeChild { return new GaugeChild(); }
  set(value: number): void { this.labels().set(value); }
  inc(amount = 1): void { this.labels().inc(amount); }
  dec(amount = 1): void { this.labels().dec(amount); }
  renderSamples(lines: string[]): void {
    this.collect?.(this);
    for (const { labelValues, child } of this.children.values()) {
      lines.push(`${this.name}${this.labelText(labelValues)} ${formatNumber(child.value)}`);
    }
  }
}

export class Histogram extends Metric<HistogramChild> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];
  constructor(options: HistogramOptions) {
    super(options);
    if (this.labelNames.includes('le')) throw new Error(`histogram ${options.name} cannot use the label "le"`);
    const buckets = options.buckets ?? DEFAULT_LATENCY_BUCKETS;
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i]! > buckets[i - 1]!)) throw new Error(`histogram ${options.name} buckets must increase`);
    }
    this.buckets = buckets.filter((b) => b !== Infinity);
  }
  protected newChild(): HistogramChild { return new HistogramChild(this.buckets); }
  observe(value: number): void { this.labels().observe(value); }
  renderSamples(lines: string[]): void {
    for (const { labelValues, child } of this.children.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.buckets.length; i++) {
        cumulative += child.counts[i]!;
        const le = i < this.buckets.length ? formatNumber(this.buckets[i]!) : '+Inf';
        lines.push(`${this.name}_bucket${this.labelText(labelValues, `le="${le}"`)} ${formatNumber(cumulative)}`);
      }
      lines.push(`${this.name}_sum${this.labelText(labelValues)} ${formatNumber(child.sum)}`);
      lines.push(`${this.name}_count${this.labelText(labelValues)} ${formatNumber(child.count)}`);
    }
  }
}

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric<unknown>>();

  counter(options: MetricOptions): Counter {
    return this.register(new Counter(options));
  }

  gauge(options: GaugeOptions): Gauge {
    return this.register(new Gauge(options));
  }

  histogram(options: HistogramOptions): Histogram {
    return this.register(new Histogram(options));
  }

  render(): string {
    const lines: string[] = [];
    for (const metric of this.metrics.values()) {
      lines.push(`# HELP ${metric.name} ${escapeHelp(metric.help)}`);
      lines.push(`# TYPE ${metric.name} ${metric.type}`);
      metric.renderSamples(lines);
    }
    return lines.length === 0 ? '' : lines.join('\n') + '\n';
  }

  private register<M extends Metric<unknown>>(metric: M): M {
    if (this.metrics.has(metric.name)) throw new Error(`metric already registered: ${metric.name}`);
    this.metrics.set(metric.name, metric);
    return metric;
  }
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatNumber(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
