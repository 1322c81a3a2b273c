/**
 * IngestBatch <-> bytes, the WAL's record payload. msgpack with msgpackr's record
 * extension (repeated event shapes cost their keys once per message) and typed-array
 * extension (Float64Arrays travel as raw bytes). Every message is self-contained: a
 * fresh decoder reads any record on its own, which replay after a crash needs.
 *
 * Metric values are lifted out of the metric events into one Float64Array: an exact
 * round trip for every float64 (-0 included, which msgpack's integer encoding would turn
 * into 0). Times are integers, which msgpack keeps exactly. Attribute numbers go as
 * msgpack numbers, so an attribute's -0 comes back as 0, as it does from the JSON the
 * span and log tables keep attributes in.
 */
import { Packr, Unpackr } from 'msgpackr';
import type { EngineEvent, IngestBatch, MetricEvent, SeriesEntry } from './events.ts';

const FORMAT_VERSION = 1;

interface WireBatch {
  v: number;
  ttl: number;
  /** value of the i-th metric event, in event order. */
  values: Float64Array;
  /** Metric events without their value; other events as they are. */
  events: WireEvent[];
  series: SeriesEntry[];
}

type WireEvent = Omit<MetricEvent, 'value'> | Exclude<EngineEvent, MetricEvent>;

const packr = new Packr({ useRecords: true, moreTypes: true });
const unpackr = new Unpackr({ useRecords: true, moreTypes: true });

export function encodeBatch(batch: IngestBatch): Uint8Array {
  const n = batch.events.length;
  let metricCount = 0;
  for (let i = 0; i < n; i++) if (batch.events[i].kind === 'metric') metricCount++;
  let events: WireEvent[] = batch.events;
  const values = new Float64Array(metricCount);
  if (metricCount > 0) {
    events = new Array(n);
    let m = 0;
    for (let i = 0; i < n; i++) {
      const e = batch.events[i];
      if (e.kind === 'metric') {
        values[m++] = e.value;
        const { value: _value, ...rest } = e;
        events[i] = rest;
      } else {
        events[i] = e;
      }
    }
  }
  const wire: WireBatch = { v: FORMAT_VERSION, ttl: batch.ttlSeconds, values, events, series: batch.series };
  return packr.pack(wire);
}

export function decodeBatch(bytes: Uint8Array): IngestBatch {
  const wire = unpackr.unpack(bytes) as WireBatch;
  if (wire === null || typeof wire !== 'object' || wire.v !== FORMAT_VERSION) {
    throw new Error(`batch codec: unknown format version ${String((wire as WireBatch | null)?.v)}`);
  }
  const n = wire.events.length;
  const events = wire.events as EngineEvent[];
  let m = 0;
  for (let i = 0; i < n; i++) {
    const e = wire.events[i];
    if (e.kind === 'metric') events[i] = { ...e, value: wire.values[m++] };
  }
  if (m !== wire.values.length) throw new Error(`batch codec: ${m} metric events but ${wire.values.length} values`);
  return { ttlSeconds: wire.ttl, events, series: wire.series };
}
