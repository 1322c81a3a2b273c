import { DEFAULT_LATENCY_BUCKETS, type MetricsRegistry } from './metrics-registry.ts';

/**
 * Per-route request counts and latencies. The route label is the registered pattern
 * (`POST /v1/telemetry/traces/:trace_id`), never the raw path, so label cardinality stays
 * bounded by the route table; everything unmatched shares `unmatched`.
 */
export interface HttpMetrics {
  record(route: string, status: number, seconds: number): void;
}

export const UNMATCHED_ROUTE = 'unmatched';

export function registerHttpMetrics(registry: MetricsRegistry): HttpMetrics {
  const requests = registry.counter({
    name: 'strata_http_requests_total',
    help: 'HTTP requests answered, by route pattern and status code.',
    labelNames: ['route', 'status'],
  });
  const duration = registry.histogram({
    name: 'strata_http_request_duration_seconds',
    help: 'Time from request arrival to the response being written, by route pattern.',
    labelNames: ['route'],
    buckets: [0.0005, 0.001, 0.0025, ...DEFAULT_LATENCY_BUCKETS],
  });
  return {
    record(route, status, seconds) {
      requests.labels(route, String(status)).inc();
      duration.labels(route).observe(seconds);
    },
  };
}
