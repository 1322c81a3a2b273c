/**
 * OTLP/HTTP receivers (SPEC §3): `POST /v1/traces` and `POST /v1/metrics` take what the
 * OpenTelemetry exporters send with the JSON protocol (`http/json`), optionally gzipped,
 * and answer OTLP's success shape: `{}`, or `{partialSuccess: {...}}` naming how many spans
 * or points were left out and why. Errors are google.rpc.Status bodies `{code, message}`,
 * and a 429 carries Retry-After, which the exporters honour. The protobuf encoding is
 * refused with 415 and a message saying to switch the exporter to JSON.
 */
import { gunzipSync } from 'node:zlib';
import type { IngestBatch } from '../storage/events.ts';
import { ApiError, badRequest } from '../telemetry/errors.ts';
import { parseJson } from '../telemetry/msgpack-ingest.ts';
import { otlpMetricsToSeries } from '../telemetry/otlp-metrics.ts';
import { otlpTracesToEvents } from '../telemetry/otlp-traces.ts';
import { OtlpShapeError, type OtlpConversion } from '../telemetry/otlp-values.ts';
import type { Server } from './app.ts';
import { ok, type ErrorFormat, type RouteOptions, type RouteRequest } from './http.ts';
import type { IngestGate } from './overload.ts';

export interface OtlpContext {
  gate: IngestGate;
  defaultTtlSeconds: number;
  /** Also the most a gzipped body may inflate to. */
  maxBodyBytes: number;
}

const PROTOBUF_TYPES = new Set(['application/x-protobuf', 'application/protobuf']);

export function registerOtlpRoutes(server: Server, ctx: OtlpContext): void {
  const options: RouteOptions = {
    errorFormat: otlpErrorFormat,
    beforeBody: (headers, declaredLength) => {
      checkMediaType(mediaTypeOf(headers['content-type']));
      ctx.gate.checkRoom(declaredLength ?? 0, 'otlp');
    },
  };
  server.route('POST', '/v1/traces', async (req) => {
    const conversion = await ingestOtlp(req, ctx, (body) => {
      const c = otlpTracesToEvents(body);
      return { conversion: c, batch: { ttlSeconds: ctx.defaultTtlSeconds, events: c.items, series: [] } };
    });
    return ok(partialSuccess(conversion, 'rejectedSpans'));
  }, options);
  server.route('POST', '/v1/metrics', async (req) => {
    const conversion = await ingestOtlp(req, ctx, (body) => {
      const c = otlpMetricsToSeries(body);
      return { conversion: c, batch: { ttlSeconds: ctx.defaultTtlSeconds, events: [], series: c.items } };
    });
    return ok(partialSuccess(conversion, 'rejectedDataPoints'));
  }, options);
}

type Convert = (body: unknown) => { conversion: OtlpConversion<unknown>; batch: IngestBatch };

async function ingestOtlp(req: RouteRequest, ctx: OtlpContext, convert: Convert): Promise<OtlpConversion<unknown>> {
  const bytes = req.body ?? new Uint8Array(0);
  let conversion: OtlpConversion<unknown> | undefined;
  await ctx.gate.accept('otlp', bytes.byteLength, () => {
    const body = bytes.byteLength === 0 ? {} : parseJson(inflate(bytes, req.headers['content-encoding'], ctx.maxBodyBytes));
    try {
      const converted = convert(body);
      conversion = converted.conversion;
      return converted.batch;
    } catch (error) {
      if (error instanceof OtlpShapeError) throw badRequest(error.message);
      throw error;
    }
  });
  return conversion!;
}

function partialSuccess(conversion: OtlpConversion<unknown>, field: 'rejectedSpans' | 'rejectedDataPoints'): object {
  if (conversion.rejected === 0) return {};
  return { partialSuccess: { [field]: conversion.rejected, errorMessage: conversion.firstProblem ?? '' } };
}

function checkMediaType(mediaType: string): void {
  if (PROTOBUF_TYPES.has(mediaType)) {
    throw new ApiError(415, 'OTLP/HTTP protobuf is not supported: configure the exporter for JSON (OTEL_EXPORTER_OTLP_PROTOCOL=http/json, or the *-otlp-http JS exporters)');
  }
  if (mediaType !== '' && mediaType !== 'application/json') {
    throw new ApiError(415, `unsupported Content-Type ${JSON.stringify(mediaType)}: OTLP/HTTP JSON is application/json`);
  }
}

function inflate(bytes: Uint8Array, encoding: string | undefined, maxBytes: number): Uint8Array {
  const coding = (encoding ?? 'identity').trim().toLowerCase();
  if (coding === 'identity' || coding === '') return bytes;
  if (coding !== 'gzip') throw new ApiError(415, `unsupported Content-Encoding ${JSON.stringify(coding)}: send gzip or none`);
  try {
    return gunzipSync(bytes, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ApiError(413, `gzipped body inflates past the limit of ${maxBytes} bytes`);
    }
    throw badRequest(`malformed gzip body: ${(error as Error).message}`);
  }
}

function mediaTypeOf(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

/** HTTP status -> google.rpc.Code, as the OTLP/HTTP spec maps them. */
function grpcCode(status: number): number {
  switch (status) {
    case 400: case 415: return 3; // INVALID_ARGUMENT
    case 401: return 16; // UNAUTHENTICATED
    case 403: return 7; // PERMISSION_DENIED
    case 404: return 5; // NOT_FOUND
    case 413: case 422: case 429: return 8; // RESOURCE_EXHAUSTED (422: a series or spans-per-trace limit)
    case 503: return 14; // UNAVAILABLE
    default: return 13; // INTERNAL
  }
}

export const otlpErrorFormat: ErrorFormat = (status, detail) => ({ status, body: { code: grpcCode(status), message: detail } });
