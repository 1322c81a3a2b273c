import type { HttpRequest, HttpResponse, TemplatedApp, WebSocketBehavior, us_listen_socket, us_socket_context_t } from 'uWebSockets.js';
import { log } from '../log.ts';
import { declaredBodyLength, readBody, RequestAbortedError, type BodyLimits } from './body.ts';
import { isApiError } from './errors.ts';
import { Exchange } from './exchange.ts';
import {
  isRawResponse,
  llamaStackErrorFormat,
  METHODS,
  type ErrorFormat,
  type Method,
  type RouteHandler,
  type RouteOptions,
  type RouteResponse,
} from './http.ts';
import { registerHttpMetrics, UNMATCHED_ROUTE, type HttpMetrics } from './http-metrics.ts';
import { MetricsRegistry } from './metrics-registry.ts';
import { IncomingRequest, type RequestSnapshot } from './request.ts';
import { compileRoutePattern, type RoutePattern } from './route-pattern.ts';
import { uWS, warnIfUwsFallback } from './uws.ts';

export interface ServerOptions {
  host: string;
  /** 0 picks a free port; `listen()` resolves to the one chosen. */
  port: number;
  bodyLimitBytes: number;
  /** A request body not complete within this long is answered 408. Default 30 s. */
  bodyTimeoutMs?: number;
  /** How long `close()` waits for in-flight requests before closing connections. Default 10 s. */
  drainTimeoutMs?: number;
  /** Where the server records its request metrics; a fresh registry when absent. */
  metrics?: MetricsRegistry;
  /** Send `Access-Control-Allow-Origin: *` and answer preflights, for browser UIs. Default true. */
  cors?: boolean;
  /**
   * Checks a request's credentials for a route pattern before its body is read; throws an
   * ApiError (401/403) to refuse. Absent: no auth.
   */
  authorize?: (headers: Readonly<Record<string, string>>, pattern: string) => unknown;
}

export interface RouteInfo {
  method: Method;
  pattern: string;
}

export interface Server {
  readonly metrics: MetricsRegistry;
  route(method: Method, pattern: string, handler: RouteHandler, options?: RouteOptions): void;
  /**
   * Registers a WebSocket endpoint. The server answers the upgrade itself: `authorize` runs
   * on its headers (a refusal is an ordinary error response), then the socket opens with
   * `newUserData()` as its user data; the rest of `behavior` goes to uWS unchanged.
   */
  ws<UserData>(pattern: string, behavior: Omit<WebSocketBehavior<UserData>, 'upgrade'>, newUserData: () => UserData): void;
  routes(): readonly RouteInfo[];
  /** Requests being answered right now. */
  inFlight(): number;
  /** Resolves to the port actually bound. */
  listen(): Promise<number>;
  /** Stops accepting, waits for in-flight requests (up to drainTimeoutMs), then closes every connection. */
  close(): Promise<void>;
}

interface Route {
  method: Method;
  pattern: RoutePattern;
  handler: RouteHandler;
  errorFormat: ErrorFormat;
  bodyLimits: BodyLimits;
  beforeBody?: RouteOptions['beforeBody'];
  bodyBuffers?: RouteOptions['bodyBuffers'];
  /** The `route` label of the request metrics. */
  metricLabel: string;
}

const DEFAULT_BODY_TIMEOUT_MS = 30_000;
const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;
const JSON_CONTENT_TYPE = 'application/json';
const PREFLIGHT_MAX_AGE_SECONDS = '86400';

export function createServer(options: ServerOptions): Server {
  return new UwsServer(options);
}

class UwsServer implements Server {
  readonly metrics: MetricsRegistry;
  private readonly app: TemplatedApp = uWS.App();
  private readonly table: Route[] = [];
  private readonly websocketPatterns: RoutePattern[] = [];
  private readonly httpMetrics: HttpMetrics;
  private readonly baseHeaders: Record<string, string>;
  private listenSocket: us_listen_socket | null = null;
  private pending = 0;
  private drained: (() => void) | null = null;

  constructor(private readonly options: ServerOptions) {
    this.metrics = options.metrics ?? new MetricsRegistry();
    this.httpMetrics = registerHttpMetrics(this.metrics);
    this.baseHeaders = options.cors === false ? {} : { 'access-control-allow-origin': '*' };
    // Registered first but lowest priority in uWS: only requests no route claimed reach it.
    this.app.any('/*', (res, req) => this.answerUnmatched(res, req));
  }

  route(method: Method, pattern: string, handler: RouteHandler, options: RouteOptions = {}): void {
    if (!METHODS.includes(method)) throw new Error(`unsupported method ${method}`);
    if (this.table.some((r) => r.method === method && r.pattern.source === pattern)) {
      throw new Error(`route registered twice: ${method} ${pattern}`);
    }
    const route: Route = {
      method,
      pattern: compileRoutePattern(pattern),
      handler,
      errorFormat: options.errorFormat ?? llamaStackErrorFormat,
      bodyLimits: {
        maxBytes: options.bodyLimitBytes ?? this.options.bodyLimitBytes,
        timeoutMs: this.options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
      },
      beforeBody: options.beforeBody,
      bodyBuffers: options.bodyBuffers,
      metricLabel: `${method} ${pattern}`,
    };
    this.table.push(route);
    const onRequest = (res: HttpResponse, req: HttpRequest) => this.dispatch(route, res, req);
    switch (method) {
      case 'GET': this.app.get(pattern, onRequest); break;
      case 'POST': this.app.post(pattern, onRequest); break;
      case 'PUT': this.app.put(pattern, onRequest); break;
      case 'PATCH': this.app.patch(pattern, onRequest); break;
      case 'DELETE': this.app.del(pattern, onRequest); break;
    }
  }

