/**
 * In-process cost of one 10,000-event metric batch (4,000 series, as in the HTTP scenario),
 * stage by stage, for the path before issue 8 (msgpackr objects, schema validation, one
 * engine event and one series lookup per event) and the path now (bytes straight into
 * series columns, one lookup per series). Each figure is the fastest of many repetitions,
 * which is the least disturbed by other work on the machine.
 */
import { encodeBatch } from '../../src/storage/batch-codec.ts';
import type { IngestBatch } from '../../src/storage/events.ts';
import { Store } from '../../src/store.ts';
import { toEngineEvent } from '../../src/telemetry/ingest.ts';
import { decodeIngestBatch, unpackMsgpack } from '../../src/telemetry/msgpack-ingest.ts';
import { validateIngest, type Event } from '../../src/telemetry/schema.ts';
import { Workload } from './workload.ts';

export interface StageTimes {
  decodeMs: number;
  walEncodeMs: number;
  applyMs: number;
}

/** The pipeline as it was: every metric event an engine event, applied one by one. */
function perEventBatch(bytes: Uint8Array): IngestBatch {
  const result = validateIngest(unpackMsgpack(bytes));
  if (!result.ok || result.value.kind !== 'batch') throw new Error('unexpected body');
  const events = result.value.body.events.map((e: Event, i: number) => toEngineEvent(e, `events[${i}]`));
  return { ttlSeconds: 604_800, events, series: [] };
}

export function measureDecodePaths(repetitions = 15): { before: StageTimes; after: StageTimes; events: number } {
  const workload = new Workload({ series: 4000, samplesPerSeries: 30, samplesPerRound: 30, seriesPerBody: 250, eventsPerBody: 10_000 });
  const bodies = workload.strataEventBodies();
  return {
    before: measure(bodies, perEventBatch, repetitions),
    after: measure(bodies, (b) => decodeIngestBatch(b, 'msgpack'), repetitions),
    events: workload.shape.eventsPerBody,
  };
}

function measure(bodies: Uint8Array[], decode: (bytes: Uint8Array) => IngestBatch, repetitions: number): StageTimes {
  const best = { decodeMs: Infinity, walEncodeMs: Infinity, applyMs: Infinity };
  for (let r = 0; r < repetitions; r++) {
    // A fresh store per round: every round applies the same batches from the same start.
    const store = new Store();
    for (const body of bodies) {
      let t = performance.now();
      const batch = decode(body);
      best.decodeMs = Math.min(best.decodeMs, performance.now() - t);
      t = performance.now();
      encodeBatch(batch);
      best.walEncodeMs = Math.min(best.walEncodeMs, performance.now() - t);
      t = performance.now();
      store.apply(batch);
      best.applyMs = Math.min(best.applyMs, performance.now() - t);
    }
  }
  return best;
}
