/**
 * Every wire shape of the Llama Stack Telemetry API, written once as TypeBox schemas: the
 * TypeScript types (Static<>), the compiled request validators and the OpenAPI document
 * (openapi.ts) all come from here. Field names, enums and nullability follow
 * llama_stack/apis/telemetry/telemetry.py (seeds/001; the /alpha bodies are seeds/000).
 *
 * Decisions:
 * - Unknown request fields are ignored, as pydantic ignores them by default (extra="ignore").
 *   They are not stripped either (that would cost a copy per event): consumers read only the
 *   declared fields.
 * - Where Python says `X | None` the field also accepts `null`, meaning "not given"; where it
 *   has a plain default (`ttl_seconds: int = 604800`, `query_type`) null is a 400, as in pydantic.
 * - Discriminators (`type`) are required, as pydantic requires them for a discriminated union.
 * - Ids (trace_id, span_id) and metric names must be non-empty: they are path segments and
 *   series keys, and an empty one could never be asked for again.
 * - Numbers must be finite (JSON cannot carry NaN); series batches, which arrive as raw
 *   float64 columns, may carry any float64 value, NaN included, as Prometheus samples may.
 * - Event timestamps: ISO 8601 string, Unix epoch milliseconds, or a msgpack timestamp
 *   (see time.ts). Numbers are always milliseconds, never pydantic's seconds-or-ms guess.
 */
import { FormatRegistry, Kind, Type, TypeRegistry, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { badRequest, type ApiError } from './errors.ts';
import { MAX_EPOCH_MILLIS, isIsoTimestamp, timestampProblem, type TimestampInput } from './time.ts';

// ---------------------------------------------------------------------------------------------
// Custom kinds: what JSON Schema cannot say (Dates, BigInt and typed arrays from msgpack)
// ---------------------------------------------------------------------------------------------

const TIMESTAMP_KIND = 'StrataTimestamp';
const NUMBER_COLUMN_KIND = 'StrataNumberColumn';

TypeRegistry.Set(TIMESTAMP_KIND, (_schema, value) => timestampProblem(value) === undefined);
TypeRegistry.Set(NUMBER_COLUMN_KIND, (_schema, value) => isNumberColumn(value));
// Response timestamps are typed `format: date-time`; TypeBox rejects unknown formats, so
// teach it ours unless the process already has one.
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', isIsoTimestamp);

/**
 * An event timestamp. The `anyOf` is what OpenAPI shows; validation is the registered check,
 * which also accepts what only msgpack can carry (a Date from the timestamp extension, BigInt).
 */
export const Timestamp = Type.Unsafe<TimestampInput>({
  [Kind]: TIMESTAMP_KIND,
  expected: 'ISO 8601 timestamp string or epoch milliseconds',
  anyOf: [
    { type: 'string', format: 'date-time', description: 'ISO 8601; no offset means UTC; up to microseconds are kept' },
    { type: 'number', description: 'Unix epoch milliseconds, possibly fractional' },
  ],
});

/** A column of float64: a plain array, a typed array (msgpackr `moreTypes`) or little-endian float64 bytes. */
export type NumberColumn = ReadonlyArray<number | bigint> | Float64Array | Float32Array | Int32Array | Uint32Array | Uint8Array;

export const NumberColumnSchema = Type.Unsafe<NumberColumn>({
  [Kind]: NUMBER_COLUMN_KIND,
  expected: 'array of numbers, Float64Array, or bin of little-endian float64',
  type: 'array',
  items: { type: 'number' },
  description:
    'msgpack only: an array of numbers, a msgpackr typed array (Float64Array), or a bin of little-endian float64 (numpy tobytes())',
});

function isNumberColumn(value: unknown): boolean {
  return numberColumnProblem(value) === undefined;
}

/** Why `value` is not a NumberColumn, or undefined when it is one. */
function numberColumnProblem(value: unknown): string | undefined {
  if (value instanceof Uint8Array) {
    return value.byteLength % 8 === 0 ? undefined : `got ${value.byteLength} bytes, not a multiple of 8`;
  }
  if (value instanceof Float64Array || value instanceof Float32Array || value instanceof Int32Array || value instanceof Uint32Array) {
    return undefined;
  }
  if (!Array.isArray(value)) return `got ${describeValue(value)}`;
  for (let i = 0; i < value.length; i++) {
    const t = typeof value[i];
    if (t !== 'number' && t !== 'bigint') return `got ${describeValue(value[i])} at index ${i}`;
  }
  return undefined;
}

/** Number of samples in a column (bytes count 8 per sample). */
export function numberColumnLength(column: NumberColumn): number {
  return column instanceof Uint8Array ? column.byteLength / 8 : column.length;
}

/**
 * A column as a Float64Array the caller owns. Bytes are copied (the request buffer they
 * came from is reused by the server); msgpackr's typed arrays are already fresh copies.
 */
export function readNumberColumn(column: NumberColumn): Float64Array {
  if (column instanceof Float64Array) return column;
  if (column instanceof Uint8Array) return float64FromLittleEndianBytes(column);
  const out = new Float64Array(column.length);
  for (let i = 0; i < column.length; i++) out[i] = Number(column[i]);
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function float64FromLittleEndianBytes(bytes: Uint8Array): Float64Array {
  const n = bytes.byteLength / 8;
  if (LITTLE_ENDIAN) return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + n * 8));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------

/** `X | None` in the Python signature: the field may be absent or null. */
const Nullable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));

