import { parseJson, unpackMsgpack } from '../telemetry/msgpack-ingest.ts';
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
    return this.body === null ? undefined : parseJson(this.body);
  }

  msgpack(): unknown {
    return this.body === null ? undefined : unpackMsgpack(this.body);
  }

  decodeBody(): unknown {
    return isMsgpackMediaType(this.contentType) ? this.msgpack() : this.json();
  }

  form(): URLSearchParams {
    return this.contentType === FORM_TYPE ? new URLSearchParams(this.text()) : new URLSearchParams();
  }
}

/** True for the media types msgpack bodies are sent with. */
export function isMsgpackMediaType(mediaType: string): boolean {
  return MSGPACK_TYPES.has(mediaType);
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
