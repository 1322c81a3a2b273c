/** The servers under test, as child processes on free ports with temporary data directories. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const VICTORIA_METRICS_BIN = '/usr/bin/victoria-metrics';

export interface ServerProcess {
  url: string;
  pid: number;
  /** SIGTERM, wait for exit, remove the data directory. */
  stop(): Promise<void>;
}

/** A port that is free on 127.0.0.1 (picked by the OS; the probe is closed before this resolves). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * `strata serve` (src/cli.ts through tsx) with the given fsync policy. With `cpuProfileDir`
 * the server runs under `node --cpu-prof` and writes its profile there when it stops.
 */
export async function startStrata(fsync: 'always' | 'batch' | 'off', cpuProfileDir?: string): Promise<ServerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'strata-ingest-bench-'));
  const port = await freePort();
  const profile = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [];
  const args = [...profile, '--import', 'tsx', join(ROOT, 'src/cli.ts'), 'serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir, '--fsync', fsync, '--log-level', 'warn'];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  return started(child, `http://127.0.0.1:${port}`, '/health', dataDir);
}

export function victoriaMetricsAvailable(): boolean {
  return existsSync(VICTORIA_METRICS_BIN);
}

/** VictoriaMetrics single-node with a fresh storage directory and a retention that keeps any timestamp. */
export async function startVictoriaMetrics(): Promise<ServerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vm-ingest-bench-'));
  const port = await freePort();
  const child = spawn(VICTORIA_METRICS_BIN, [
    `-storageDataPath=${dataDir}`, '-retentionPeriod=100y', `-httpListenAddr=127.0.0.1:${port}`, '-loggerLevel=ERROR',
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  return started(child, `http://127.0.0.1:${port}`, '/health', dataDir);
}

async function started(child: ChildProcess, url: string, healthPath: string, dataDir: string): Promise<ServerProcess> {
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${url}: process exited (${child.exitCode}) before answering`);
    try {
      if ((await fetch(url + healthPath)).ok) return { url, pid: child.pid!, stop };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${url}: no answer on ${healthPath} within 60 s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** CPU seconds a server process has used: all its threads together, and its live threads by name. */
export interface CpuSeconds {
  total: number;
  /**
   * Live threads' run time by name: `main`, strata's named decode and Parquet threads, and
   * the others under their own names (V8's and libuv's helpers are all `node`).
   */
  byThread: Record<string, number>;
}

/**
 * From /proc (Linux): the process's utime + stime (which keeps the time of threads that have
 * exited) and each live thread's schedstat run time. On a busy machine wall time is mostly
 * waiting for a core; CPU time says what the work itself cost. null where /proc is missing.
 */
export function cpuSeconds(pid: number): CpuSeconds | null {
  try {
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { total: ticks / CLOCK_TICKS_PER_SECOND, byThread: threadSeconds(pid) };
  } catch {
    return null;
  }
}

function threadSeconds(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = tid === String(pid) ? 'main' : readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      out[name] = (out[name] ?? 0) + Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e9;
    } catch {
      // The thread exited between the listing and the read.
    }
  }
  return out;
}

/** USER_HZ, 100 on every Linux this runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Waits until a freshly started server is idle (under 5% of a core over two 250 ms polls, at
 * most `maxMs`): a server that is still loading code on its threads would otherwise spend
 * that one-time work inside the timed run.
 */
export async function settled(pid: number, maxMs = 15_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  let last = cpuSeconds(pid);
  let quiet = 0;
  while (last && quiet < 2 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    const now = cpuSeconds(pid);
    if (!now) return;
    quiet = now.total - last.total < 0.25 * 0.05 ? quiet + 1 : 0;
    last = now;
  }
}