const Id = (description: string) => Type.String({ minLength: 1, description });

/** A union tagged by `propertyName`; the tag picks the variant for error messages and for OpenAPI. */
function TaggedUnion<T extends TSchema[]>(propertyName: string, variants: [...T], options: { title: string; description?: string }) {
  return Type.Union(variants, { ...options, discriminator: { propertyName } });
}

/** Attribute values are Llama Stack's `Primitive`: str | int | float | bool | None. */
export const AttributeValue = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()], {
  title: 'Primitive',
  expected: 'string, number, boolean or null',
});

export const Attributes = Type.Record(Type.String(), AttributeValue, {
  title: 'Attributes',
  description: 'Key-value metadata; values are primitives',
});

export const SpanStatus = Type.Union([Type.Literal('ok'), Type.Literal('error')], { title: 'SpanStatus' });

export const LogSeverity = Type.Union(
  [
    Type.Literal('verbose'),
    Type.Literal('debug'),
    Type.Literal('info'),
    Type.Literal('warn'),
    Type.Literal('error'),
    Type.Literal('critical'),
  ],
  { title: 'LogSeverity' },
);

const TtlSeconds = Type.Integer({
  minimum: 0,
  default: 604800,
  description: 'Time to live: the event expires at its timestamp + ttl_seconds (default 7 days)',
});

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

const EventCommon = {
  trace_id: Id('Trace this event belongs to'),
  span_id: Id('Span this event belongs to'),
  timestamp: Timestamp,
  attributes: Nullable(Attributes),
};

export const UnstructuredLogEvent = Type.Object(
  { type: Type.Literal('unstructured_log'), ...EventCommon, message: Type.String(), severity: LogSeverity },
  { title: 'UnstructuredLogEvent' },
);

export const MetricEvent = Type.Object(
  {
    type: Type.Literal('metric'),
    ...EventCommon,
    metric: Id('Metric name'),
    value: Type.Number(),
    unit: Type.String(),
  },
  { title: 'MetricEvent' },
);

export const SpanStartPayload = Type.Object(
  { type: Type.Literal('span_start'), name: Type.String(), parent_span_id: Nullable(Type.String()) },
  { title: 'SpanStartPayload' },
);

