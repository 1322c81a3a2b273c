import type { Config } from '../config.ts';
import { log } from '../log.ts';
import { Store } from '../store.ts';
import { registerExactMsgpackTimestamps } from '../telemetry/time.ts';
import { createServer, type Server } from './app.ts';
import { createAuthorizer, loadTokenFile } from './auth.ts';
import { registerRoutes, type ShutdownHook } from './routes.ts';
import { IngestLimiter, LimitMetrics, limitsFrom, QueryLimiter } from '../limits.ts';
import { withQueryLimits } from './limits.ts';

export interface RunningServer {
  server: Server;
  port: number;
  /** e.g. `http://127.0.0.1:8321`. */
  url: string;
  /** Stops accepting, drains in-flight requests, then runs the shutdown hooks (last registered first). */
  stop(): Promise<void>;
}

/** Everything `strata serve` runs, minus signal handling, so tests can start it in-process. */
export async function startServer(config: Config): Promise<RunningServer> {
  // msgpack timestamp extensions keep their microseconds (msgpackr's default drops them).
  registerExactMsgpackTimestamps();
  const server = createServer({
    host: config.host,
    port: config.port,
    bodyLimitBytes: config.bodyLimitBytes,
    bodyTimeoutMs: config.bodyTimeoutMs,
    drainTimeoutMs: config.shutdownTimeoutMs,
    authorize: config.authTokensPath ? createAuthorizer(loadTokenFile(config.authTokensPath)) : undefined,
  });
  if (!config.authTokensPath && !isLoopback(config.host)) {
    log.warn('listening on a non-loopback address without auth: anyone who can reach it can read and write telemetry (set STRATA_AUTH_TOKENS)', { host: config.host });
  }
  const shutdownHooks: ShutdownHook[] = [];
  const store = await Store.open({
    dataDir: config.dataDir,
    fsync: config.fsync,
    limits: { maxHeadRows: config.segmentRows, maxHeadAgeMicros: config.segmentMaxAgeMs * 1000 },
    maintenanceIntervalMs: Math.min(1000, config.retentionSweepMs),
    sweepIntervalMs: config.retentionSweepMs,
    log: (msg) => log.warn(msg),
  });
  // Hooks run last-registered first: the store closes (seal, flush, WAL close) after the server drained.
  shutdownHooks.push(() => store.close());
  // Resource limits: a batch is checked whole before the WAL sees it; query routes take a slot of the semaphore.
  const limits = limitsFrom(config);
  const limitMetrics = new LimitMetrics(server.metrics, limits);
  const queries = new QueryLimiter(limits, limitMetrics, server.metrics);
  const ingest = new IngestLimiter(store, limits, limitMetrics, server.metrics).wrap((batch) => store.ingest(batch));
  registerRoutes(withQueryLimits(server, queries), { config, store, ingest, queries, onShutdown: (hook) => shutdownHooks.push(hook) });
  const port = await server.listen();
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  return { server, port, url, stop: () => stopServer(server, shutdownHooks) };
}

async function stopServer(server: Server, hooks: ShutdownHook[]): Promise<void> {
  await server.close();
  const failures: unknown[] = [];
  for (const hook of [...hooks].reverse()) {
    try {
      await hook();
    } catch (error) {
      log.error('shutdown hook failed', { error });
      failures.push(error);
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, `${failures.length} shutdown hook(s) failed`);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
