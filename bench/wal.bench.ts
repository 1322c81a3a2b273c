/**
 * WAL append throughput under each fsync policy, for 1, 8 and 64 concurrent writers
 * appending ~64 KiB and 1 KiB records (the store appends one msgpack batch per record).
 *
 *   npx tsx bench/wal.bench.ts        -> prints a markdown table, writes bench/results/wal.json
 *
 * Each tinybench iteration appends a fixed number of records to a fresh WAL in the OS temp
 * dir; opening and closing the WAL happen in hooks, outside the timed part.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { Wal, type FsyncPolicy } from '../src/storage/wal.ts';

export interface BenchRow {
  policy: FsyncPolicy;
  writers: number;
  recordBytes: number;
  /** Records appended per timed iteration. */
  records: number;
  iterations: number;
  meanMs: number;
  /** Relative margin of error of meanMs, in percent. */
  rmePercent: number;
  recordsPerSec: number;
  mbPerSec: number;
  /** Mean fsyncs per iteration: with group commit, far fewer than records under `always`. */
  fsyncsPerIteration: number;
}

interface BenchCase {
  policy: FsyncPolicy;
  writers: number;
  recordBytes: number;
  records: number;
}

const POLICIES: FsyncPolicy[] = ['always', 'batch', 'off'];
const WRITER_COUNTS = [1, 8, 64];
/** Counts chosen so one iteration writes 32 MiB of large records or 8 MiB of small ones. */
const RECORD_SHAPES = [
  { recordBytes: 64 * 1024, records: 512 },
  { recordBytes: 1024, records: 8192 },
];
const ITERATIONS = 5;
const RESULTS_FILE = fileURLToPath(new URL('./results/wal.json', import.meta.url));

export async function runWalBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const shape of RECORD_SHAPES) {
    for (const policy of POLICIES) {
      for (const writers of WRITER_COUNTS) rows.push(await measureCase({ policy, writers, ...shape }));
    }
  }
  writeResults(rows);
  console.log(formatTable(rows));
  return rows;
}

async function measureCase(benchCase: BenchCase): Promise<BenchRow> {
  const payload = randomBytes(benchCase.recordBytes);
  let dir = '';
  let wal: Wal | undefined;
  let fsyncsAtOpen = 0;
  let fsyncsMeasured = 0;
  const bench = new Bench({ iterations: ITERATIONS, time: 0, warmupIterations: 1, warmupTime: 0 });
  bench.add(caseName(benchCase), () => appendConcurrently(wal!, payload, benchCase.records, benchCase.writers), {
    beforeEach: async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-wal-bench-'));
      wal = await Wal.open({ dir, fsync: benchCase.policy });
      fsyncsAtOpen = wal.stats().fsyncs;
    },
    afterEach: async (mode) => {
      if (mode === 'run') fsyncsMeasured += wal!.stats().fsyncs - fsyncsAtOpen;
      await wal!.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  });
  await bench.run();
  return toRow(benchCase, bench.tasks[0], fsyncsMeasured);
}

/** `writers` async loops share one counter, each awaiting its own append like a request handler. */
async function appendConcurrently(wal: Wal, payload: Uint8Array, records: number, writers: number): Promise<void> {
  let issued = 0;
  const writer = async () => {
    while (issued < records) {
      issued++;
      await wal.append(payload);
    }
  };
  await Promise.all(Array.from({ length: writers }, writer));
}

function toRow(benchCase: BenchCase, task: Bench['tasks'][number], fsyncsMeasured: number): BenchRow {
  const result = task.result;
  if (result.state !== 'completed') {
    throw new Error(`WAL bench ${task.name} did not complete: ${result.state === 'errored' ? result.error.message : result.state}`);
  }
  const seconds = result.latency.mean / 1000;
  const iterations = result.latency.samplesCount;
  return {
    ...benchCase,
    iterations,
    meanMs: round(result.latency.mean, 2),
    rmePercent: round(result.latency.rme, 1),
    recordsPerSec: Math.round(benchCase.records / seconds),
    mbPerSec: round((benchCase.records * benchCase.recordBytes) / seconds / (1024 * 1024), 1),
    fsyncsPerIteration: round(fsyncsMeasured / iterations, 1),
  };
}

function caseName({ policy, writers, recordBytes }: BenchCase): string {
  return `wal ${policy} ${writers} writers ${recordBytes / 1024} KiB`;
}

function writeResults(rows: BenchRow[]): void {
  const cpus = os.cpus();
  const results = {
    node: process.version,
    date: new Date().toISOString(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: `${cpus.length} x ${cpus[0]?.model ?? 'unknown'}`,
    dir: os.tmpdir(),
    rows,
  };
  fs.mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  fs.writeFileSync(RESULTS_FILE, JSON.stringify(results, null, 2) + '\n');
}

function formatTable(rows: BenchRow[]): string {
  const lines = [
    '| policy | writers | record | records/iter | records/s | MB/s | fsyncs/iter | ± |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.policy} | ${row.writers} | ${row.recordBytes / 1024} KiB | ${row.records} | ` +
        `${row.recordsPerSec.toLocaleString('en-US')} | ${row.mbPerSec} | ${row.fsyncsPerIteration} | ${row.rmePercent}% |`,
    );
  }
  return lines.join('\n');
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runWalBench();
}
