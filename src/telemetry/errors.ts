/**
 * Errors a client can act on. The server answers an ApiError with its status and
 * Llama Stack's body `{"error": {"detail": "..."}}`; anything else thrown is a 500 that
 * does not leak its cause. Same shape as src/server/errors.ts's ApiError, which recognises
 * this class by shape (status + detail), so either can be thrown from feature code.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly detail: string;
  /** Extra response headers, e.g. `Retry-After` on a 429. */
  readonly headers?: Readonly<Record<string, string>>;

  constructor(status: number, detail: string, headers?: Readonly<Record<string, string>>) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.detail = detail;
    if (headers) this.headers = headers;
  }
}

/** 400: malformed body, schema violation or bad value; `detail` names the field and what was expected. */
export function badRequest(detail: string): ApiError {
  return new ApiError(400, detail);
}

/** 401: no credentials, or credentials that are not valid. */
export function unauthorized(detail = 'missing or invalid bearer token'): ApiError {
  return new ApiError(401, detail);
}

/** 403: valid credentials without the scope the route needs. */
export function forbidden(detail = 'the token lacks the scope this route needs'): ApiError {
  return new ApiError(403, detail);
}

/** 404: unknown trace, span, dataset or route. */
export function notFound(detail: string): ApiError {
  return new ApiError(404, detail);
}

/** 413: the body is over the size limit. */
export function payloadTooLarge(detail = 'request body too large'): ApiError {
  return new ApiError(413, detail);
}
