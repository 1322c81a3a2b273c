/** The Llama Stack Telemetry query routes (SPEC §2) and DatasetIO iterrows, over the store; ingest is ingest-routes.ts. */
import type { Store } from '../store.ts';
import { badRequest } from '../telemetry/errors.ts';
import { iterRows, saveSpansToDataset } from '../telemetry/datasets.ts';
import { queryMetrics } from '../telemetry/metrics.ts';
import { parseBody } from '../telemetry/schema.ts';
import { getNestedSpanTree, getSpanTree, querySpans } from '../telemetry/span-tree.ts';
import { getSpan, getTrace, queryTraces } from '../telemetry/traces.ts';
import type { Server } from './app.ts';
import { ok, type RouteRequest } from './http.ts';
import type { SpanCondition } from '../index/spans.ts';
import type { QueryLimiter } from '../limits.ts';
import { queryMetricsWithinLimits } from './limits.ts';

export interface TelemetryContext {
  store: Store;
  dataDir: string;
  /** Caps the points of a query_metrics answer (src/limits.ts). */
  queries?: QueryLimiter;
}

/** The body decoded by Content-Type; an absent body reads as `{}` (every field optional). */
function body(req: RouteRequest): unknown {
  return req.decodeBody() ?? {};
}

export function registerTelemetryRoutes(server: Server, ctx: TelemetryContext): void {
  const { store } = ctx;

  server.route('POST', '/v1/telemetry/traces', (req) => {
    const q = parseBody('QueryTracesBody', body(req));
    return ok({ data: queryTraces(store, { ...q, attribute_filters: q.attribute_filters as SpanCondition[] | null | undefined }) });
  });
  server.route('POST', '/alpha/telemetry/query-traces', (req) => {
    const q = parseBody('QueryTracesBody', body(req));
    return ok(queryTraces(store, { ...q, attribute_filters: q.attribute_filters as SpanCondition[] | null | undefined }));
  });

  server.route('GET', '/v1/telemetry/traces/:trace_id', (req) => ok(getTrace(store, req.params.trace_id)));
  server.route('GET', '/v1/telemetry/traces/:trace_id/spans/:span_id', (req) => ok(getSpan(store, req.params.trace_id, req.params.span_id)));

  server.route('POST', '/v1/telemetry/spans/:span_id/tree', (req) => {
    const q = parseBody('GetSpanTreeBody', body(req));
    return ok({ data: getSpanTree(store, req.params.span_id, q) });
  });
  server.route('POST', '/alpha/telemetry/get-span-tree', (req) => {
    const q = parseBody('LegacyGetSpanTreeBody', body(req));
    return ok(getNestedSpanTree(store, q.span_id, q));
  });

  server.route('POST', '/v1/telemetry/spans', (req) => {
    const q = parseBody('QuerySpansBody', body(req));
    return ok({ data: querySpans(store, { ...q, attribute_filters: q.attribute_filters as SpanCondition[] }) });
  });

  server.route('POST', '/v1/telemetry/spans/export', (req) => {
    const q = parseBody('SaveSpansToDatasetBody', body(req));
    saveSpansToDataset(store, ctx.dataDir, { ...q, attribute_filters: q.attribute_filters as SpanCondition[] });
    return ok(null);
  });

  server.route('POST', '/v1/telemetry/metrics/:metric_name', (req) => {
    const q = parseBody('QueryMetricsBody', body(req));
    const name = req.params.metric_name;
    return ok({ data: queryMetricsWithinLimits(ctx.queries, store, name, q, () => queryMetrics(store, name, q)) });
  });

  server.route('GET', '/v1/datasetio/iterrows/:dataset_id', async (req) =>
    ok(await iterRows(ctx.dataDir, req.params.dataset_id, intParam(req, 'start_index'), intParam(req, 'limit'))));
}

function intParam(req: RouteRequest, name: string): number | undefined {
  const raw = req.query.get(name);
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw badRequest(`${name}: expected an integer >= 0, got ${JSON.stringify(raw)}`);
  return n;
}
