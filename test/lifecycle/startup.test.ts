/**
 * Starting on a data directory with corrupt or foreign files in it: each is logged and
 * skipped, the rest of the data loads, and the store (or `strata serve`) comes up. Only a
 * layout strata cannot work with at all (`wal` or `node-id` of the wrong kind) stops the
 * start, with a message naming the path and no stack trace.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/store.ts';
import type { IngestBatch } from '../../src/storage/events.ts';
import { serve, serveUntilExit } from './child.ts';

const T = Date.now() * 1000;
const DAY = new Date(T / 1000).toISOString().slice(0, 10);
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const batch = (span: string, ts: number, metricValue?: number): IngestBatch => ({
  ttlSeconds: 3600,
  events: [{ kind: 'span_start', traceId: 'trace-1', spanId: span, ts, name: span }],
  series: metricValue === undefined ? [] : [{ metric: 'm', labels: { a: '1' }, timestamps: Float64Array.of(ts), values: Float64Array.of(metricValue) }],
});

/**
 * A data dir as a crashed server leaves it: span s1 and a sample flushed to Parquet, span s2
 * only in the WAL (the store is never closed).
 */
async function crashedDataDir(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-startup-'));
  dirs.push(dir);
  const store = await Store.open({ dataDir: dir, maintenanceIntervalMs: 0, limits: { maxHeadAgeMicros: 1 }, log: () => undefined });
  await store.ingest(batch('s1', T, 1));
  await new Promise((r) => setTimeout(r, 5));
  await store.maintain();
  await store.ingest(batch('s2', T + 1));
  // Simulate kill -9: the WAL's file handles are left to the process (closed here only to keep the test quiet).
  await (store as unknown as { durability: { wal: { close(): Promise<void> } } }).durability.wal.close();
  return dir;
}

const nodeId = (dir: string) => fs.readFileSync(path.join(dir, 'node-id'), 'utf8').trim();
const segmentDir = (dir: string, table: string) => path.join(dir, 'segments', `table=${table}`, `date=${DAY}`);

async function openAndCheck(dir: string, expectSpans: string[]): Promise<string[]> {
  const warnings: string[] = [];
  const store = await Store.open({ dataDir: dir, maintenanceIntervalMs: 0, log: (m) => warnings.push(m) });
  try {
    const now = Date.now() * 1000;
    for (const span of expectSpans) expect(store.spans.find(span, now), span).toBeDefined();
    expect(store.series.size).toBe(1);
    // And it keeps working: a new batch is durable and applied.
    await store.ingest(batch('s3', T + 2));
    expect(store.spans.find('s3', now)).toBeDefined();
  } finally {
    await store.close();
  }
  return warnings;
}

