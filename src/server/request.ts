import { C1, unpack } from 'msgpackr';
import { ApiError } from './errors.ts';
import type { RouteRequest } from './http.ts';

const MSGPACK_TYPES = new Set(['application/msgpack', 'application/x-msgpack', 'application/vnd.msgpack']);
const FORM_TYPE = 'application/x-www-form-urlencoded';

/** What is copied out of uWS's request before the handler returns (uWS invalidates it after). */
export interface RequestSnapshot {
  method: string;
  path: string;
  params: Record<string, string>;
  rawQuery: string;
  headers: Record<string, string>;
}

export class IncomingRequest implements RouteRequest {
  readonly method: string;
  readonly path: string;
  readonly params: Record<string, string>;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array | null;
  readonly contentType: string;
  private readonly rawQuery: string;
  private parsedQuery?: URLSearchParams;

  constructor(snapshot: RequestSnapshot, body: Uint8Array | null) {
    this.method = snapshot.method;
    this.path = snapshot.path;
    this.params = snapshot.params;
    this.headers = snapshot.headers;
    this.rawQuery = snapshot.rawQuery;
    this.body = body;
    this.contentType = mediaType(snapshot.headers['content-type']);
  }

  /** Parsed on first use: most ingest requests never look at the query string. */
  get query(): URLSearchParams {
    return (this.parsedQuery ??= new URLSearchParams(this.rawQuery));
  }

  text(): string {
    if (this.body === null) return '';
    return Buffer.from(this.body.buffer, this.body.byteOffset, this.body.byteLength).toString('utf8');
  }

  json(): unknown {
    if (this.body === null) return undefined;
    try {
      return JSON.parse(this.text());
    } catch (error) {
      throw new ApiError(400, `malformed JSON body: ${(error as Error).message}`);
    }
  }

  msgpack(): unknown {
    if (this.body === null) return undefined;
    let value: unknown;
    try {
      value = unpack(this.body);
    } catch (error) {
      throw new ApiError(400, `malformed msgpack body: ${(error as Error).message}`);
    }
    // msgpackr decodes the never-used byte 0xc1 to a marker object instead of failing.
    if (value === C1) throw new ApiError(400, 'malformed msgpack body: never-used byte 0xc1');
    return value;
  }

  decodeBody(): unknown {
    return MSGPACK_TYPES.has(this.contentType) ? this.msgpack() : this.json();
  }

  form(): URLSearchParams {
    return this.contentType === FORM_TYPE ? new URLSearchParams(this.text()) : new URLSearchParams();
  }
}

/** `Application/JSON; charset=utf-8` → `application/json`. */
function mediaType(header: string | undefined): string {
  if (!header) return '';
  const semicolon = header.indexOf(';');
  return (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
}

/**
 * Query-string and form-body parameters together, as Prometheus' HTTP API reads them
 * (Grafana sends `query`, `match[]`, … either way).
 */
export function queryAndFormParams(request: RouteRequest): URLSearchParams {
  const merged = new URLSearchParams(request.query);
  for (const [key, value] of request.form()) merged.append(key, value);
  return merged;
}
