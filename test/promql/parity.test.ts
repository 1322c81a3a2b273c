/**
 * Parity with the real Prometheus 2.42: the same deterministic workload is imported into
 * a Prometheus TSDB with `promtool tsdb create-blocks-from openmetrics`, served by a
 * `prometheus` we start, and queried through its HTTP API; our engine answers the same
 * queries over an ArraySource. Results must have the same label sets, timestamps and
 * values (relative error ≤ 1e-9, NaN equal to NaN), and failing queries the same error.
 *
 * Without prometheus/promtool on PATH the suite is skipped, unless
 * STRATA_REQUIRE_EXTERNAL=1, when it fails instead.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instantQuery, PromQLError, rangeQuery, type QueryResult } from '../../src/promql/engine.ts';
import { ArraySource } from '../../src/promql/source.ts';
import { generateWorkload } from './parity-workload.ts';
import { PARITY_QUERIES, type ParityQuery } from './parity-queries.ts';

const missing = ['prometheus', 'promtool'].filter((bin) => spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0);
const required = process.env.STRATA_REQUIRE_EXTERNAL === '1';

if (missing.length > 0) {
  describe('PromQL parity with Prometheus 2.42', () => {
    const reason = `${missing.join(' and ')} not on PATH (apt-get install prometheus)`;
    if (required) {
      it('needs prometheus and promtool (STRATA_REQUIRE_EXTERNAL=1)', () => {
        throw new Error(`${reason}; STRATA_REQUIRE_EXTERNAL=1 demands the external reference`);
      });
    } else {
      it.skip(`skipped: ${reason}`, () => {});
    }
  });
} else {
  describe('PromQL parity with Prometheus 2.42', () => {
    let server: ChildProcess | undefined;
    let baseUrl = '';
    let dir = '';
    let source: ArraySource;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'strata-parity-'));
      const workload = generateWorkload();
      source = new ArraySource(workload.series);
      const input = join(dir, 'workload.om');
      workload.writeOpenMetrics(input);
      const blocks = join(dir, 'data');
      const created = spawnSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', input, blocks], { encoding: 'utf8' });
      if (created.status !== 0) throw new Error(`promtool failed: ${created.stderr}`);
      rmSync(input);

      const config = join(dir, 'prometheus.yml');
      writeFileSync(config, 'global:\n  scrape_interval: 1h\n');
      const port = await freePort();
      baseUrl = `http://127.0.0.1:${port}`;
      server = spawnWithWatchdog('prometheus', [
        `--config.file=${config}`,
        `--storage.tsdb.path=${blocks}`,
        '--storage.tsdb.retention.time=100y',
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ]);
      let stderr = '';
      server.stderr?.on('data', (d) => (stderr += d));
      await waitReady(baseUrl, server, () => stderr);
    }, 120_000);

    afterAll(async () => {
      if (server) await stop(server);
      if (dir) rmSync(dir, { recursive: true, force: true });
    }, 30_000);

    it.each(PARITY_QUERIES.map((q) => [describeQuery(q), q] as const))('%s', async (_, q) => {
      const theirs = await queryPrometheus(baseUrl, q);
      const ours = queryOurs(source, q);
      if ('error' in theirs || 'error' in ours) {
        expect(ours, 'both must fail alike').toEqual(theirs);
        return;
      }
      expect(isEmpty(theirs.data), 'the query should select data').toBe(q.expectEmpty === true);
      assertSameResult(ours.data, theirs.data, q.kind === 'range');
    });
  });
}

type Outcome = { data: QueryResult } | { error: { type: string; message?: string } };

function describeQuery(q: ParityQuery): string {
  return q.kind === 'instant' ? `instant ${q.query} @${q.time}` : `range ${q.query} [${q.start}..${q.end} step ${q.step}]`;
}

function queryOurs(source: ArraySource, q: ParityQuery): Outcome {
  try {
    const data =
      q.kind === 'instant'
        ? instantQuery(source, q.query, q.time * 1000)
        : rangeQuery(source, q.query, q.start * 1000, q.end * 1000, q.step * 1000);
    return { data };
  } catch (e) {
    if (!(e instanceof PromQLError)) throw e;
    return { error: q.compareErrorMessage ? { type: e.type, message: e.message } : { type: e.type } };
  }
}

async function queryPrometheus(baseUrl: string, q: ParityQuery): Promise<Outcome> {
  const params: Record<string, string> =
    q.kind === 'instant'
      ? { query: q.query, time: String(q.time) }
      : { query: q.query, start: String(q.start), end: String(q.end), step: String(q.step) };
  const path = q.kind === 'instant' ? '/api/v1/query' : '/api/v1/query_range';
  const res = await fetch(baseUrl + path, { method: 'POST', body: new URLSearchParams(params) });
  const body = (await res.json()) as { status: string; data: QueryResult; errorType: string; error: string };
  if (body.status !== 'success') {
    return { error: q.compareErrorMessage ? { type: body.errorType, message: body.error } : { type: body.errorType } };
  }
  return { data: body.data };
}

function assertSameResult(ours: QueryResult, theirs: QueryResult, checkOrder: boolean): void {
  expect(ours.resultType).toBe(theirs.resultType);
  if (ours.resultType === 'scalar' || ours.resultType === 'string') {
    expect(ours.result[0]).toBe((theirs.result as [number, string])[0]);
    expectClose(ours.result[1], (theirs.result as [number, string])[1], 'scalar');
    return;
  }
  const rows = (r: QueryResult) =>
    (r.result as { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[]).map((s) => ({
      key: labelKey(s.metric),
      points: s.values ?? [s.value!],
    }));
  const mine = rows(ours);
  const reference = rows(theirs);
  expect(mine.map((r) => r.key).sort(), 'label sets').toEqual(reference.map((r) => r.key).sort());
  if (checkOrder) expect(mine.map((r) => r.key), 'series order').toEqual(reference.map((r) => r.key));
  const byKey = new Map(reference.map((r) => [r.key, r.points]));
  for (const { key, points } of mine) {
    const want = byKey.get(key)!;
    expect(points.map((p) => p[0]), `timestamps of ${key}`).toEqual(want.map((p) => p[0]));
    points.forEach((p, i) => expectClose(p[1], want[i][1], `${key} @${p[0]}`));
  }
}

function isEmpty(r: QueryResult): boolean {
  return Array.isArray(r.result) && r.result.length === 0;
}

function expectClose(ours: string, theirs: string, what: string): void {
  const a = parseValue(ours);
  const b = parseValue(theirs);
  if (Number.isNaN(a) && Number.isNaN(b)) return;
  if (a === b) {
    expect(ours, `${what}: formatting`).toBe(theirs);
    return;
  }
  const rel = Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
  expect(rel <= 1e-9, `${what}: ours ${ours}, Prometheus ${theirs}`).toBe(true);
}

function parseValue(s: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  return Number(s);
}

function labelKey(metric: Record<string, string>): string {
  return JSON.stringify(Object.entries(metric).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Starts `command` under a small shell that also ends it when this test process is gone,
 * so a killed test run leaves no server behind. The shell leads its own process group.
 */
function spawnWithWatchdog(command: string, args: string[]): ChildProcess {
  const script = [
    '"$0" "$@" &',
    'child=$!',
    'trap \'kill "$child" 2>/dev/null; wait "$child"; exit 0\' TERM INT',
    'while kill -0 "$WATCHED_PID" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 1; done',
    'kill "$child" 2>/dev/null',
    'wait "$child"',
  ].join('\n');
  return spawn('sh', ['-c', script, command, ...args], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, WATCHED_PID: String(process.pid) },
  });
}

/** SIGTERM, then after 15 s SIGKILL to the whole process group. */
async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => process.kill(-proc.pid!, 'SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitReady(baseUrl: string, proc: ChildProcess, logs: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`prometheus exited with ${proc.exitCode}: ${logs()}`);
    try {
      const res = await fetch(`${baseUrl}/-/ready`);
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`prometheus not ready after 60s: ${logs()}`);
}