  ws<UserData>(pattern: string, behavior: Omit<WebSocketBehavior<UserData>, 'upgrade'>, newUserData: () => UserData): void {
    this.websocketPatterns.push(compileRoutePattern(pattern));
    this.app.ws<UserData>(pattern, {
      ...behavior,
      upgrade: (res, req, context) => this.upgrade(pattern, res, req, context, newUserData),
    });
  }

  /** Runs synchronously inside uWS's callback, like dispatch. */
  private upgrade<UserData>(pattern: string, res: HttpResponse, req: HttpRequest, context: us_socket_context_t, newUserData: () => UserData): void {
    const startedAt = performance.now();
    const exchange = new Exchange(res);
    const routeLabel = `GET ${pattern}`;
    try {
      const headers = readHeaders(req);
      this.options.authorize?.(headers, pattern);
      exchange.ended = true;
      exchange.status = 101;
      res.cork(() => res.upgrade(
        newUserData(), headers['sec-websocket-key'] ?? '', headers['sec-websocket-protocol'] ?? '',
        headers['sec-websocket-extensions'] ?? '', context,
      ));
    } catch (error) {
      exchange.closeConnection = true;
      this.send(exchange, errorResponse(error, llamaStackErrorFormat, routeLabel), llamaStackErrorFormat, routeLabel);
    }
    this.httpMetrics.record(routeLabel, exchange.status, secondsSince(startedAt));
  }

  routes(): readonly RouteInfo[] {
    return this.table.map((r) => ({ method: r.method, pattern: r.pattern.source }));
  }

  inFlight(): number {
    return this.pending;
  }