describe('Store.open on corrupt and foreign files: logged, skipped, the rest loads', () => {
  const cases: [string, (dir: string) => void, RegExp | null, string[]][] = [
    ['garbage Parquet file under this node\'s name', (d) => fs.writeFileSync(path.join(segmentDir(d, 'metrics'), `${T}-${T}-${nodeId(d)}-99.parquet`), randomBytes(4096)),
      /segments: skipping .*-99\.parquet: parquet file invalid/, ['s1', 's2']],
    ['zero-byte Parquet file', (d) => fs.writeFileSync(path.join(segmentDir(d, 'span_events'), `${T}-${T}-${nodeId(d)}-98.parquet`), ''),
      /segments: skipping .*-98\.parquet/, ['s1', 's2']],
    ['a directory named like a segment file', (d) => fs.mkdirSync(path.join(segmentDir(d, 'span_events'), `${T}-${T}-${nodeId(d)}-97.parquet`)),
      /segments: skipping .*-97\.parquet: EISDIR/, ['s1', 's2']],
    ['foreign files in segments/ (README, odd tables and dates, another node\'s garbage)', (d) => {
      fs.writeFileSync(path.join(d, 'segments', 'README.md'), 'not data');
      fs.mkdirSync(path.join(d, 'segments', 'table=bogus', 'date=x'), { recursive: true });
      fs.writeFileSync(path.join(d, 'segments', 'table=bogus', 'date=x', 'a.parquet'), randomBytes(100));
      fs.writeFileSync(path.join(d, 'segments', 'table=metrics', 'date=not-a-date'), 'x');
      fs.writeFileSync(path.join(segmentDir(d, 'metrics'), `${T}-${T}-othernode-1.parquet`), randomBytes(100));
      fs.writeFileSync(path.join(segmentDir(d, 'metrics'), 'notes.txt'), 'x');
    }, null, ['s1', 's2']],
    ['non-WAL files in wal/ (text, odd names, a directory named like a WAL file)', (d) => {
      fs.writeFileSync(path.join(d, 'wal', 'notes.txt'), 'hello');
      fs.writeFileSync(path.join(d, 'wal', 'wal-abc.log'), randomBytes(64));
      fs.mkdirSync(path.join(d, 'wal', 'wal-00000099.log'));
    }, /wal: skipping .*wal-00000099\.log: not a regular file/, ['s1', 's2']],
    ['a WAL-named file of garbage', (d) => fs.writeFileSync(path.join(d, 'wal', 'wal-00000050.log'), randomBytes(1000)),
      /wal: .*wal-00000050\.log: bad magic, not a WAL file header at byte 0/, ['s1', 's2']],
    ['a zero-byte WAL file', (d) => fs.writeFileSync(path.join(d, 'wal', 'wal-00000051.log'), ''), null, ['s1', 's2']],
    ['a truncated WAL (torn tail)', (d) => {
      const file = fs.readdirSync(path.join(d, 'wal')).filter((n) => n.endsWith('.log')).sort().at(-1)!;
      const p = path.join(d, 'wal', file);
      fs.truncateSync(p, fs.statSync(p).size - 7);
    }, /wal: .*: torn record .* skipped the last \d+ bytes/, ['s1']],
    ['random files and directories at the top level', (d) => {
      fs.writeFileSync(path.join(d, 'random.bin'), randomBytes(1000));
      fs.mkdirSync(path.join(d, 'stuff'));
      fs.writeFileSync(path.join(d, 'wal.tmp'), 'x');
    }, null, ['s1', 's2']],
    ['a node-id file of garbage: recovered from the segment names', (d) => fs.writeFileSync(path.join(d, 'node-id'), '../../\u0000\xff evil'),
      /node-id: .* not a node id; recovered n[0-9a-f]+ from the segment file names and rewrote it/, ['s1', 's2']],
    ['an empty node-id file', (d) => fs.writeFileSync(path.join(d, 'node-id'), ''), /node-id: .*recovered/, ['s1', 's2']],
  ];

  for (const [name, corrupt, warning, spans] of cases) {
    it(name, async () => {
      const dir = await crashedDataDir();
      corrupt(dir);
      const warnings = await openAndCheck(dir, spans);
      if (warning) expect(warnings.join('\n')).toMatch(warning);
    });
  }
});

describe('strata serve on a damaged data dir', () => {
  it('comes up, warns about what it skipped, and serves the rest', async () => {
    const dir = await crashedDataDir();
    fs.writeFileSync(path.join(segmentDir(dir, 'metrics'), `${T}-${T}-${nodeId(dir)}-99.parquet`), randomBytes(4096));
    fs.mkdirSync(path.join(dir, 'wal', 'wal-00000099.log'));
    fs.writeFileSync(path.join(dir, 'wal', 'README'), 'x');
    fs.writeFileSync(path.join(dir, 'junk.bin'), randomBytes(100));
    const s = await serve(dir);
    try {
      expect((await fetch(`${s.url}/health`)).status).toBe(200);
      expect((await fetch(`${s.url}/v1/telemetry/traces/trace-1/spans/s1`)).status).toBe(200);
      expect((await fetch(`${s.url}/v1/telemetry/traces/trace-1/spans/s2`)).status).toBe(200);
      expect(s.stderr()).toMatch(/WARN.*segments: skipping .*-99\.parquet/);
      expect(s.stderr()).toMatch(/WARN.*wal: skipping .*wal-00000099\.log: not a regular file/);
    } finally {
      s.child.kill('SIGTERM');
      expect((await s.exited).code).toBe(0);
    }
  });

  it('refuses a layout it cannot use, naming the path, without a stack trace (exit 1)', async () => {
    for (const [what, damage] of [
      ['wal', (d: string) => { fs.rmSync(path.join(d, 'wal'), { recursive: true }); fs.writeFileSync(path.join(d, 'wal'), 'x'); }],
      ['node-id', (d: string) => { fs.rmSync(path.join(d, 'node-id')); fs.mkdirSync(path.join(d, 'node-id')); }],
    ] as const) {
      const dir = await crashedDataDir();
      damage(dir);
      const result = await serveUntilExit(dir);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toContain(`strata serve: `);
      expect(result.stderr).toContain(path.join(dir, what));
      expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    }
  });
});
