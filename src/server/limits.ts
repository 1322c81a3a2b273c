/**
 * The server side of the resource limits (src/limits.ts): query routes run in a slot of the
 * concurrent-query semaphore, and query_metrics answers are capped in points.
 */
import type { Matcher } from '../index/matcher.ts';
import { countRawPoints, type QueryLimiter } from '../limits.ts';
import type { Store } from '../store.ts';
import type { QueryMetricsInput, WireMetricSeries } from '../telemetry/metrics.ts';
import type { Server } from './app.ts';
import type { Method, RouteHandler } from './http.ts';

/** Ingest routes under the query prefixes: they are bounded by the ingest gate, not the query semaphore. */
const INGEST = new Set(['POST /v1/telemetry/events', 'POST /alpha/telemetry/log-event', 'GET /v1/telemetry/stream']);
const QUERY_PREFIX = /^\/(v1\/telemetry|alpha\/telemetry|v1\/datasetio|api\/v1|v1\/strata)\//;

/**
 * Routes that read telemetry (and the export, which runs a span query): the Llama Stack
 * queries, DatasetIO, the Prometheus API, the UI's span logs. Not health, /metrics,
 * the OpenAPI document, the UI's files, ingest or OTLP.
 */
export function isQueryRoute(method: string, pattern: string): boolean {
  return QUERY_PREFIX.test(pattern) && !INGEST.has(`${method} ${pattern}`);
}

/**
 * The server as route modules see it, with every query route's handler run in a slot of
 * `limiter` (503 + Retry-After when none is free). A slot is taken once the request's body
 * is read — a slow client cannot hold one — and given back when the answer is ready.
 */
export function withQueryLimits(server: Server, limiter: QueryLimiter): Server {
  return {
    get metrics() { return server.metrics; },
    route(method: Method, pattern: string, handler: RouteHandler, options) {
      const limited: RouteHandler = isQueryRoute(method, pattern) ? (req) => limiter.run(() => handler(req)) : handler;
      server.route(method, pattern, limited, options);
    },
    ws: (pattern, behavior, newUserData) => server.ws(pattern, behavior, newUserData),
    routes: () => server.routes(),
    inFlight: () => server.inFlight(),
    listen: () => server.listen(),
    close: () => server.close(),
  };
}

const SEC = 1_000_000;

/**
 * query_metrics under the points limit: a raw query (granularity null or "") is counted
 * before its points are built; any answer is counted once built. `run` is the query itself;
 * when counting fails (a bad matcher, a bad range) `run` is left to report it.
 */
export function queryMetricsWithinLimits(
  limiter: QueryLimiter | undefined, store: Store, metricName: string, input: QueryMetricsInput,
  run: () => WireMetricSeries[],
): WireMetricSeries[] {
  if (!limiter) return run();
  const raw = (input.query_type ?? 'range') === 'range' && (input.granularity === null || input.granularity === '');
  if (raw) {
    let points: number | null = null;
    try {
      const endS = input.end_time ?? Math.floor(store.clock() / SEC);
      const matchers: Matcher[] = [{ name: '__name__', op: '=', value: metricName }];
      for (const m of input.label_matchers ?? []) matchers.push({ name: m.name, op: m.operator ?? '=', value: m.value });
      if (endS >= input.start_time) points = countRawPoints(store, matchers, input.start_time * SEC, endS * SEC);
    } catch {
      points = null;
    }
    if (points !== null) limiter.checkPoints(points, `query_metrics ${JSON.stringify(metricName)}`);
  }
  const data = run();
  let total = 0;
  for (const s of data) total += s.values.length;
  limiter.checkPoints(total, `query_metrics ${JSON.stringify(metricName)}`);
  return data;
}