export const SpanEndPayload = Type.Object({ type: Type.Literal('span_end'), status: SpanStatus }, { title: 'SpanEndPayload' });

export const StructuredLogPayload = TaggedUnion('type', [SpanStartPayload, SpanEndPayload], { title: 'StructuredLogPayload' });

export const StructuredLogEvent = Type.Object(
  { type: Type.Literal('structured_log'), ...EventCommon, payload: StructuredLogPayload },
  { title: 'StructuredLogEvent' },
);

export const Event = TaggedUnion('type', [UnstructuredLogEvent, MetricEvent, StructuredLogEvent], { title: 'Event' });

// ---------------------------------------------------------------------------------------------
// Ingest bodies (POST /v1/telemetry/events, /alpha/telemetry/log-event, the WebSocket stream)
// ---------------------------------------------------------------------------------------------

export const LogEventBody = Type.Object(
  { event: Event, ttl_seconds: Type.Optional(TtlSeconds) },
  { title: 'LogEventRequest' },
);

export const EventBatchBody = Type.Object(
  { events: Type.Array(Event), ttl_seconds: Type.Optional(TtlSeconds) },
  { title: 'LogEventBatchRequest', description: 'Many events in one request; validated whole before any is applied' },
);

export const Series = Type.Object(
  {
    metric: Id('Metric name'),
    labels: Type.Record(Type.String(), AttributeValue, { description: 'Series labels; values are stringified' }),
    unit: Type.Optional(Type.String()),
    timestamps: NumberColumnSchema,
    values: NumberColumnSchema,
    trace_ids: Type.Optional(Type.Array(Type.String())),
    span_ids: Type.Optional(Type.Array(Type.String())),
  },
  {
    title: 'SeriesBatchEntry',
    description: 'One series: samples in time order; timestamps in Unix epoch milliseconds; all columns of equal length',
  },
);

export const SeriesBatchBody = Type.Object(
  { series: Type.Array(Series), ttl_seconds: Type.Optional(TtlSeconds) },
  { title: 'SeriesBatchRequest', description: 'The high-throughput shape (msgpack): one entry per series' },
);

// ---------------------------------------------------------------------------------------------
// Query bodies
// ---------------------------------------------------------------------------------------------

export const QueryCondition = Type.Object(
  {
    key: Type.String({ description: 'Attribute key, or one of name, span_id, trace_id, parent_span_id, status' }),
    op: Type.Union([Type.Literal('eq'), Type.Literal('ne'), Type.Literal('gt'), Type.Literal('lt')], { title: 'QueryConditionOp' }),
    value: Type.Unknown(),
  },
  { title: 'QueryCondition' },
);

const TRACE_FIELDS = ['trace_id', 'root_span_id', 'start_time', 'end_time'];

const OrderByField = Type.String({
  pattern: `^-?(${TRACE_FIELDS.join('|')})$`,
  expected: `a Trace field name (${TRACE_FIELDS.join(', ')}), "-" prefix for descending`,
  errorMessage: `unknown field {value}, expected one of ${TRACE_FIELDS.join(', ')} (prefix "-" for descending)`,
});

const Limit = Type.Integer({ minimum: 0 });
const MaxDepth = Type.Integer({ minimum: 1, description: 'Levels of the tree to return; the span itself is level 1' });

export const QueryTracesBody = Type.Object(
  {
    attribute_filters: Nullable(Type.Array(QueryCondition)),
    limit: Nullable(Type.Integer({ minimum: 0, default: 100 })),
    offset: Nullable(Type.Integer({ minimum: 0, default: 0 })),
    order_by: Nullable(Type.Array(OrderByField, { description: 'Trace fields; "-" prefix for descending; default ["-start_time"]' })),
  },
  { title: 'QueryTracesRequest' },
);

export const GetSpanTreeBody = Type.Object(
  { attributes_to_return: Nullable(Type.Array(Type.String())), max_depth: Nullable(MaxDepth) },
  { title: 'GetSpanTreeRequest' },
);