  listen(): Promise<number> {
    warnIfUwsFallback();
    const { host, port } = this.options;
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (socket) => {
        if (!socket) return reject(new Error(`cannot listen on ${host}:${port} (address in use or not available)`));
        this.listenSocket = socket;
        resolve(uWS.us_socket_local_port(socket as unknown as Parameters<typeof uWS.us_socket_local_port>[0]));
      });
    });
  }

  async close(): Promise<void> {
    if (this.listenSocket) {
      uWS.us_listen_socket_close(this.listenSocket);
      this.listenSocket = null;
    }
    await this.waitForDrain(this.options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS);
    // Idle keep-alive connections and WebSockets would otherwise keep the process alive.
    (this.app as TemplatedApp & { close?: () => void }).close?.();
  }

  private waitForDrain(timeoutMs: number): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        log.warn('shutdown: in-flight requests still running after the drain timeout', { pending: this.pending, timeoutMs });
        this.drained = null;
        resolve();
      }, timeoutMs);
      this.drained = () => {
        clearTimeout(timer);
        this.drained = null;
        resolve();
      };
    });
  }

  /** Runs synchronously inside uWS's callback: everything needed from `req` is copied here. */
  private dispatch(route: Route, res: HttpResponse, req: HttpRequest): void {
    const startedAt = performance.now();
    const exchange = new Exchange(res);
    let snapshot: RequestSnapshot;
    try {
      snapshot = {
        method: route.method,
        path: req.getUrl(),
        params: readParams(route.pattern.paramNames, req),
        rawQuery: req.getQuery() ?? '',
        headers: readHeaders(req),
      };
    } catch (error) {
      return this.answerBrokenRequest(exchange, error, route.errorFormat, route.metricLabel);
    }
    this.pending++;
    void this.answer(route, exchange, snapshot).finally(() => {
      if (exchange.status !== 0) this.httpMetrics.record(route.metricLabel, exchange.status, secondsSince(startedAt));
      this.pending--;
      if (this.pending === 0) this.drained?.();
    });
  }

  /**
   * An exception escaping a uWS callback kills the process, so a failure while copying the
   * request (e.g. the JS fallback's unimplemented `forEach`) is answered here instead.
   */
  private answerBrokenRequest(exchange: Exchange, error: unknown, errorFormat: ErrorFormat, routeLabel: string): void {
    exchange.closeConnection = true;
    this.send(exchange, errorResponse(error, errorFormat, routeLabel), errorFormat, routeLabel);
  }

  private async answer(route: Route, exchange: Exchange, snapshot: RequestSnapshot): Promise<void> {
    let response: RouteResponse;
    try {
      // Before the body: an unauthenticated client never gets to make us buffer it.
      this.options.authorize?.(snapshot.headers, route.pattern.source);
      const declaredLength = declaredBodyLength(snapshot.headers);
      if (route.beforeBody) {
        // Whatever it refuses is never read, so the connection cannot carry another request.
        exchange.closeConnection = true;
        route.beforeBody(snapshot.headers, declaredLength);
        exchange.closeConnection = false;
      }
      const body = await readBody(exchange, declaredLength, route.bodyLimits, route.bodyBuffers);
      response = await route.handler(new IncomingRequest(snapshot, body));
    } catch (error) {
      if (error instanceof RequestAbortedError) return;
      response = errorResponse(error, route.errorFormat, route.metricLabel);
    }
    this.send(exchange, response, route.errorFormat, route.metricLabel);
  }

  private send(exchange: Exchange, response: RouteResponse, errorFormat: ErrorFormat, routeLabel: string): void {
    if (!exchange.open) return;
    let wire: WireResponse;
    try {
      wire = this.toWire(response);
    } catch (error) {
      wire = this.toWire(errorResponse(error, errorFormat, routeLabel));
    }
    exchange.write(wire.status, wire.headers, wire.payload);
  }

  private toWire(response: RouteResponse): WireResponse {
    if (isRawResponse(response)) {
      return {
        status: response.status,
        headers: { ...this.baseHeaders, 'content-type': response.contentType, ...response.headers },
        payload: response.raw,
      };
    }
    return {
      status: response.status,
      headers: { ...this.baseHeaders, 'content-type': JSON_CONTENT_TYPE, ...response.headers },
      payload: JSON.stringify(response.body) ?? 'null',
    };
  }

  /** 404 for a path no route has, 405 (with Allow) for a known path and another method, preflights. */
  private answerUnmatched(res: HttpResponse, req: HttpRequest): void {
    const startedAt = performance.now();
    const exchange = new Exchange(res);
    try {
      const headers = readHeaders(req);
      // Whatever body follows is never read, so the connection cannot carry another request.
      exchange.closeConnection = (headers['content-length'] ?? '0') !== '0' || headers['transfer-encoding'] !== undefined;
      this.send(exchange, this.unmatchedResponse(req.getMethod().toUpperCase(), req.getUrl()), llamaStackErrorFormat, UNMATCHED_ROUTE);
    } catch (error) {
      this.answerBrokenRequest(exchange, error, llamaStackErrorFormat, UNMATCHED_ROUTE);
    }
    this.httpMetrics.record(UNMATCHED_ROUTE, exchange.status, secondsSince(startedAt));
  }

  private unmatchedResponse(method: string, path: string): RouteResponse {
    const candidates = this.table.filter((r) => r.pattern.matches(path));
    const allowed = [...new Set([
      ...candidates.map((r) => r.method),
      ...(this.websocketPatterns.some((p) => p.matches(path)) ? ['GET'] : []),
    ])];
    if (allowed.length === 0) return llamaStackErrorFormat(404, `route not found: ${method} ${path}`);
    if (method === 'GET' && candidates.length === 0) {
      return { ...llamaStackErrorFormat(426, `${path} is a WebSocket endpoint: send a WebSocket upgrade request`), headers: { upgrade: 'websocket' } };
    }
    if (method === 'OPTIONS' && this.baseHeaders['access-control-allow-origin']) {
      return { status: 204, raw: '', contentType: 'text/plain', headers: preflightHeaders(allowed) };
    }
    const format = candidates[0]?.errorFormat ?? llamaStackErrorFormat;
    const response = format(405, `method not allowed: ${method} ${path} (allowed: ${allowed.join(', ')})`);
    return { ...response, headers: { ...response.headers, allow: allowed.join(', ') } };
  }
}

interface WireResponse {
  status: number;
  headers: Record<string, string>;
  payload: string | Uint8Array;
}

function secondsSince(startedAt: number): number {
  return (performance.now() - startedAt) / 1000;
}

function errorResponse(error: unknown, format: ErrorFormat, routeLabel: string): RouteResponse {
  if (isApiError(error)) {
    const response = format(error.status, error.detail);
    return error.headers ? { ...response, headers: { ...response.headers, ...error.headers } } : response;
  }
  // The cause goes to the server log only: a stack trace can reveal paths and internals.
  log.error('request failed', { route: routeLabel, error });
  return format(500, 'internal server error');
}

function readHeaders(req: HttpRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  req.forEach((name, value) => {
    const previous = headers[name];
    headers[name] = previous === undefined ? value : `${previous}, ${value}`;
  });
  return headers;
}

/** A malformed escape is kept as sent: it then simply names nothing (a 404 from the handler). */
function readParams(names: readonly string[], req: HttpRequest): Record<string, string> {
  const params: Record<string, string> = {};
  for (let i = 0; i < names.length; i++) {
    const raw = req.getParameter(i);
    params[names[i]!] = raw.includes('%') ? decodeOrKeep(raw) : raw;
  }
  return params;
}

function decodeOrKeep(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function preflightHeaders(allowed: string[]): Record<string, string> {
  return {
    'access-control-allow-methods': [...allowed, 'OPTIONS'].join(', '),
    'access-control-allow-headers': 'authorization, content-type',
    'access-control-max-age': PREFLIGHT_MAX_AGE_SECONDS,
  };
}
