/**
 * A real Prometheus 2.42 serving a TSDB built from OpenMetrics text with
 * `promtool tsdb create-blocks-from openmetrics`: the reference of the parity tests and
 * the PromQL benchmark. The process runs under a watchdog shell that ends it when the
 * process that started it is gone, so a killed test run leaves no server behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../bench/ingest/processes.ts';

/** The binaries the reference needs that are not on PATH (empty when all are there). */
export function missingPrometheusBinaries(): string[] {
  return ['prometheus', 'promtool'].filter((bin) => spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0);
}

export interface PrometheusServer {
  url: string;
  pid: number;
  /** SIGTERM (SIGKILL after 15 s), wait for the exit, remove the data directory. */
  stop(): Promise<void>;
}

/**
 * Builds a TSDB from the OpenMetrics text that `writeOpenMetrics` writes to the path it is
 * given, then serves it. `dirPrefix` names the temporary directory (strata-parity-…).
 */
export async function startPrometheus(
  writeOpenMetrics: (path: string) => void,
  dirPrefix = 'strata-parity-',
  opts: { promtoolFlags?: string[]; prometheusFlags?: string[] } = {},
): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), dirPrefix));
  let proc: ChildProcess | undefined;
  try {
    const input = join(dir, 'workload.om');
    writeOpenMetrics(input);
    const blocks = join(dir, 'data');
    const created = spawnSync('promtool', ['tsdb', 'create-blocks-from', ...(opts.promtoolFlags ?? []), 'openmetrics', input, blocks], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (created.status !== 0) throw new Error(`promtool failed: ${created.stderr}`);
    rmSync(input);

    const config = join(dir, 'prometheus.yml');
    writeFileSync(config, 'global:\n  scrape_interval: 1h\n');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    proc = spawnWithWatchdog('prometheus', [
      `--config.file=${config}`,
      `--storage.tsdb.path=${blocks}`,
      '--storage.tsdb.retention.time=100y',
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
      ...(opts.prometheusFlags ?? []),
    ]);
    let stderr = '';
    proc.stderr?.on('data', (d) => (stderr += d));
    await waitReady(url, proc, () => stderr);
    const running = proc;
    return {
      url,
      pid: running.pid!,
      async stop() {
        await stopProcess(running);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    if (proc) await stopProcess(proc);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Starts `command` under a small shell that also ends it when this process is gone. The
 * shell leads its own process group.
 */
export function spawnWithWatchdog(command: string, args: string[], opts: { cwd?: string; stderr?: 'pipe' | 'inherit' } = {}): ChildProcess {
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
    cwd: opts.cwd,
    stdio: ['ignore', 'ignore', opts.stderr ?? 'pipe'],
    env: { ...process.env, WATCHED_PID: String(process.pid) },
  });
}

/** SIGTERM, then after 15 s SIGKILL to the whole process group; resolves once it exited. */
export async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => {
    try {
      process.kill(-proc.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }, 15_000);
  await exited;
  clearTimeout(timer);
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