export const QuerySpansBody = Type.Object(
  {
    attribute_filters: Type.Array(QueryCondition),
    attributes_to_return: Type.Array(Type.String()),
    max_depth: Nullable(MaxDepth),
  },
  { title: 'QuerySpansRequest' },
);

export const DATASET_ID_PATTERN = '^(?!\\.{1,2}$)[A-Za-z0-9._-]{1,128}$';

export const SaveSpansToDatasetBody = Type.Object(
  {
    attribute_filters: Type.Array(QueryCondition),
    attributes_to_save: Type.Array(Type.String()),
    dataset_id: Type.String({
      pattern: DATASET_ID_PATTERN,
      expected: 'dataset id string',
      errorMessage: 'expected 1-128 characters of A-Z a-z 0-9 . _ - (and not "." or ".."), got {value}',
    }),
    max_depth: Nullable(MaxDepth),
  },
  { title: 'SaveSpansToDatasetRequest' },
);

export const MetricLabelMatcher = Type.Object(
  {
    name: Type.String(),
    value: Type.String(),
    operator: Type.Optional(
      Type.Union([Type.Literal('='), Type.Literal('!='), Type.Literal('=~'), Type.Literal('!~')], {
        title: 'MetricLabelOperator',
        default: '=',
      }),
    ),
  },
  { title: 'MetricLabelMatcher' },
);

export const GRANULARITY_PATTERN = '^([1-9][0-9]*[smhdw])?$';

export const QueryMetricsBody = Type.Object(
  {
    start_time: Type.Integer({ description: 'Unix seconds' }),
    end_time: Nullable(Type.Integer({ description: 'Unix seconds; default now' })),
    granularity: Nullable(
      Type.String({
        pattern: GRANULARITY_PATTERN,
        expected: 'duration string like "1d"',
        default: '1d',
        errorMessage: 'expected a duration Ns, Nm, Nh, Nd or Nw (e.g. "5m"), "" or null, got {value}',
      }),
    ),
    query_type: Type.Optional(Type.Union([Type.Literal('range'), Type.Literal('instant')], { title: 'MetricQueryType', default: 'range' })),
    label_matchers: Nullable(Type.Array(MetricLabelMatcher)),
  },
  { title: 'QueryMetricsRequest' },
);

/** The first revision's get-span-tree takes the span id in the body. */
export const LegacyGetSpanTreeBody = Type.Object(
  { span_id: Id('Span at the root of the returned tree'), ...GetSpanTreeBody.properties },
  { title: 'LegacyGetSpanTreeRequest' },
);

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

/** Response timestamps: ISO 8601 UTC with exactly six fractional digits, e.g. 2024-12-04T08:08:30.501587Z. */
const UtcTimestamp = Type.String({ format: 'date-time', examples: ['2024-12-04T08:08:30.501587Z'] });

const SpanProperties = {
  span_id: Type.String(),
  trace_id: Type.String(),
  parent_span_id: Type.Optional(Type.String()),
  name: Type.String(),
  start_time: UtcTimestamp,
  end_time: Type.Optional(UtcTimestamp),
  attributes: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
};

export const Span = Type.Object(SpanProperties, { title: 'Span' });

export const SpanWithStatus = Type.Object({ ...SpanProperties, status: Type.Optional(SpanStatus) }, { title: 'SpanWithStatus' });

export const SpanWithChildren = Type.Recursive(
  (Self) => Type.Object({ ...SpanProperties, children: Type.Array(Self), status: Type.Optional(SpanStatus) }),
  { $id: 'SpanWithChildren', title: 'SpanWithChildren' },
);

export const Trace = Type.Object(
  { trace_id: Type.String(), root_span_id: Type.String(), start_time: UtcTimestamp, end_time: Type.Optional(UtcTimestamp) },
  { title: 'Trace' },
);

