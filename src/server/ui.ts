/**
 * The built-in web UI: static files from `src/ui/static/` (a flat directory) at `/` and `/ui/<file>`, uPlot from
 * node_modules at `/ui/vendor/...`, and one strata-specific read route the UI needs that the
 * Llama Stack API lacks (a span's logs).
 *
 * Files are listed once, at registration, into an allow-list keyed by URL path: a request can
 * only ever name one of those files, so `..`, encoded slashes, symlinks and absolute paths have
 * nothing to reach. Contents are read on first use and kept (the whole UI is a few hundred KiB);
 * every response carries a strong ETag and answers `If-None-Match` with 304.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Store } from '../store.ts';
import { formatMicros } from '../telemetry/time.ts';
import { notFound } from '../telemetry/errors.ts';
import type { Server } from './app.ts';
import { ok, type RawResponse, type RouteRequest } from './http.ts';

export const UI_STATIC_DIR = fileURLToPath(new URL('../ui/static/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * No inline scripts, no third-party origins; uPlot sizes its elements through the CSSOM,
 * which style-src does not restrict, but sets a few style attributes, hence 'unsafe-inline' for styles only.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:",
  "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'",
].join('; ');

interface StaticFile {
  path: string;
  contentType: string;
  /** `no-cache` (revalidate with the ETag) for the app, a day for versioned vendor files. */
  cacheControl: string;
  loaded?: { body: Uint8Array; etag: string };
}

export interface UiContext {
  store: Store;
}

export function registerUiRoutes(server: Server, ctx: UiContext): void {
  const files = new Map<string, StaticFile>();
  for (const file of listFiles(UI_STATIC_DIR)) {
    const contentType = CONTENT_TYPES[extname(file).toLowerCase()];
    if (contentType) files.set(`/ui/${basename(file)}`, { path: file, contentType, cacheControl: 'no-cache' });
  }
  for (const [urlPath, file] of vendorFiles()) files.set(urlPath, file);

  const serve = (urlPath: string, req: RouteRequest): RawResponse => {
    const file = files.get(urlPath);
    if (!file) return { status: 404, raw: `not found: ${urlPath}\n`, contentType: 'text/plain; charset=utf-8', headers: { 'x-content-type-options': 'nosniff' } };
    const { body, etag } = (file.loaded ??= load(file.path));
    const headers: Record<string, string> = {
      etag, 'cache-control': file.cacheControl, 'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer', 'content-security-policy': CONTENT_SECURITY_POLICY,
    };
    if (matchesEtag(req.headers['if-none-match'], etag)) return { status: 304, raw: '', contentType: file.contentType, headers };
    return { status: 200, raw: body, contentType: file.contentType, headers };
  };

  // One path segment per parameter: `/` and `%2F` can never walk into another directory.
  server.route('GET', '/', (req) => serve('/ui/index.html', req));
  server.route('GET', '/ui', () => redirect('/'));
  server.route('GET', '/ui/', () => redirect('/'));
  server.route('GET', '/ui/:file', (req) => serve(`/ui/${req.params.file}`, req));
  server.route('GET', '/ui/vendor/:file', (req) => serve(`/ui/vendor/${req.params.file}`, req));

  server.route('GET', '/v1/strata/spans/:span_id/logs', (req) => ok({ data: spanLogs(ctx.store, req.params.span_id!) }));
}

function redirect(location: string): RawResponse {
  return { status: 302, raw: '', contentType: 'text/plain; charset=utf-8', headers: { location } };
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t === etag || t === `W/${etag}`;
  });
}

function load(path: string): { body: Uint8Array; etag: string } {
  const body = readFileSync(path);
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

/** The directory's own regular files (it is flat by design), dot files left out. */
function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => join(dir, e.name));
  } catch {
    return [];
  }
}

/** uPlot's ES module build and stylesheet, as /ui/vendor/uplot.esm.js and /ui/vendor/uplot.min.css. */
function vendorFiles(): [string, StaticFile][] {
  let dist: string;
  try {
    dist = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');
    statSync(dist);
  } catch {
    return [];
  }
  const cache = 'public, max-age=86400';
  return [
    ['/ui/vendor/uplot.esm.js', { path: join(dist, 'uPlot.esm.js'), contentType: CONTENT_TYPES['.js']!, cacheControl: cache }],
    ['/ui/vendor/uplot.min.css', { path: join(dist, 'uPlot.min.css'), contentType: CONTENT_TYPES['.css']!, cacheControl: cache }],
  ];
}

export interface WireLog {
  timestamp: string;
  severity: string;
  message: string;
  trace_id: string;
  span_id: string;
  attributes?: Record<string, unknown>;
}

/** Logs may be stamped a little outside their span (clock steps, a log written just after the end). */
const LOG_SLACK_MICROS = 1_000_000;
const MAX_LOGS = 1000;

/**
 * The unstructured logs of one span, oldest first. The log table has no span index, but it
 * scans by time skipping whole segments, so this reads only the span's own time window.
 */
export function spanLogs(store: Store, spanId: string): WireLog[] {
  const now = store.clock();
  const slot = store.spans.find(spanId, now);
  if (slot === undefined) throw notFound(`span ${spanId} not found`);
  const span = store.spans.view(slot);
  const logs = store.logs;
  const rows: { ts: number; row: number }[] = [];
  logs.scan(span.start - LOG_SLACK_MICROS, (span.end ?? now) + LOG_SLACK_MICROS, (row) => {
    if (rows.length < MAX_LOGS && logs.get(row, 'span_id') === spanId && logs.get(row, 'trace_id') === span.traceId) {
      rows.push({ ts: logs.num(row, 'ts'), row });
    }
  }, now);
  rows.sort((a, b) => a.ts - b.ts || a.row - b.row);
  return rows.map(({ ts, row }) => {
    const log: WireLog = {
      timestamp: formatMicros(ts),
      severity: String(logs.get(row, 'severity') ?? ''),
      message: String(logs.get(row, 'message') ?? ''),
      trace_id: span.traceId,
      span_id: spanId,
    };
    const attributes = logs.get(row, 'attributes');
    if (typeof attributes === 'string' && attributes !== '' && attributes !== '{}') {
      try {
        log.attributes = JSON.parse(attributes) as Record<string, unknown>;
      } catch {
        // An unreadable blob is left out rather than failing the whole answer.
      }
    }
    return log;
  });
}
