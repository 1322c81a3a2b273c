/** The HTTP client the CLI commands share: base URL, bearer token, error details. */
import { pack } from 'msgpackr';
import { stringFlag, UsageError, type ParsedArgs } from './args.ts';

/** A failure the user can act on (server answered an error, server unreachable): exit code 1. */
export class ClientError extends Error {
  override name = 'ClientError';
  constructor(message: string, readonly status = 0) {
    super(message);
  }
}

export interface ClientOptions {
  url: string;
  token?: string;
}

export function clientOptions(args: ParsedArgs, env: NodeJS.ProcessEnv): ClientOptions {
  const fromEnv = env.STRATA_URL || `http://${hostForUrl(env.STRATA_HOST || '127.0.0.1')}:${env.STRATA_PORT || '8321'}`;
  const url = (stringFlag(args, 'url') ?? fromEnv).replace(/\/+$/, '');
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new UsageError(`invalid --url ${JSON.stringify(url)}: expected http://host:port`);
  }
  const token = stringFlag(args, 'token') ?? (env.STRATA_TOKEN || undefined);
  return { url, token };
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export class Client {
  constructor(readonly options: ClientOptions) {}

  async json<T = unknown>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method, headers: this.headers(body === undefined ? undefined : 'application/json') };
    if (body !== undefined) init.body = JSON.stringify(body);
    return (await this.send(path, init)) as T;
  }

  async msgpack<T = unknown>(path: string, body: unknown): Promise<T> {
    const init: RequestInit = { method: 'POST', headers: this.headers('application/msgpack'), body: pack(body) as unknown as BodyInit };
    return (await this.send(path, init)) as T;
  }

  /** POSTs a body already encoded. */
  async raw<T = unknown>(path: string, body: Uint8Array | string, contentType: string): Promise<T> {
    return (await this.send(path, { method: 'POST', headers: this.headers(contentType), body: body as BodyInit })) as T;
  }

  private headers(contentType?: string): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (contentType) headers['content-type'] = contentType;
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    return headers;
  }

  private async send(path: string, init: RequestInit): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(this.options.url + path, init);
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new ClientError(`cannot reach the strata server at ${this.options.url} (${cause?.code ?? cause?.message ?? (error as Error).message}); start it with \`strata serve\` or pass --url`);
    }
    const text = await response.text();
    let parsed: unknown = undefined;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      // not JSON: reported below if the status is an error
    }
    if (!response.ok) throw new ClientError(`${init.method} ${path}: HTTP ${response.status}: ${errorDetail(parsed, text)}`, response.status);
    return parsed;
  }
}

/** The detail of a Llama Stack (`{error: {detail}}`) or Prometheus (`{error}`) error body. */
export function errorDetail(body: unknown, text: string): string {
  if (body && typeof body === 'object') {
    const error = (body as { error?: unknown }).error;
    if (typeof error === 'string') return error;
    if (error && typeof error === 'object' && typeof (error as { detail?: unknown }).detail === 'string') return (error as { detail: string }).detail;
  }
  return text.slice(0, 500) || '(empty body)';
}

/** True for the server's "no such route" 404 (as opposed to a 404 for an unknown trace). */
export function isRouteMissing(error: unknown): boolean {
  return error instanceof ClientError && error.status === 404 && /route not found/.test(error.message);
}