export const MetricLabel = Type.Object({ name: Type.String(), value: Type.String() }, { title: 'MetricLabel' });

export const MetricDataPoint = Type.Object(
  { timestamp: Type.Integer({ description: 'Unix seconds' }), value: Type.Number(), unit: Type.String() },
  { title: 'MetricDataPoint' },
);

export const MetricSeries = Type.Object(
  { metric: Type.String(), labels: Type.Array(MetricLabel), values: Type.Array(MetricDataPoint) },
  { title: 'MetricSeries' },
);

export const QueryTracesResponse = Type.Object({ data: Type.Array(Trace) }, { title: 'QueryTracesResponse' });
export const QuerySpansResponse = Type.Object({ data: Type.Array(Span) }, { title: 'QuerySpansResponse' });
export const QuerySpanTreeResponse = Type.Object(
  { data: Type.Record(Type.String(), SpanWithStatus) },
  { title: 'QuerySpanTreeResponse' },
);
export const QueryMetricsResponse = Type.Object({ data: Type.Array(MetricSeries) }, { title: 'QueryMetricsResponse' });
export const LegacyQueryTracesResponse = Type.Array(Trace, { title: 'LegacyQueryTracesResponse' });

export const IterRowsResponse = Type.Object(
  { data: Type.Array(Type.Record(Type.String(), Type.Unknown())), has_more: Type.Boolean() },
  { title: 'PaginatedResponse' },
);

export const ErrorResponse = Type.Object(
  { error: Type.Object({ detail: Type.String() }) },
  { title: 'Error', description: 'Llama Stack error shape' },
);

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

export type AttributeValue = Static<typeof AttributeValue>;
export type Attributes = Static<typeof Attributes>;
export type SpanStatus = Static<typeof SpanStatus>;
export type LogSeverity = Static<typeof LogSeverity>;
export type UnstructuredLogEvent = Static<typeof UnstructuredLogEvent>;
export type MetricEvent = Static<typeof MetricEvent>;
export type SpanStartPayload = Static<typeof SpanStartPayload>;
export type SpanEndPayload = Static<typeof SpanEndPayload>;
export type StructuredLogPayload = Static<typeof StructuredLogPayload>;
export type StructuredLogEvent = Static<typeof StructuredLogEvent>;
export type Event = Static<typeof Event>;
export type LogEventBody = Static<typeof LogEventBody>;
export type EventBatchBody = Static<typeof EventBatchBody>;
export type Series = Static<typeof Series>;
export type SeriesBatchBody = Static<typeof SeriesBatchBody>;
export type QueryCondition = Static<typeof QueryCondition>;
export type QueryTracesBody = Static<typeof QueryTracesBody>;
export type GetSpanTreeBody = Static<typeof GetSpanTreeBody>;
export type QuerySpansBody = Static<typeof QuerySpansBody>;
export type SaveSpansToDatasetBody = Static<typeof SaveSpansToDatasetBody>;
export type MetricLabelMatcher = Static<typeof MetricLabelMatcher>;
export type QueryMetricsBody = Static<typeof QueryMetricsBody>;
export type LegacyGetSpanTreeBody = Static<typeof LegacyGetSpanTreeBody>;
export type Span = Static<typeof Span>;
export type SpanWithStatus = Static<typeof SpanWithStatus>;
export type SpanWithChildren = Static<typeof SpanWithChildren>;
export type Trace = Static<typeof Trace>;
export type MetricLabel = Static<typeof MetricLabel>;
export type MetricDataPoint = Static<typeof MetricDataPoint>;
export type MetricSeries = Static<typeof MetricSeries>;
export type QueryTracesResponse = Static<typeof QueryTracesResponse>;
export type QuerySpansResponse = Static<typeof QuerySpansResponse>;
export type QuerySpanTreeResponse = Static<typeof QuerySpanTreeResponse>;
export type QueryMetricsResponse = Static<typeof QueryMetricsResponse>;
export type LegacyQueryTracesResponse = Static<typeof LegacyQueryTracesResponse>;
export type IterRowsResponse = Static<typeof IterRowsResponse>;
export type ErrorResponse = Static<typeof ErrorResponse>;

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/** Every schema `validate` knows, by name (requests and, for tests, responses). */
export const schemas = {
  Event,
  LogEventBody,
  EventBatchBody,
  SeriesBatchBody,
  QueryCondition,
  QueryTracesBody,
  GetSpanTreeBody,
  QuerySpansBody,
  SaveSpansToDatasetBody,
  MetricLabelMatcher,
  QueryMetricsBody,
  LegacyGetSpanTreeBody,
  Span,
  SpanWithStatus,
  SpanWithChildren,
  Trace,
  MetricSeries,
  QueryTracesResponse,
  QuerySpansResponse,
  QuerySpanTreeResponse,
  QueryMetricsResponse,
  LegacyQueryTracesResponse,
  IterRowsResponse,
  ErrorResponse,
} as const;

