import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../src/server/metrics-registry.ts';

describe('MetricsRegistry', () => {
  it('renders counters with HELP, TYPE and escaped label values', () => {
    const registry = new MetricsRegistry();
    const counter = registry.counter({ name: 'strata_events_total', help: 'Events ingested.\nBy kind.', labelNames: ['kind'] });
    counter.labels('metric').inc();
    counter.labels('metric').inc(2);
    counter.labels('a "quoted"\\ \nvalue').inc();
    expect(registry.render()).toBe([
      '# HELP strata_events_total Events ingested.\\nBy kind.',
      '# TYPE strata_events_total counter',
      'strata_events_total{kind="metric"} 3',
      'strata_events_total{kind="a \\"quoted\\"\\\\ \\nvalue"} 1',
      '',
    ].join('\n'));
  });

  it('renders gauges set directly and computed at scrape time', () => {
    const registry = new MetricsRegistry();
    registry.gauge({ name: 'strata_wal_lag_bytes', help: 'WAL bytes not yet in a segment.' }).set(42);
    let segments = 3;
    registry.gauge({
      name: 'strata_segments',
      help: 'Sealed segments by table.',
      labelNames: ['table'],
      collect: (gauge) => {
        gauge.reset();
        gauge.labels('metrics').set(segments);
      },
    });
    expect(registry.render()).toContain('strata_wal_lag_bytes 42\n');
    expect(registry.render()).toContain('strata_segments{table="metrics"} 3\n');
    segments = 5;
    expect(registry.render()).toContain('strata_segments{table="metrics"} 5\n');
  });

  it('renders histograms with cumulative buckets, +Inf, sum and count', () => {
    const registry = new MetricsRegistry();
    const histogram = registry.histogram({ name: 'latency_seconds', help: 'Latency.', labelNames: ['route'], buckets: [0.1, 1] });
    for (const value of [0.05, 0.1, 0.5, 3]) histogram.labels('q').observe(value);
    expect(registry.render()).toBe([
      '# HELP latency_seconds Latency.',
      '# TYPE latency_seconds histogram',
      'latency_seconds_bucket{route="q",le="0.1"} 2',
      'latency_seconds_bucket{route="q",le="1"} 3',
      'latency_seconds_bucket{route="q",le="+Inf"} 4',
      'latency_seconds_sum{route="q"} 3.65',
      'latency_seconds_count{route="q"} 4',
      '',
    ].join('\n'));
  });

  it('renders special float values the way Prometheus parses them', () => {
    const registry = new MetricsRegistry();
    const gauge = registry.gauge({ name: 'g', help: 'g', labelNames: ['v'] });
    gauge.labels('inf').set(Infinity);
    gauge.labels('ninf').set(-Infinity);
    gauge.labels('nan').set(NaN);
    const text = registry.render();
    expect(text).toContain('g{v="inf"} +Inf');
    expect(text).toContain('g{v="ninf"} -Inf');
    expect(text).toContain('g{v="nan"} NaN');
  });

  it('rejects invalid names, duplicates, wrong label counts and negative increments', () => {
    const registry = new MetricsRegistry();
    expect(() => registry.counter({ name: '1bad', help: '' })).toThrow(/metric name/);
    expect(() => registry.counter({ name: 'ok', help: '', labelNames: ['__reserved'] })).toThrow(/label name/);
    expect(() => registry.histogram({ name: 'h', help: '', labelNames: ['le'] })).toThrow(/le/);
    expect(() => registry.histogram({ name: 'h2', help: '', buckets: [1, 0.5] })).toThrow(/increase/);
    const counter = registry.counter({ name: 'c', help: '', labelNames: ['a'] });
    expect(() => registry.gauge({ name: 'c', help: '' })).toThrow(/already registered/);
    expect(() => counter.labels()).toThrow(/expects 1 label/);
    expect(() => counter.labels('x').inc(-1)).toThrow(RangeError);
  });

  it('renders nothing for an empty registry', () => {
    expect(new MetricsRegistry().render()).toBe('');
  });
});
