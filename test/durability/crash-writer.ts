/**
 * The victim of the kill -9 test: opens a durable store and has several concurrent
 * writers ingest numbered batches forever, printing each batch id on stdout only after
 * `ingest` resolved (= acknowledged). Small segment limits keep seals, flushes and WAL
 * deletions happening all the time.
 *
 *   npx tsx test/durability/crash-writer.ts <dataDir> <firstBatchId> [writers]
 *   node --import tsx test/durability/crash-writer.ts ...   (one process: what the test kills)
 *
 * Batch i holds: samples of series crash{writer} with value i at distinct timestamps, a
 * span start `b<i>`, and a log line `batch <i>`.
 */
import { Store } from '../../src/store.ts';

const [dataDir, firstArg, writersArg] = process.argv.slice(2);
if (!dataDir || firstArg === undefined) {
  process.stderr.write('usage: crash-writer.ts <dataDir> <firstBatchId> [writers]\n');
  process.exit(2);
}
const writers = Number(writersArg ?? 4);
let nextId = Number(firstArg);
const T0 = 1_700_000_000_000_000;
const TTL_SECONDS = 10 * 365 * 86_400;

const store = await Store.open({
  dataDir, fsync: 'always', nodeId: 'crash', maintenanceIntervalMs: 20,
  limits: { maxHeadRows: 3000, maxHeadAgeMicros: 100_000 }, log: (msg) => process.stderr.write(msg + '\n'),
});
process.stderr.write('ready\n');

async function writer(w: number): Promise<never> {
  for (;;) {
    const id = nextId++;
    const n = 20;
    await store.ingest({
      ttlSeconds: TTL_SECONDS,
      series: [{
        metric: 'crash', labels: { writer: String(w) },
        timestamps: Float64Array.from({ length: n }, (_, k) => T0 + id * 1000 + k),
        values: new Float64Array(n).fill(id),
      }],
      events: [
        { kind: 'span_start', traceId: `t${id % 97}`, spanId: `b${id}`, ts: T0 + id * 1000, name: 'batch' },
        { kind: 'log', traceId: `t${id % 97}`, spanId: `b${id}`, ts: T0 + id * 1000, message: `batch ${id}`, severity: 'info' },
      ],
    });
    process.stdout.write(`${id}\n`);
  }
}

await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