export type SchemaName = keyof typeof schemas;
export type Shape<N extends SchemaName> = Static<(typeof schemas)[N]>;
export type Validation<T> = { ok: true; value: T } | { ok: false; error: ApiError };

/** Checks that JSON Schema cannot express, run after the schema passed; they return a problem or undefined. */
const refinements: { [N in SchemaName]?: (value: Shape<N>) => string | undefined } = {
  SeriesBatchBody: seriesBatchProblem,
};

const compiled = new Map<SchemaName, TypeCheck<TSchema>>();

function checkerFor(name: SchemaName): TypeCheck<TSchema> {
  let checker = compiled.get(name);
  if (!checker) {
    checker = TypeCompiler.Compile(schemas[name]);
    compiled.set(name, checker);
  }
  return checker;
}

/**
 * Validates `value` against the named schema with the compiled checker. On failure the
 * error is a 400 ApiError whose detail names the first bad field and what was expected,
 * e.g. `event.timestamp: expected ISO 8601 timestamp ...` or `limit: expected integer >= 0, got -1`.
 */
export function validate<N extends SchemaName>(name: N, value: unknown): Validation<Shape<N>> {
  if (!checkerFor(name).Check(value)) return { ok: false, error: badRequest(describeFirstError(schemas[name], value)) };
  const refine = refinements[name] as ((v: unknown) => string | undefined) | undefined;
  const problem = refine?.(value);
  if (problem !== undefined) return { ok: false, error: badRequest(problem) };
  return { ok: true, value: value as Shape<N> };
}

/** Like validate, but returns the typed value or throws the 400 ApiError. */
export function parseBody<N extends SchemaName>(name: N, value: unknown): Shape<N> {
  const result = validate(name, value);
  if (!result.ok) throw result.error;
  return result.value;
}

/** The three shapes POST /v1/telemetry/events accepts, told apart by their top-level key. */
export type IngestBody =
  | { kind: 'event'; body: LogEventBody }
  | { kind: 'batch'; body: EventBatchBody }
  | { kind: 'series'; body: SeriesBatchBody };

/** Validates an ingest body: `{series: ...}` is a series batch, `{events: ...}` an event batch, anything else one event. */
export function validateIngest(value: unknown): Validation<IngestBody> {
  if (!isPlainObject(value)) return { ok: false, error: badRequest(`body: expected object, got ${describeValue(value)}`) };
  if ('series' in value) return tagged('series', validate('SeriesBatchBody', value));
  if ('events' in value) return tagged('batch', validate('EventBatchBody', value));
  return tagged('event', validate('LogEventBody', value));
}

function tagged<K extends IngestBody['kind'], T>(kind: K, result: Validation<T>): Validation<IngestBody> {
  return result.ok ? { ok: true, value: { kind, body: result.value } as IngestBody } : result;
}

