/**
 * IngestBatch <-> bytes, the WAL's record payload. msgpack with msgpackr's record
 * extension (repeated event shapes cost their keys once per message) and typed-array
 * extension (Float64Arrays travel as raw bytes). Every message is self-contained: a
 * fresh decoder reads any record on its own, which replay after a crash needs.
 *
 * The event times and metric values are lifted out of the event objects into two
 * Float64Arrays: one memcpy each instead of a number per event, and an exact round
 * trip for every float64 (-0 included, which msgpack's integer encoding would drop).
 * Attribute numbers go as msgpack numbers, so an attribute's -0 comes back as 0, as it
 * does from the JSON the span and log tables keep attributes in.
 */
import { Packr, Unpackr } from 'msgpackr';
import type { EngineEvent, IngestBatch, SeriesEntry } from './events.ts';

const FORMAT_VERSION = 1;

interface WireBatch {
  v: number;
  ttl: number;
  /** ts of events[i]. */
  ts: Float64Array;
  /** value of the i-th metric event. */
  values: Float64Array;
  events: WireEvent[];
  series: SeriesEntry[];
}

type WireEvent = Omit<EngineEvent, 'ts' | 'value'>;

const packr = new Packr({ useRecords: true, moreTypes: true });
const unpackr = new Unpackr({ useRecords: true, moreTypes: true });

export function encodeBatch(batch: IngestBatch): Uint8Array {
  const n = batch.events.length;
  const ts = new Float64Array(n);
  let metricCount = 0;
  for (let i = 0; i < n; i++) if (batch.events[i].kind === 'metric') metricCount++;
  const values = new Float64Array(metricCount);
  const events: WireEvent[] = new Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const e = batch.events[i];
    ts[i] = e.ts;
    if (e.kind === 'metric') {
      values[m++] = e.value;
      const { ts: _ts, value: _value, ...rest } = e;
      events[i] = rest;
    } else {
      const { ts: _ts, ...rest } = e;
      events[i] = rest;
    }
  }
  const wire: WireBatch = { v: FORMAT_VERSION, ttl: batch.ttlSeconds, ts, values, events, series: batch.series };
  return packr.pack(wire);
}

export function decodeBatch(bytes: Uint8Array): IngestBatch {
  const wire = unpackr.unpack(bytes) as WireBatch;
  if (wire === null || typeof wire !== 'object' || wire.v !== FORMAT_VERSION) {
    throw new Error(`batch codec: unknown format version ${String((wire as WireBatch | null)?.v)}`);
  }
  const n = wire.events.length;
  if (wire.ts.length !== n) throw new Error(`batch codec: ${n} events but ${wire.ts.length} times`);
  const events: EngineEvent[] = new Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const e = wire.events[i];
    events[i] = (e.kind === 'metric' ? { ...e, ts: wire.ts[i], value: wire.values[m++] } : { ...e, ts: wire.ts[i] }) as EngineEvent;
  }
  return { ttlSeconds: wire.ttl, events, series: wire.series };
}
