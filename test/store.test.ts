import { describe, expect, it } from 'vitest';
import { Store, metricLabels, spanStartInput } from '../src/store.ts';
import { manualClock } from '../src/storage/clock.ts';

const SEC = 1_000_000;
const T0 = 1_700_000_000 * SEC;

function sum(store: Store, ids: Uint32Array, min = -Infinity, max = Infinity) {
  let total = 0;
  for (const id of ids) store.visitSeries(id, min, max, (_ts, v, s, e) => { for (let i = s; i < e; i++) total += v[i]; });
  return total;
}

describe('Store', () => {
  it('metric events become series keyed by name + attributes; series batches join the same series', () => {
    const store = new Store({ clock: manualClock(T0) });
    store.apply({
      ttlSeconds: 3600,
      events: [
        { kind: 'metric', traceId: 't', spanId: 's', ts: T0, metric: 'tokens', value: 3, unit: 'tokens', attributes: { model: 'm1', n: 1, __hidden: 'x' } },
        { kind: 'metric', traceId: 't', spanId: 's', ts: T0 + 1, metric: 'tokens', value: 4, unit: 'tokens', attributes: { n: 1, model: 'm1' } },
      ],
      series: [{ metric: 'tokens', labels: { model: 'm1', n: '1' }, timestamps: new Float64Array([T0 + 2, T0 + 3]), values: new Float64Array([10, 20]) }],
    });
    const ids = store.selectSeries([{ name: '__name__', op: '=', value: 'tokens' }]);
    expect(ids.length).toBe(1);
    expect(store.series.labelsOf(ids[0])).toEqual({ __name__: 'tokens', model: 'm1', n: '1' });
    expect(store.series.info(ids[0])!.unit).toBe('tokens');
    expect(sum(store, ids)).toBe(37);
    store.sealAll();
    expect(sum(store, ids)).toBe(37);
    expect(store.counters.samplesIngested).toBe(4);
  });

  it('span events assemble spans and are kept in the span-event table', () => {
    const store = new Store({ clock: manualClock(T0) });
    store.apply({
      ttlSeconds: 3600,
      series: [],
      events: [
        { kind: 'span_start', traceId: 't', spanId: 'root', ts: T0, name: 'agent', attributes: { session_id: 'S' } },
        { kind: 'span_start', traceId: 't', spanId: 'c', ts: T0 + 1, name: 'llm', attributes: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01', tracestate: 'x=y', k: 1 } },
        { kind: 'span_end', traceId: 't', spanId: 'c', ts: T0 + 5, status: 'ok' },
        { kind: 'log', traceId: 't', spanId: 'c', ts: T0 + 2, message: 'hi', severity: 'info' },
      ],
    });
    const c = store.spans.view(store.spans.find('c', T0)!);
    expect(c.parentSpanId).toBe('00f067aa0ba902b7');
    expect(c.attributes).toEqual({ k: 1 });
    expect(c.end).toBe(T0 + 5);
    expect(store.spanEvents.rowCount).toBe(3);
    expect(store.logs.get(0, 'message')).toBe('hi');
    const sealed = store.sealAll();
    expect(sealed.spanEvents!.batch.getChild('name')!.get(0)).toBe('agent');
    expect(sealed.spanEvents!.batch.getChild('attributes')!.get(1)).toBe('{"k":1}');
  });

  it('dropExpired removes expired segments, series and spans', () => {
    const clock = manualClock(T0);
    const store = new Store({ clock });
    store.apply({ ttlSeconds: 10, series: [], events: [
      { kind: 'metric', traceId: 't', spanId: 's', ts: T0, metric: 'm', value: 1, unit: '' },
      { kind: 'span_start', traceId: 't', spanId: 's', ts: T0, name: 'x' },
    ] });
    store.sealAll();
    clock.set(T0 + 10 * SEC);
    const dropped = store.dropExpired();
    expect(dropped.metrics).toHaveLength(1);
    expect(dropped.spanEvents).toHaveLength(1);
    expect(store.series.size).toBe(0);
    expect(store.spans.size).toBe(0);
  });

  it('metricLabels stringifies values and leaves out __ keys and nulls', () => {
    expect(metricLabels('m', { a: 1, b: true, c: null, __x: 'y', d: 's' })).toEqual({ __name__: 'm', a: '1', b: 'true', d: 's' });
  });

  it('spanStartInput keeps an explicit parent over traceparent', () => {
    const s = spanStartInput({ kind: 'span_start', traceId: 't', spanId: 's', ts: 0, name: 'n', parentSpanId: 'p', attributes: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01' } }, 1);
    expect(s.parentSpanId).toBe('p');
    expect(s.attributes).toEqual({});
  });
});
