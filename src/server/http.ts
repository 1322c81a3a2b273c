/**
 * The shapes route handlers see: a request snapshot (safe to use after any await, unlike uWS's
 * request object) and a response value that the server serialises and writes.
 */
import type { BodyBuffers } from './body.ts';

export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type Method = (typeof METHODS)[number];

export interface RouteRequest {
  /** Upper-case, e.g. `POST`. */
  readonly method: string;
  /** The URL path as sent, without the query string. */
  readonly path: string;
  /** `:name` segments of the route pattern, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Lower-cased names; repeated headers are joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  /** null when the request has no body. */
  readonly body: Uint8Array | null;
  /** The media type of Content-Type, lower-cased, without parameters; '' when absent. */
  readonly contentType: string;
  /** The body as UTF-8 text ('' when there is none). */
  text(): string;
  /** Parses the body as JSON; undefined when there is no body; ApiError 400 when malformed. */
  json(): unknown;
  /** Decodes the body as msgpack; undefined when there is no body; ApiError 400 when malformed. */
  msgpack(): unknown;
  /** msgpack when Content-Type says so (`application/msgpack`, `application/x-msgpack`), else JSON. */
  decodeBody(): unknown;
  /** The body's fields when it is `application/x-www-form-urlencoded`, else empty. */
  form(): URLSearchParams;
}

/** Serialised with JSON.stringify (undefined becomes `null`). */
export interface JsonResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Written as is, e.g. the Prometheus text format or a Parquet file. */
export interface RawResponse {
  status: number;
  raw: string | Uint8Array;
  contentType: string;
  headers?: Record<string, string>;
}

export type RouteResponse = JsonResponse | RawResponse;

export type RouteHandler = (request: RouteRequest) => RouteResponse | Promise<RouteResponse>;

/** Turns an error status and its detail into the body a route's clients expect. */
export type ErrorFormat = (status: number, detail: string) => RouteResponse;

export interface RouteOptions {
  /** Defaults to Llama Stack's `{"error": {"detail": …}}`. */
  errorFormat?: ErrorFormat;
  /** Overrides the server-wide body limit for this route. */
  bodyLimitBytes?: number;
  /**
   * Runs after auth and before the body is read, with the announced body length (null when
   * chunked); throwing an ApiError answers at once without reading the body (e.g. 429 when
   * ingest is overloaded).
   */
  beforeBody?: (headers: Readonly<Record<string, string>>, declaredLength: number | null) => void;
  /** Where a body of known length is read into instead of a fresh buffer, when it offers room (body.ts). */
  bodyBuffers?: BodyBuffers;
}

export function isRawResponse(response: RouteResponse): response is RawResponse {
  return (response as RawResponse).raw !== undefined;
}

/** `{status: 200, body}`: the common case of a handler answering with JSON. */
export function ok(body: unknown): JsonResponse {
  return { status: 200, body };
}

export const llamaStackErrorFormat: ErrorFormat = (status, detail) => ({ status, body: { error: { detail } } });

/** Prometheus' `errorType` for a status, as its HTTP API (web/api/v1) assigns them. */
function prometheusErrorType(status: number): string {
  if (status === 404) return 'not_found';
  if (status === 422) return 'execution';
  if (status === 503) return 'unavailable';
  if (status >= 500) return 'internal';
  return 'bad_data';
}

export const prometheusErrorFormat: ErrorFormat = (status, detail) => ({
  status,
  body: { status: 'error', errorType: prometheusErrorType(status), error: detail },
});