// ---------------------------------------------------------------------------------------------
// Series batch: equal lengths and ordered timestamps
// ---------------------------------------------------------------------------------------------


function seriesBatchProblem(body: SeriesBatchBody): string | undefined {
  for (let i = 0; i < body.series.length; i++) {
    const problem = seriesProblem(body.series[i], `series[${i}]`);
    if (problem) return problem;
  }
  return undefined;
}

function seriesProblem(series: Series, at: string): string | undefined {
  const n = numberColumnLength(series.timestamps);
  const columns: [string, number | undefined][] = [
    ['values', numberColumnLength(series.values)],
    ['trace_ids', series.trace_ids?.length],
    ['span_ids', series.span_ids?.length],
  ];
  for (const [field, length] of columns) {
    if (length !== undefined && length !== n) return `${at}.${field}: expected ${n} entries (as many as timestamps), got ${length}`;
  }
  return timestampsProblem(readNumberColumn(series.timestamps), `${at}.timestamps`);
}

function timestampsProblem(timestamps: Float64Array, at: string): string | undefined {
  let previous = -Infinity;
  for (let i = 0; i < timestamps.length; i++) {
    const t = timestamps[i];
    if (!(Math.abs(t) <= MAX_EPOCH_MILLIS)) return `${at}[${i}]: expected epoch milliseconds within ±${MAX_EPOCH_MILLIS}, got ${t}`;
    if (t < previous) return `${at}[${i}]: expected timestamps in time order, got ${t} after ${previous}`;
    previous = t;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Error messages: `<field path>: <what was expected>, got <what came>`
// ---------------------------------------------------------------------------------------------

/** Options this file adds to TypeBox schemas (kept out of OpenAPI by openapi.ts). */
interface MessageOptions {
  /** A noun phrase for "expected ...", when the schema alone would say it badly. */
  expected?: string;
  /** The whole message when the value has the right JSON type but the wrong content; `{value}` is replaced. */
  errorMessage?: string;
  discriminator?: { propertyName: string };
}

type Annotated = TSchema & MessageOptions;

function describeFirstError(schema: TSchema, value: unknown): string {
  const { pointer, message } = firstProblem(schema, value, '');
  return `${fieldPath(pointer)}: ${message}`;
}

interface Problem {
  pointer: string;
  message: string;
}

/**
 * The first error TypeBox reports, refined: a union failure is explained by the variant the
 * value was meant to be (by its tag, or as the only variant of its JSON type), so the message
 * points at the bad leaf rather than saying "expected union value".
 */
function firstProblem(schema: TSchema, value: unknown, base: string): Problem {
  const error: ValueError | undefined = Value.Errors(schema, value).First();
  if (!error) return { pointer: base, message: 'invalid value' };
  const pointer = base + error.path;
  if (error.type === ValueErrorType.ObjectRequiredProperty) {
    return { pointer, message: `missing, expected ${describeSchema(error.schema)}` };
  }
  if (error.type === ValueErrorType.Union) {
    const union = error.schema as Annotated & { anyOf: Annotated[] };
    const tag = union.discriminator?.propertyName;
    if (tag && isPlainObject(error.value)) return taggedVariantProblem(union, tag, error.value, pointer);
    const variant = onlyVariantOfSameType(union.anyOf, error.value);
    if (variant) return firstProblem(variant, error.value, pointer);
  }
  return { pointer, message: expectationFor(error.schema, error.value) };
}

function taggedVariantProblem(union: { anyOf: Annotated[] }, tag: string, value: Record<string, unknown>, pointer: string): Problem {
  const tags = union.anyOf.map((v) => (v.properties as Record<string, { const: unknown }>)[tag].const);
  const index = tags.indexOf(value[tag]);
  if (index < 0) {
    const expected = `one of ${tags.map((t) => JSON.stringify(t)).join(', ')}`;
    const message = tag in value ? `expected ${expected}, got ${describeValue(value[tag])}` : `missing, expected ${expected}`;
    return { pointer: `${pointer}/${tag}`, message };
  }
  return firstProblem(union.anyOf[index], value, pointer);
}

function onlyVariantOfSameType(variants: Annotated[], value: unknown): Annotated | undefined {
  const type = jsonTypeOfValue(value);
  const matching = variants.filter((v) => jsonTypeOfSchema(v) === type);
  return matching.length === 1 ? matching[0] : undefined;
}

function expectationFor(schema: Annotated, value: unknown): string {
  if (schema.errorMessage && jsonTypeOfSchema(schema) === jsonTypeOfValue(value)) {
    return schema.errorMessage.replace('{value}', describeValue(value));
  }
  if (schema[Kind] === TIMESTAMP_KIND && (typeof value === 'string' || typeof value === 'number')) {
    return `expected ${schema.expected}, got ${describeValue(value)} (${timestampProblem(value)})`;
  }
  if (schema[Kind] === NUMBER_COLUMN_KIND) return `expected ${schema.expected}, ${numberColumnProblem(value)}`;
  return `expected ${describeSchema(schema)}, got ${describeValue(value)}`;
}

/** "expected <this>": a short description of what a schema accepts. */
function describeSchema(schema: Annotated): string {
  if (schema.expected) return schema.expected;
  switch (schema[Kind]) {
    case 'String':
      if (schema.format === 'date-time') return 'ISO 8601 timestamp string';
      if (schema.pattern) return `string matching ${schema.pattern}`;
      return schema.minLength ? 'non-empty string' : 'string';
    case 'Integer':
      return schema.minimum !== undefined ? `integer >= ${schema.minimum}` : 'integer';
    case 'Number':
      return 'finite number';
    case 'Boolean':
      return 'boolean';
    case 'Null':
      return 'null';
    case 'Literal':
      return JSON.stringify(schema.const);
    case 'Array':
      return 'array';
    case 'Object':
    case 'Record':
      return schema.title ? `${schema.title} object` : 'object';
    case 'Union':
      return schema.discriminator && schema.title ? `${schema.title} object` : describeUnion(schema.anyOf as Annotated[]);
    case 'Unknown':
      return 'any value';
    default:
      return 'a valid value';
  }
}

function describeUnion(variants: Annotated[]): string {
  if (variants.every((v) => v[Kind] === 'Literal')) return `one of ${variants.map((v) => JSON.stringify(v.const)).join(', ')}`;
  return variants.map(describeSchema).join(' or ');
}

type JsonType = 'string' | 'number' | 'boolean' | 'null' | 'array' | 'object' | 'other';

function jsonTypeOfSchema(schema: Annotated): JsonType {
  switch (schema[Kind]) {
    case 'String':
      return 'string';
    case 'Number':
    case 'Integer':
      return 'number';
    case 'Boolean':
      return 'boolean';
    case 'Null':
      return 'null';
    case 'Array':
      return 'array';
    case 'Object':
    case 'Record':
      return 'object';
    case 'Literal':
      return jsonTypeOfValue(schema.const);
    default:
      return 'other';
  }
}

function jsonTypeOfValue(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'object':
      return 'object';
    default:
      return 'other';
  }
}

/** How a bad value is quoted back: primitives as JSON (shortened), containers by their type. */
function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Uint8Array) return 'bytes';
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  if (value instanceof Date) return 'Date';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? value.slice(0, 60) + '…' : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'object') return 'object';
  return String(value);
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** JSON pointer (`/events/0/timestamp`) -> the path a user reads (`events[0].timestamp`); `body` at the root. */
export function fieldPath(pointer: string): string {
  if (pointer === '') return 'body';
  let out = '';
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^(0|[1-9][0-9]*)$/.test(key)) out += `[${key}]`;
    else if (IDENTIFIER.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value) && !(value instanceof Date);
}
