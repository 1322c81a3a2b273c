/**
 * In-process cost of one 10,000-event metric batch (4,000 series, as in the HTTP scenario),
 * stage by stage, for the path before issue 8 (msgpackr objects, schema validation, one
 * engine event and one series lookup per event) and the path a large body takes now (on a
 * decode thread: bytes straight into series columns, then the WAL encoding; on the main
 * thread: that encoding decoded into columns and applied, one lookup per series). Each figure is the fastest of many repetitions,
 * which is the least disturbed by other work on the machine.
 */
import { decodeBatch, encodeBatch, encodeSeriesColumns } from '../../src/storage/batch-codec.ts';
import { LSN_BYTES } from '../../src/storage/wal-entry.ts';
import type { IngestBatch } from '../../src/storage/events.ts';
import { Store } from '../../src/store.ts';
import { toEngineEvent } from '../../src/telemetry/ingest.ts';
import { decodeGeneral, unpackMsgpack } from '../../src/telemetry/msgpack-ingest.ts';
import { fastSeriesBatchColumns, newColumnScratch } from '../../src/telemetry/msgpack-series-batch.ts';
import { fastMetricEventsColumns } from '../../src/telemetry/msgpack-metric-events.ts';
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
    before: measure(bodies, repetitions, (body) => {
      const batch = perEventBatch(body);
      return { batch, encode: () => encodeBatch(batch), applied: () => batch };
    }),
    // As the server runs a large body: decode and WAL encoding on a decode thread, then the
    // main thread decodes that encoding into columns and applies it.
    after: measure(bodies, repetitions, (body) => {
      const fast = fastMetricEventsColumns(body, 604_800)!;
      let encoded: Uint8Array | null = null;
      return { batch: null, encode: () => (encoded = new Uint8Array(encodeSeriesColumns(fast.ttlSeconds, fast.columns))), applied: () => decodeBatch(encoded!) };
    }),
    events: workload.shape.eventsPerBody,
  };
}

interface Stages {
  batch: IngestBatch | null;
  encode: () => Uint8Array;
  /** The batch as the main thread applies it (decoding included, for the threaded path). */
  applied: () => IngestBatch;
}

function measure(bodies: Uint8Array[], repetitions: number, decode: (bytes: Uint8Array) => Stages): StageTimes {
  const best = { decodeMs: Infinity, walEncodeMs: Infinity, applyMs: Infinity };
  for (let r = 0; r < repetitions; r++) {
    // A fresh store per round: every round applies the same batches from the same start.
    const store = new Store();
    for (const body of bodies) {
      let t = performance.now();
      const stages = decode(body);
      best.decodeMs = Math.min(best.decodeMs, performance.now() - t);
      t = performance.now();
      stages.encode();
      best.walEncodeMs = Math.min(best.walEncodeMs, performance.now() - t);
      t = performance.now();
      store.apply(stages.applied());
      best.applyMs = Math.min(best.applyMs, performance.now() - t);
    }
  }
  return best;
}

/**
 * A decode thread's work on one series-batch body as the HTTP scenario sends it (250 series ×
 * 150 samples, msgpackr's Packr with typed arrays: records and Float64Arrays), from bytes to
 * the WAL entry: through msgpackr and the schema (the general path) and through the series
 * fast path, as the thread runs it (columns lent, entry written into a slot's region).
 */
export function measureSeriesBodyPaths(repetitions = 15): { generalMs: number; fastMs: number; samples: number } {
  const workload = new Workload({ series: 4000, samplesPerSeries: 150, samplesPerRound: 150, seriesPerBody: 250, eventsPerBody: 10_000 });
  const bodies = workload.strataSeriesBodies();
  const region = new Uint8Array(2 * 1024 * 1024);
  const scratch = newColumnScratch();
  const general = fastest(bodies, repetitions, (body) => encodeBatch(decodeGeneral(body, 'msgpack', 604_800), LSN_BYTES, region));
  const fast = fastest(bodies, repetitions, (body) => {
    const { ttlSeconds, columns } = fastSeriesBatchColumns(body, 604_800, scratch)!;
    return encodeSeriesColumns(ttlSeconds, columns, LSN_BYTES, region);
  });
  return { generalMs: general, fastMs: fast, samples: workload.shape.seriesPerBody * workload.shape.samplesPerRound };
}

function fastest(bodies: Uint8Array[], repetitions: number, run: (body: Uint8Array) => unknown): number {
  let best = Infinity;
  for (let r = 0; r < repetitions; r++) {
    for (const body of bodies) {
      const t = performance.now();
      run(body);
      best = Math.min(best, performance.now() - t);
    }
  }
  return best;
}
