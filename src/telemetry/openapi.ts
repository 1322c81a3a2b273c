/**
 * The OpenAPI 3.1 document served at GET /openapi.json, built from the same TypeBox schemas
 * that validate requests (schema.ts), so the document cannot drift from what is enforced.
 * Every schema with a `title` becomes a component and is referenced by `$ref`.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import * as S from './schema.ts';

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers: { url: string }[];
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
  tags: { name: string; description: string }[];
}

export interface OpenApiOptions {
  version?: string;
  serverUrl?: string;
}

/** Builds the whole document; cheap enough to build once at startup and serve as a string. */
export function buildOpenApiDocument(options: OpenApiOptions = {}): OpenApiDocument {
  const components = new ComponentCollector();
  const paths: OpenApiDocument['paths'] = {};
  for (const route of routes()) {
    paths[route.path] ??= {};
    paths[route.path][route.method] = operation(route, components);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'strata',
      version: options.version ?? '0.1.0',
      description:
        'Llama Stack Telemetry API (traces, spans, span trees, metrics, span export), msgpack ingest, ' +
        'OTLP/HTTP JSON and the Prometheus HTTP API. Errors: {"error": {"detail": "..."}} ' +
        '(Prometheus routes: {"status": "error", "errorType": ..., "error": ...}).',
    },
    servers: [{ url: options.serverUrl ?? 'http://127.0.0.1:8321' }],
    paths,
    components: {
      schemas: components.schemas,
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'Only when the server runs with --auth-tokens; operations list the scope they need.',
        },
      },
    },
    tags: [
      { name: 'Telemetry', description: 'Llama Stack Telemetry API (/v1)' },
      { name: 'Telemetry (alpha)', description: 'The first revision of the Telemetry API, still served' },
      { name: 'DatasetIO', description: 'Rows saved by save_spans_to_dataset' },
      { name: 'OTLP', description: 'OpenTelemetry OTLP/HTTP JSON receivers' },
      { name: 'Prometheus', description: 'Prometheus HTTP API (PromQL subset)' },
      { name: 'Operations', description: 'Health, own metrics, this document' },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------

type Method = 'get' | 'post';
type Scope = 'telemetry.read' | 'telemetry.write';

interface Parameter {
  name: string;
  in: 'path' | 'query';
  schema: TSchema;
  required?: boolean;
  description?: string;
}

interface Route {
  method: Method;
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  scope?: Scope;
  parameters?: Parameter[];
  /** Request body by content type. */
  body?: Record<string, TSchema>;
  /** The success response: status, description and, by content type, its schema. */
  success: { status: string; description: string; content?: Record<string, TSchema> };
  /** Error statuses answered with Llama Stack's error shape (or Prometheus' on its routes). */
  errors: number[];
  errorSchema?: TSchema;
}

const JSON_TYPE = 'application/json';
const MSGPACK_TYPES = ['application/msgpack', 'application/x-msgpack'];
const FORM_TYPE = 'application/x-www-form-urlencoded';

const NullResponse = Type.Null({ description: 'Always null' });
const ID_PATH = (name: string, description: string): Parameter => ({ name, in: 'path', required: true, schema: Type.String(), description });

/** JSON and both msgpack content types with the same schemas; msgpack also takes the extra shapes. */
function jsonAndMsgpack(json: TSchema[], msgpackOnly: TSchema[] = []): Record<string, TSchema> {
  const body: Record<string, TSchema> = { [JSON_TYPE]: oneOf(json) };
  for (const type of MSGPACK_TYPES) body[type] = oneOf([...json, ...msgpackOnly]);
  return body;
}

function oneOf(schemas: TSchema[]): TSchema {
  return schemas.length === 1 ? schemas[0] : Type.Union(schemas);
}

function jsonBody(schema: TSchema): Record<string, TSchema> {
  return { [JSON_TYPE]: schema };
}

function routes(): Route[] {
  return [...telemetryRoutes(), ...alphaRoutes(), ...ingestRoutes(), ...prometheusRoutes(), ...operationsRoutes(), ...uiRoutes()];
}

/** The built-in web UI (src/server/ui.ts): public static files, and the one read route it adds. */
function uiRoutes(): Route[] {
  const tag = 'Web UI';
  const file = (path: string, operationId: string, summary: string): Route => ({
    method: 'get', path, operationId, tag, summary,
    parameters: path.includes('{file}') ? [ID_PATH('file', 'File name')] : undefined,
    success: { status: '200', description: 'The file (ETag; 304 on If-None-Match)', content: { 'text/html': Type.String(), 'text/javascript': Type.String(), 'text/css': Type.String() } },
    errors: [404],
  });
  const WireLog = Type.Object({
    timestamp: Type.String(), severity: Type.String(), message: Type.String(), trace_id: Type.String(), span_id: Type.String(),
    attributes: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  }, { title: 'SpanLog' });
  return [
    file('/', 'ui_index', 'The web UI'),
    ...['/ui', '/ui/'].map((path, i): Route => ({
      method: 'get', path, operationId: `ui_redirect${i ? '_slash' : ''}`, tag, summary: 'Redirects to /',
      success: { status: '302', description: 'To the web UI' }, errors: [],
    })),
    file('/ui/{file}', 'ui_file', "The web UI's scripts, styles and images"),
    file('/ui/vendor/{file}', 'ui_vendor_file', 'uPlot (uplot.esm.js, uplot.min.css), served from node_modules'),
    {
      method: 'get', path: '/v1/strata/spans/{span_id}/logs', operationId: 'span_logs', tag, scope: 'telemetry.read',
      summary: "A span's unstructured logs, oldest first (strata-specific; read from the span's time window)",
      parameters: [ID_PATH('span_id', 'Span id')],
      success: { status: '200', description: 'The logs', content: jsonBody(Type.Object({ data: Type.Array(WireLog) }, { title: 'SpanLogsResponse' })) },
      errors: [401, 403, 404],
    },
  ];
}

function telemetryRoutes(): Route[] {
  const tag = 'Telemetry';
  return [
    {
      method: 'post', path: '/v1/telemetry/events', operationId: 'log_event', tag, scope: 'telemetry.write',
      summary: 'Log an event, a batch of events, or (msgpack) a series batch; acknowledged once durable',
      body: jsonAndMsgpack([S.LogEventBody, S.EventBatchBody], [S.SeriesBatchBody]),
      success: { status: '200', description: 'Stored', content: jsonBody(NullResponse) },
      errors: [400, 401, 403, 413],
    },
    {
      method: 'post', path: '/v1/telemetry/traces', operationId: 'query_traces', tag, scope: 'telemetry.read',
      summary: 'Traces having a span that matches every attribute filter, paged and ordered',
      body: jsonBody(S.QueryTracesBody),
      success: { status: '200', description: 'Matching traces', content: jsonBody(S.QueryTracesResponse) },
      errors: [400, 401, 403],
    },
    {
      method: 'get', path: '/v1/telemetry/traces/{trace_id}', operationId: 'get_trace', tag, scope: 'telemetry.read',
      summary: 'One trace',
      parameters: [ID_PATH('trace_id', 'Trace id')],
      success: { status: '200', description: 'The trace', content: jsonBody(S.Trace) },
      errors: [401, 403, 404],
    },
    {
      method: 'get', path: '/v1/telemetry/traces/{trace_id}/spans/{span_id}', operationId: 'get_span', tag, scope: 'telemetry.read',
      summary: 'One span of a trace',
      parameters: [ID_PATH('trace_id', 'Trace id'), ID_PATH('span_id', 'Span id')],
      success: { status: '200', description: 'The span', content: jsonBody(S.Span) },
      errors: [401, 403, 404],
    },
    {
      method: 'post', path: '/v1/telemetry/spans/{span_id}/tree', operationId: 'get_span_tree', tag, scope: 'telemetry.read',
      summary: 'A span and its descendants down to max_depth, keyed by span id',
      parameters: [ID_PATH('span_id', 'Span at the root of the tree')],
      body: jsonBody(S.GetSpanTreeBody),
      success: { status: '200', description: 'The tree', content: jsonBody(S.QuerySpanTreeResponse) },
      errors: [400, 401, 403, 404],
    },
    {
      method: 'post', path: '/v1/telemetry/spans', operationId: 'query_spans', tag, scope: 'telemetry.read',
      summary: 'Spans of the trees of the matching traces that carry every attribute to return',
      body: jsonBody(S.QuerySpansBody),
      success: { status: '200', description: 'Matching spans', content: jsonBody(S.QuerySpansResponse) },
      errors: [400, 401, 403],
    },
    {
      method: 'post', path: '/v1/telemetry/spans/export', operationId: 'save_spans_to_dataset', tag, scope: 'telemetry.write',
      summary: 'Append the rows of query_spans to a dataset as a new Parquet part file',
      body: jsonBody(S.SaveSpansToDatasetBody),
      success: { status: '200', description: 'Saved', content: jsonBody(NullResponse) },
      errors: [400, 401, 403],
    },
    {
      method: 'post', path: '/v1/telemetry/metrics/{metric_name}', operationId: 'query_metrics', tag, scope: 'telemetry.read',
      summary: 'Range (bucketed by granularity) or instant query of one metric, filtered by label matchers',
      parameters: [ID_PATH('metric_name', 'Metric name')],
      body: jsonBody(S.QueryMetricsBody),
      success: { status: '200', description: 'One series per label set', content: jsonBody(S.QueryMetricsResponse) },
      errors: [400, 401, 403],
    },
    {
      method: 'get', path: '/v1/datasetio/iterrows/{dataset_id}', operationId: 'iterrows', tag: 'DatasetIO', scope: 'telemetry.read',
      summary: 'Rows of a dataset saved by save_spans_to_dataset',
      parameters: [
        ID_PATH('dataset_id', 'Dataset id'),
        { name: 'start_index', in: 'query', schema: Type.Integer({ minimum: 0, default: 0 }) },
        { name: 'limit', in: 'query', schema: Type.Integer({ minimum: 0 }), description: 'Absent = all remaining rows' },
      ],
      success: { status: '200', description: 'A page of rows', content: jsonBody(S.IterRowsResponse) },
      errors: [400, 401, 403, 404],
    },
  ];
}

function alphaRoutes(): Route[] {
  const tag = 'Telemetry (alpha)';
  return [
    {
      method: 'post', path: '/alpha/telemetry/log-event', operationId: 'alpha_log_event', tag, scope: 'telemetry.write',
      summary: 'Log one event (first revision of log_event)',
      body: jsonAndMsgpack([S.LogEventBody]),
      success: { status: '200', description: 'Stored', content: jsonBody(NullResponse) },
      errors: [400, 401, 403, 413],
    },
    {
      method: 'post', path: '/alpha/telemetry/query-traces', operationId: 'alpha_query_traces', tag, scope: 'telemetry.read',
      summary: 'query_traces returning a bare array',
      body: jsonBody(S.QueryTracesBody),
      success: { status: '200', description: 'Matching traces', content: jsonBody(S.LegacyQueryTracesResponse) },
      errors: [400, 401, 403],
    },
    {
      method: 'post', path: '/alpha/telemetry/get-span-tree', operationId: 'alpha_get_span_tree', tag, scope: 'telemetry.read',
      summary: 'The span tree as one nested span with children',
      body: jsonBody(S.LegacyGetSpanTreeBody),
      success: { status: '200', description: 'The tree', content: jsonBody(S.SpanWithChildren) },
      errors: [400, 401, 403, 404],
    },
  ];
}

const OtlpTracesRequest = Type.Object(
  { resourceSpans: Type.Array(Type.Unknown()) },
  { title: 'ExportTraceServiceRequest', description: 'OTLP/HTTP JSON, as the OpenTelemetry SDK exporters send it' },
);
const OtlpMetricsRequest = Type.Object(
  { resourceMetrics: Type.Array(Type.Unknown()) },
  { title: 'ExportMetricsServiceRequest', description: 'OTLP/HTTP JSON, as the OpenTelemetry SDK exporters send it' },
);
const OtlpResponse = Type.Object(
  { partialSuccess: Type.Optional(Type.Record(Type.String(), Type.Unknown())) },
  { title: 'ExportServiceResponse' },
);

function ingestRoutes(): Route[] {
  return [
    {
      method: 'get', path: '/v1/telemetry/stream', operationId: 'stream_events', tag: 'Telemetry', scope: 'telemetry.write',
      summary:
        'WebSocket upgrade: each binary message is a msgpack LogEventRequest, LogEventBatchRequest or ' +
        'SeriesBatchRequest, answered with {"ok": n} or {"error": "..."}',
      success: { status: '101', description: 'Switching to the WebSocket protocol' },
      errors: [401, 403],
    },
    {
      method: 'post', path: '/v1/traces', operationId: 'otlp_traces', tag: 'OTLP', scope: 'telemetry.write',
      summary: 'OTLP/HTTP JSON spans, mapped onto span_start/span_end',
      body: jsonBody(OtlpTracesRequest),
      success: { status: '200', description: 'Accepted', content: jsonBody(OtlpResponse) },
      errors: [400, 401, 403, 413],
    },
    {
      method: 'post', path: '/v1/metrics', operationId: 'otlp_metrics', tag: 'OTLP', scope: 'telemetry.write',
      summary: 'OTLP/HTTP JSON metrics, mapped onto series',
      body: jsonBody(OtlpMetricsRequest),
      success: { status: '200', description: 'Accepted', content: jsonBody(OtlpResponse) },
      errors: [400, 401, 403, 413],
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Prometheus HTTP API: its own success envelope and error shape
// ---------------------------------------------------------------------------------------------

const PrometheusError = Type.Object(
  {
    status: Type.Literal('error'),
    errorType: Type.String({ examples: ['bad_data', 'execution', 'timeout'] }),
    error: Type.String(),
  },
  { title: 'PrometheusError' },
);

const prometheusSuccess = (title: string, data: TSchema) =>
  Type.Object({ status: Type.Literal('success'), data, warnings: Type.Optional(Type.Array(Type.String())) }, { title });

const PrometheusQueryResult = prometheusSuccess(
  'PrometheusQueryResponse',
  Type.Object({
    resultType: Type.Union([Type.Literal('vector'), Type.Literal('matrix'), Type.Literal('scalar'), Type.Literal('string')]),
    result: Type.Unknown({ description: 'vector: [{metric, value: [t, "v"]}], matrix: [{metric, values: [[t, "v"], ...]}], scalar/string: [t, "v"]' }),
  }),
);
const PrometheusSeriesResult = prometheusSuccess('PrometheusSeriesResponse', Type.Array(Type.Record(Type.String(), Type.String())));
const PrometheusLabelsResult = prometheusSuccess('PrometheusLabelsResponse', Type.Array(Type.String()));
const PrometheusMetadataResult = prometheusSuccess(
  'PrometheusMetadataResponse',
  Type.Record(Type.String(), Type.Array(Type.Object({ type: Type.String(), help: Type.String(), unit: Type.String() }))),
);
const PrometheusBuildInfoResult = prometheusSuccess(
  'PrometheusBuildInfoResponse',
  Type.Record(Type.String(), Type.String(), { description: 'version, revision, branch, buildUser, buildDate, goVersion' }),
);

const TIME_PARAM = Type.String({ description: 'RFC 3339 or Unix seconds (float)' });
const MATCH_PARAM = Type.Array(Type.String(), { description: 'Series selectors, e.g. up{job="x"}' });

type ParamList = [name: string, schema: TSchema, required?: boolean][];

/** A Prometheus endpoint answered on GET (query string) and on POST (form body) alike. */
function prometheusRoute(path: string, operationId: string, summary: string, params: ParamList, result: TSchema, pathParams: Parameter[] = []): Route[] {
  const common = { path, tag: 'Prometheus', scope: 'telemetry.read' as const, summary, errorSchema: PrometheusError, errors: [400, 422, 503] };
  const success = { status: '200', description: 'Success', content: jsonBody(result) };
  const query: Parameter[] = params.map(([name, schema, required]) => ({ name, in: 'query', schema, required }));
  const form = Type.Object(Object.fromEntries(params.map(([name, schema, required]) => [name, required ? schema : Type.Optional(schema)])));
  return [
    { ...common, method: 'get', operationId: `${operationId}_get`, parameters: [...pathParams, ...query], success },
    { ...common, method: 'post', operationId: `${operationId}_post`, parameters: pathParams, body: { [FORM_TYPE]: form }, success },
  ];
}

function prometheusRoutes(): Route[] {
  const range: ParamList = [['start', TIME_PARAM], ['end', TIME_PARAM]];
  return [
    ...prometheusRoute('/api/v1/query', 'prometheus_query', 'Instant PromQL query', [
      ['query', Type.String(), true], ['time', TIME_PARAM], ['timeout', Type.String()],
    ], PrometheusQueryResult),
    ...prometheusRoute('/api/v1/query_range', 'prometheus_query_range', 'Range PromQL query', [
      ['query', Type.String(), true], ['start', TIME_PARAM, true], ['end', TIME_PARAM, true],
      ['step', Type.String({ description: 'Duration (5m) or float seconds' }), true], ['timeout', Type.String()],
    ], PrometheusQueryResult),
    ...prometheusRoute('/api/v1/series', 'prometheus_series', 'Series matching selectors', [['match[]', MATCH_PARAM, true], ...range], PrometheusSeriesResult),
    ...prometheusRoute('/api/v1/labels', 'prometheus_labels', 'Label names', [['match[]', MATCH_PARAM], ...range], PrometheusLabelsResult),
    ...prometheusRoute('/api/v1/label/{name}/values', 'prometheus_label_values', 'Values of one label', [['match[]', MATCH_PARAM], ...range],
      PrometheusLabelsResult, [ID_PATH('name', 'Label name')]),
    ...prometheusRoute('/api/v1/metadata', 'prometheus_metadata', 'Metric metadata (type, help, unit)', [
      ['metric', Type.String()], ['limit', Type.Integer()],
    ], PrometheusMetadataResult),
    ...prometheusRoute('/api/v1/status/buildinfo', 'prometheus_buildinfo', 'Build information', [], PrometheusBuildInfoResult),
  ];
}

function operationsRoutes(): Route[] {
  const tag = 'Operations';
  const health = (path: string, operationId: string): Route => ({
    method: 'get', path, operationId, tag, summary: 'Liveness',
    success: { status: '200', description: 'Serving', content: jsonBody(Type.Object({ status: Type.String({ examples: ['OK'] }) })) },
    errors: [],
  });
  return [
    health('/health', 'health'),
    // Llama Stack clients ask under /v1.
    health('/v1/health', 'health_v1'),
    {
      method: 'get', path: '/metrics', operationId: 'own_metrics', tag, summary: "The engine's own metrics in Prometheus text format",
      success: { status: '200', description: 'Prometheus exposition format', content: { 'text/plain; version=0.0.4': Type.String() } },
      errors: [],
    },
    {
      method: 'get', path: '/openapi.json', operationId: 'openapi', tag, summary: 'This document',
      success: { status: '200', description: 'OpenAPI 3.1', content: jsonBody(Type.Object({}, { additionalProperties: true })) },
      errors: [],
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Route -> OpenAPI operation
// ---------------------------------------------------------------------------------------------

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed body, schema violation or bad value; the detail names the field',
  401: 'Missing or invalid bearer token',
  403: 'The token lacks the required scope',
  404: 'Unknown trace, span, dataset or route',
  413: 'Body over the size limit (default 16 MiB)',
  422: 'The query cannot be executed',
  500: 'Internal error (no details leaked)',
  503: 'Query timed out or was aborted',
};

function operation(route: Route, components: ComponentCollector): Record<string, unknown> {
  const op: Record<string, unknown> = { operationId: route.operationId, summary: route.summary, tags: [route.tag] };
  if (route.parameters?.length) op.parameters = route.parameters.map((p) => parameter(p, components));
  if (route.body) op.requestBody = { required: true, content: content(route.body, components) };
  op.responses = responses(route, components);
  if (route.scope) {
    // `{}` makes auth optional: it is only enforced when the server runs with --auth-tokens.
    op.security = [{ bearerAuth: [route.scope] }, {}];
    op['x-required-scope'] = route.scope;
  }
  return op;
}

function parameter(p: Parameter, components: ComponentCollector): Record<string, unknown> {
  const out: Record<string, unknown> = { name: p.name, in: p.in, required: p.in === 'path' || !!p.required, schema: components.convert(p.schema) };
  if (p.description) out.description = p.description;
  if (p.name.endsWith('[]')) Object.assign(out, { style: 'form', explode: true });
  return out;
}

function content(byType: Record<string, TSchema>, components: ComponentCollector): Record<string, unknown> {
  return Object.fromEntries(Object.entries(byType).map(([type, schema]) => [type, { schema: components.convert(schema) }]));
}

function responses(route: Route, components: ComponentCollector): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const { status, description, content: body } = route.success;
  out[status] = body ? { description, content: content(body, components) } : { description };
  const errorContent = content(jsonBody(route.errorSchema ?? S.ErrorResponse), components);
  for (const code of [...route.errors, 500]) out[String(code)] = { description: ERROR_DESCRIPTIONS[code], content: errorContent };
  return out;
}

// ---------------------------------------------------------------------------------------------
// TypeBox schema -> OpenAPI 3.1 (JSON Schema 2020-12) schema
// ---------------------------------------------------------------------------------------------

/** Keys schema.ts adds for its own error messages; not part of the published schema. */
const PRIVATE_KEYS = new Set(['expected', 'errorMessage', '$id']);
/** Keys whose value is a map of name -> schema rather than a schema. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs']);
/** Keys whose value is data, never a schema. */
const DATA_KEYS = new Set(['const', 'default', 'examples', 'enum', 'required']);

type JsonObject = Record<string, unknown>;

/** Converts schemas, collecting every titled sub-schema once under components/schemas. */
class ComponentCollector {
  readonly schemas: Record<string, unknown> = {};
  private readonly serialized = new Map<string, string>();

  convert(schema: unknown): unknown {
    return this.visit(schema, false);
  }

  private visit(schema: unknown, isComponentRoot: boolean): unknown {
    if (Array.isArray(schema)) return schema.map((s) => this.visit(s, false));
    if (!isObject(schema)) return schema;
    if (!isComponentRoot && typeof schema.title === 'string') return this.reference(schema.title, schema);
    // Type.Recursive's self-reference is `{$ref: "<$id>"}`; the $id is also the title.
    if (typeof schema.$ref === 'string' && !schema.$ref.startsWith('#')) return { $ref: componentRef(schema.$ref) };
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(schema)) {
      if (PRIVATE_KEYS.has(key)) continue;
      if (DATA_KEYS.has(key)) out[key] = value;
      else if (SCHEMA_MAPS.has(key)) out[key] = this.visitMap(value as JsonObject);
      else out[key] = this.visit(value, false);
    }
    const tag = (schema.discriminator as { propertyName?: string } | undefined)?.propertyName;
    return tag ? taggedOneOf(out, schema.anyOf as JsonObject[], tag) : tidy(out);
  }

  private visitMap(map: JsonObject): JsonObject {
    return Object.fromEntries(Object.entries(map).map(([name, schema]) => [name, this.visit(schema, false)]));
  }

  private reference(name: string, schema: JsonObject): JsonObject {
    if (!(name in this.schemas)) {
      this.schemas[name] = {}; // placeholder first, so a recursive schema refers to itself
      const converted = this.visit(schema, true);
      this.schemas[name] = converted;
      this.serialized.set(name, JSON.stringify(converted));
    } else if (this.serialized.has(name) && this.serialized.get(name) !== JSON.stringify(this.visit(schema, true))) {
      throw new Error(`two different schemas are titled ${name}`);
    }
    return { $ref: componentRef(name) };
  }
}

function componentRef(name: string): string {
  return `#/components/schemas/${name}`;
}

/** Rewrites TypeBox's spellings into what OpenAPI tools read best: unions of literals become `enum`, records `additionalProperties`. */
function tidy(schema: JsonObject): JsonObject {
  const anyOf = schema.anyOf as JsonObject[] | undefined;
  if (anyOf && anyOf.every((v) => 'const' in v && v.type === anyOf[0].type)) {
    const { anyOf: _, ...rest } = schema;
    return { ...rest, type: anyOf[0].type, enum: anyOf.map((v) => v.const) };
  }
  const patterns = schema.patternProperties as JsonObject | undefined;
  if (patterns && Object.keys(patterns).length === 1 && '^(.*)$' in patterns) {
    const { patternProperties: _, ...rest } = schema;
    return { ...rest, additionalProperties: patterns['^(.*)$'] };
  }
  return schema;
}

/**
 * A tagged union as `oneOf` + `discriminator` with its mapping, read from the TypeBox
 * variants (each a titled object whose tag property is a literal).
 */
function taggedOneOf(converted: JsonObject, variants: JsonObject[], propertyName: string): JsonObject {
  const { anyOf, ...rest } = converted;
  const mapping: Record<string, string> = {};
  for (const variant of variants) {
    const tag = (variant.properties as Record<string, { const: string }>)[propertyName].const;
    mapping[tag] = componentRef(variant.title as string);
  }
  return { ...rest, oneOf: anyOf, discriminator: { propertyName, mapping } };
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null;
}
