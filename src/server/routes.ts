import type { Config } from '../config.ts';
import type { Server } from './app.ts';
import { ok } from './http.ts';
import { EXPOSITION_CONTENT_TYPE } from './metrics-registry.ts';
import { openApiDocument } from './openapi.ts';
import { registerProcessMetrics } from './process-metrics.ts';

/** Cleanup to run at shutdown, after the server stopped taking requests (e.g. flush the store). */
export type ShutdownHook = () => Promise<void>;

/** What routes may use. Long-lived resources (the store) are opened in startServer and added here. */
export interface RouteContext {
  config: Config;
  onShutdown(hook: ShutdownHook): void;
}

/** The whole route table: one line per feature module. */
export function registerRoutes(server: Server, ctx: RouteContext): void {
  registerOperationalRoutes(server);
}

function registerOperationalRoutes(server: Server): void {
  registerProcessMetrics(server.metrics);
  const health = () => ok({ status: 'OK' });
  server.route('GET', '/health', health);
  // Llama Stack clients ask under /v1.
  server.route('GET', '/v1/health', health);
  server.route('GET', '/metrics', () => ({ status: 200, raw: server.metrics.render(), contentType: EXPOSITION_CONTENT_TYPE }));
  server.route('GET', '/openapi.json', () => ok(openApiDocument(server.routes())));
}
