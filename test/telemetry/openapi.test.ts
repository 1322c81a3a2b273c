import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../src/telemetry/openapi.ts';

const doc = buildOpenApiDocument();

/** Every `$ref` anywhere in the document. */
function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => refs(n, out));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref') out.push(value as string);
      else refs(value, out);
    }
  }
  return out;
}

function keys(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => keys(n, out));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      out.add(key);
      keys(value, out);
    }
  }
  return out;
}

function operation(path: string, method: string): Record<string, any> {
  const op = doc.paths[path]?.[method] as Record<string, any> | undefined;
  if (!op) throw new Error(`${method.toUpperCase()} ${path} is not documented`);
  return op;
}

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 and plain JSON', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });

  it.each([
    ['post', '/v1/telemetry/events'],
    ['post', '/v1/telemetry/traces'],
    ['get', '/v1/telemetry/traces/{trace_id}'],
    ['get', '/v1/telemetry/traces/{trace_id}/spans/{span_id}'],
    ['post', '/v1/telemetry/spans/{span_id}/tree'],
    ['post', '/v1/telemetry/spans'],
    ['post', '/v1/telemetry/spans/export'],
    ['post', '/v1/telemetry/metrics/{metric_name}'],
    ['get', '/v1/datasetio/iterrows/{dataset_id}'],
    ['post', '/alpha/telemetry/log-event'],
    ['post', '/alpha/telemetry/query-traces'],
    ['post', '/alpha/telemetry/get-span-tree'],
    ['get', '/v1/telemetry/stream'],
    ['post', '/v1/traces'],
    ['post', '/v1/metrics'],
    ['get', '/api/v1/query'],
    ['post', '/api/v1/query'],
    ['get', '/api/v1/query_range'],
    ['post', '/api/v1/query_range'],
    ['get', '/api/v1/series'],
    ['get', '/api/v1/labels'],
    ['get', '/api/v1/label/{name}/values'],
    ['get', '/api/v1/metadata'],
    ['get', '/api/v1/status/buildinfo'],
    ['get', '/health'],
    ['get', '/metrics'],
    ['get', '/openapi.json'],
  ])('documents %s %s', (method, path) => {
    const op = operation(path, method);
    expect(op.operationId).toBeTruthy();
    expect(Object.keys(op.responses)).toContain('500');
    for (const name of path.match(/\{(\w+)\}/g) ?? []) {
      expect(op.parameters.map((p: { name: string }) => `{${p.name}}`)).toContain(name);
    }
  });

  it('gives every operation a unique id', () => {
    const ids = Object.values(doc.paths).flatMap((methods) => Object.values(methods).map((op) => (op as { operationId: string }).operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('resolves every $ref to a component', () => {
    const all = refs(doc);
    expect(all.length).toBeGreaterThan(50);
    for (const ref of all) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas).toHaveProperty(ref.slice('#/components/schemas/'.length));
    }
  });

  it('keeps validator-only keys and TypeBox internals out', () => {
    const used = keys(doc.components.schemas);
    for (const key of ['expected', 'errorMessage', '$id', 'patternProperties']) expect(used.has(key)).toBe(false);
  });

  it('describes the Llama Stack shapes with their Python names', () => {
    const schemas = doc.components.schemas as Record<string, any>;
    expect(schemas.Event.discriminator).toEqual({
      propertyName: 'type',
      mapping: {
        unstructured_log: '#/components/schemas/UnstructuredLogEvent',
        metric: '#/components/schemas/MetricEvent',
        structured_log: '#/components/schemas/StructuredLogEvent',
      },
    });
    expect(schemas.StructuredLogPayload.discriminator.mapping).toEqual({
      span_start: '#/components/schemas/SpanStartPayload',
      span_end: '#/components/schemas/SpanEndPayload',
    });
    expect(schemas.LogSeverity).toEqual({ title: 'LogSeverity', type: 'string', enum: ['verbose', 'debug', 'info', 'warn', 'error', 'critical'] });
    expect(schemas.SpanStatus.enum).toEqual(['ok', 'error']);
    expect(schemas.QueryConditionOp.enum).toEqual(['eq', 'ne', 'gt', 'lt']);
    expect(schemas.MetricLabelOperator.enum).toEqual(['=', '!=', '=~', '!~']);
    expect(schemas.Trace.required).toEqual(['trace_id', 'root_span_id', 'start_time']);
    expect(schemas.Span.properties.start_time.format).toBe('date-time');
    expect(schemas.SpanWithChildren.properties.children.items).toEqual({ $ref: '#/components/schemas/SpanWithChildren' });
    expect(schemas.Attributes.additionalProperties).toEqual({ $ref: '#/components/schemas/Primitive' });
    expect(schemas.QueryTracesRequest.properties.limit.anyOf[0]).toMatchObject({ type: 'integer', minimum: 0, default: 100 });
    expect(schemas.Error).toMatchObject({ required: ['error'], properties: { error: { properties: { detail: { type: 'string' } } } } });
  });

  it('takes JSON and msgpack on ingest; series batches only as msgpack', () => {
    const content = operation('/v1/telemetry/events', 'post').requestBody.content;
    expect(Object.keys(content)).toEqual(['application/json', 'application/msgpack', 'application/x-msgpack']);
    expect(refs(content['application/json'])).not.toContain('#/components/schemas/SeriesBatchRequest');
    expect(refs(content['application/msgpack'])).toContain('#/components/schemas/SeriesBatchRequest');
  });

  it('answers errors in the Llama Stack shape, and in Prometheus\' shape on its routes', () => {
    const error = (path: string, method: string, status: string) => operation(path, method).responses[status].content['application/json'].schema;
    expect(error('/v1/telemetry/traces/{trace_id}', 'get', '404')).toEqual({ $ref: '#/components/schemas/Error' });
    expect(error('/v1/telemetry/events', 'post', '413')).toEqual({ $ref: '#/components/schemas/Error' });
    expect(error('/api/v1/query', 'get', '400')).toEqual({ $ref: '#/components/schemas/PrometheusError' });
  });

  it('lists the scope each protected route needs', () => {
    expect(operation('/v1/telemetry/traces', 'post')['x-required-scope']).toBe('telemetry.read');
    expect(operation('/v1/telemetry/events', 'post')['x-required-scope']).toBe('telemetry.write');
    expect(operation('/v1/telemetry/spans/export', 'post').security).toEqual([{ bearerAuth: ['telemetry.write'] }, {}]);
    expect(operation('/health', 'get').security).toBeUndefined();
  });

  it('documents Prometheus parameters on GET and as a form on POST', () => {
    const get = operation('/api/v1/series', 'get');
    expect(get.parameters.find((p: { name: string }) => p.name === 'match[]')).toMatchObject({ in: 'query', required: true, style: 'form', explode: true });
    const post = operation('/api/v1/query_range', 'post');
    expect(post.requestBody.content['application/x-www-form-urlencoded'].schema.required).toEqual(['query', 'start', 'end', 'step']);
  });
});
