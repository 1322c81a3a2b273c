/**
 * The engines of the PromQL benchmark, each a separate process on a free port with a
 * temporary data directory, loaded with the same samples:
 *
 * - strata: `strata serve` (src/cli.ts through tsx), loaded with msgpack series batches,
 *   then left to seal its head and write its segments to Parquet before any query;
 * - Prometheus 2.42: a TSDB built by promtool from OpenMetrics text (one block), served;
 * - VictoriaMetrics 1.79: /api/v1/import JSON lines, then /internal/force_flush, with
 *   `-search.disableCache` (no rollup result cache: every run computes).
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPrometheus, spawnWithWatchdog, stopProcess } from '../../test/promql/prometheus-server.ts';
import { freePort } from '../ingest/processes.ts';
import { loadSeries } from '../../test/promql/strata-load.ts';
import { victoriaMetricsImportBodies, writeOpenMetrics, type BenchWorkload } from './workload.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const VICTORIA_METRICS_BIN = '/usr/bin/victoria-metrics';

export interface Engine {
  name: string;
  url: string;
  pid: number;
  /** Seconds it took to start and load. */
  loadSeconds: number;
  stop(): Promise<void>;
}

/** Why an engine cannot run here, or null when it can. */
export function unavailable(name: 'strata' | 'prometheus' | 'victoriametrics'): string | null {
  const onPath = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
  if (name === 'prometheus') {
    const missing = ['prometheus', 'promtool'].filter((b) => !onPath(b));
    return missing.length ? `${missing.join(' and ')} not on PATH (apt-get install prometheus)` : null;
  }
  if (name === 'victoriametrics') return existsSync(VICTORIA_METRICS_BIN) ? null : `${VICTORIA_METRICS_BIN} not found (apt-get install victoria-metrics)`;
  return null;
}

/** `strata serve`; extra node flags (e.g. --cpu-prof) from STRATA_BENCH_NODE_FLAGS. */
export async function startStrata(w: BenchWorkload): Promise<Engine> {
  const started = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'strata-promql-bench-'));
  const port = await freePort();
  const nodeFlags = (process.env.STRATA_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const child = spawnWithWatchdog(process.execPath, [
    ...nodeFlags, '--import', 'tsx', join(ROOT, 'src/cli.ts'), 'serve',
    '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir, '--fsync', 'off', '--log-level', 'warn',
    '--segment-max-age-ms', '5000',
  ], { cwd: ROOT, stderr: 'inherit' });
  return loaded('strata', child, port, dataDir, started, async (url) => {
    await loadSeries(url, w.series, { samplesPerBatch: 250_000 });
    await waitForFlushes(url);
  });
}

export async function startPrometheusEngine(w: BenchWorkload): Promise<Engine> {
  const started = performance.now();
  const server = await startPrometheus((path) => writeOpenMetrics(w, path), 'strata-promql-bench-', {
    promtoolFlags: ['--max-block-duration=24h', '--quiet'],
  });
  return { name: 'Prometheus 2.42', url: server.url, pid: server.pid, loadSeconds: secondsSince(started), stop: () => server.stop() };
}

export async function startVictoriaMetrics(w: BenchWorkload): Promise<Engine> {
  const started = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'strata-promql-bench-vm-'));
  const port = await freePort();
  const child = spawnWithWatchdog(VICTORIA_METRICS_BIN, [
    `-storageDataPath=${dataDir}`, '-retentionPeriod=100y', `-httpListenAddr=127.0.0.1:${port}`,
    '-search.disableCache', '-loggerLevel=ERROR',
  ], { stderr: 'inherit' });
  return loaded('VictoriaMetrics 1.79', child, port, dataDir, started, async (url) => {
    for (const body of victoriaMetricsImportBodies(w)) {
      const res = await fetch(`${url}/api/v1/import`, { method: 'POST', body });
      if (res.status !== 204 && res.status !== 200) throw new Error(`VictoriaMetrics import: HTTP ${res.status}: ${await res.text()}`);
    }
    const flushed = await fetch(`${url}/internal/force_flush`);
    if (!flushed.ok) throw new Error(`VictoriaMetrics force_flush: HTTP ${flushed.status}`);
    await waitForSamples(url, w);
  });
}

/**
 * An engine process just spawned on `port`: waits for /health, runs `load` against it, and
 * returns it with a `stop` that ends the process and removes `dataDir` (also called here when
 * the wait or the load fails). `started` is when the start began, for `loadSeconds`.
 */
async function loaded(
  name: string, child: ChildProcess, port: number, dataDir: string, started: number, load: (url: string) => Promise<void>,
): Promise<Engine> {
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await stopProcess(child);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitFor(url, '/health', child);
    await load(url);
  } catch (e) {
    await stop();
    throw e;
  }
  return { name, url, pid: child.pid!, loadSeconds: secondsSince(started), stop };
}

/**
 * After a load strata seals its head (here 5 s after the last rows) and writes the sealed
 * segments to Parquet in a background thread: wait until the head is empty and no flush is
 * pending (strata_head_rows, strata_pending_flushes in /metrics), so that work is not timed.
 */
async function waitForFlushes(url: string): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const text = await (await fetch(`${url}/metrics`)).text();
    const head = /^strata_head_rows\{table="metrics"\} (\d+)/m.exec(text);
    const pending = /^strata_pending_flushes (\d+)/m.exec(text);
    if ((!head || head[1] === '0') && (!pending || pending[1] === '0')) return;
    if (Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Imported rows become searchable shortly after the flush: wait until all series are. */
async function waitForSamples(url: string, w: BenchWorkload): Promise<void> {
  const deadline = Date.now() + 120_000;
  const params = new URLSearchParams({ query: 'count({__name__=~"bench_.*"})', time: String(w.endMs / 1000) });
  for (;;) {
    const body = (await (await fetch(`${url}/api/v1/query?${params}`)).json()) as { data?: { result?: { value: [number, string] }[] } };
    if (Number(body.data?.result?.[0]?.value[1]) === w.series.length) return;
    if (Date.now() > deadline) throw new Error('VictoriaMetrics: imported series not searchable after 120 s');
    await new Promise((r) => setTimeout(r, 500));
  }
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

export interface Timed {
  ms: number;
  /** Until the first byte of the answer (the server's work, before the transfer). */
  firstByteMs: number;
  status: number;
  body: Buffer;
}

/** One GET, timed from the request to the last byte of the answer. */
export function timedGet(url: string): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(url, { agent }, (res) => {
      const firstByteMs = performance.now() - started;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ ms: performance.now() - started, firstByteMs, status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitFor(url: string, path: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${url}: process exited (${child.exitCode}) before answering`);
    try {
      if ((await fetch(url + path)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url}: no answer on ${path} within 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function secondsSince(started: number): number {
  return Math.round((performance.now() - started) / 100) / 10;
}
