import type { Config } from '../config.ts';
import type { Store } from '../store.ts';
import type { IngestBatch } from '../storage/events.ts';
import { registerTelemetryRoutes } from './telemetry.ts';
import { registerIngestRoutes } from './ingest-routes.ts';
import { registerIngestStream } from './stream.ts';
import { registerOtlpRoutes } from './otlp.ts';
import { defaultBacklogLimits, IngestGate } from './overload.ts';
import { registerUiRoutes } from './ui.ts';
import { DecodePool } from '../telemetry/decode-pool.ts';
import { registerPrometheusRoutes } from './prometheus.ts';
import type { Server } from './app.ts';
import { ok } from './http.ts';
import { EXPOSITION_CONTENT_TYPE } from './metrics-registry.ts';
import { buildOpenApiDocument } from '../telemetry/openapi.ts';
import { registerProcessMetrics } from './process-metrics.ts';
import { registerStoreMetrics } from './store-metrics.ts';
import type { QueryLimiter } from '../limits.ts';

/** Cleanup to run at shutdown, after the server stopped taking requests (e.g. flush the store). */
export type ShutdownHook = () => Promise<void>;

/** What routes may use. Long-lived resources (the store) are opened in startServer and added here. */
export interface RouteContext {
  config: Config;
  store: Store;
  /** Makes a batch durable (WAL), then applies it. */
  ingest(batch: IngestBatch): Promise<void>;
  /** The concurrent-query and points limits (src/limits.ts); absent = unlimited. */
  queries?: QueryLimiter;
  onShutdown(hook: ShutdownHook): void;
}

/** The whole route table: one line per feature module. */
export function registerRoutes(server: Server, ctx: RouteContext): void {
  registerOperationalRoutes(server);
  registerStoreMetrics(server.metrics, ctx.store);
  registerTelemetryRoutes(server, { store: ctx.store, dataDir: ctx.config.dataDir, queries: ctx.queries });
  const gate = new IngestGate(ctx.ingest, defaultBacklogLimits(ctx.config.bodyLimitBytes), server.metrics);
  const decoder = new DecodePool({ threads: ctx.config.ingestThreads });
  ctx.onShutdown(async () => void (await decoder.close()));
  registerIngestRoutes(server, { gate, decoder, defaultTtlSeconds: ctx.config.defaultTtlSeconds });
  registerIngestStream(server, gate, decoder, { maxMessageBytes: ctx.config.bodyLimitBytes, defaultTtlSeconds: ctx.config.defaultTtlSeconds });
  registerOtlpRoutes(server, { gate, defaultTtlSeconds: ctx.config.defaultTtlSeconds, maxBodyBytes: ctx.config.bodyLimitBytes });
  registerPrometheusRoutes(server, { store: ctx.store, maxPointsPerSeries: ctx.config.maxPointsPerSeries });
  registerUiRoutes(server, { store: ctx.store });
}

function registerOperationalRoutes(server: Server): void {
  registerProcessMetrics(server.metrics);
  const health = () => ok({ status: 'OK' });
  server.route('GET', '/health', health);
  // Llama Stack clients ask under /v1.
  server.route('GET', '/v1/health', health);
  server.route('GET', '/metrics', () => ({ status: 200, raw: server.metrics.render(), contentType: EXPOSITION_CONTENT_TYPE }));
  // Built once from the same schemas that validate requests.
  let openapi: object | null = null;
  server.route('GET', '/openapi.json', () => ok((openapi ??= buildOpenApiDocument())));
}
