/** The UI's static file serving: content types, caching, ETags, path traversal, the span-logs route. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../e2e/harness.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.cleanup();
});

/** Sends the path exactly as written (fetch would normalise `..` away). */
async function rawGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('UI static files', () => {
  it('serves the app at / with HTML, a CSP and revalidation caching', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('etag')).toMatch(/^"[\w-]+"$/);
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/ui/app.js">');
    // No CDN: every script and stylesheet is same-origin.
    expect(html).not.toMatch(/(src|href)="https?:/);
  });

  it('serves modules, styles and uPlot from node_modules with their content types', async () => {
    const cases: [string, string][] = [
      ['/ui/app.js', 'text/javascript; charset=utf-8'],
      ['/ui/traces.js', 'text/javascript; charset=utf-8'],
      ['/ui/app.css', 'text/css; charset=utf-8'],
      ['/ui/favicon.svg', 'image/svg+xml'],
      ['/ui/vendor/uplot.esm.js', 'text/javascript; charset=utf-8'],
      ['/ui/vendor/uplot.min.css', 'text/css; charset=utf-8'],
    ];
    for (const [path, type] of cases) {
      const res = await fetch(server.url + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toBe(type);
      expect((await res.arrayBuffer()).byteLength, path).toBeGreaterThan(100);
    }
    const vendor = await fetch(`${server.url}/ui/vendor/uplot.esm.js`);
    expect(vendor.headers.get('cache-control')).toBe('public, max-age=86400');
    expect(await vendor.text()).toContain('export { uPlot as default }');
  });

  it('answers If-None-Match with 304 and no body', async () => {
    const first = await fetch(`${server.url}/ui/app.js`);
    const etag = first.headers.get('etag')!;
    const again = await rawGet('/ui/app.js', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
    expect((await rawGet('/ui/app.js', { 'if-none-match': '"other"' })).status).toBe(200);
  });

  it('never serves a file outside the static directory', async () => {
    for (const path of [
      '/ui/../package.json', '/ui/..%2f..%2fpackage.json', '/ui/%2e%2e/%2e%2e/package.json', '/ui/vendor/../../package.json',
      '/ui/..\\..\\package.json', '/ui/%00', '/ui/%zz', '/ui//etc/passwd', '/ui/static/index.html', '/ui/.hidden',
      '/ui/vendor/uPlot.cjs.js', '/ui/vendor/../../../server/ui.ts',
    ]) {
      const res = await rawGet(path);
      expect(res.status, path).toBe(404);
      expect(res.body, path).not.toContain('"dependencies"');
    }
  });

  it('redirects /ui to the app', async () => {
    for (const path of ['/ui', '/ui/']) {
      const res = await fetch(`${server.url}${path}`, { redirect: 'manual' });
      expect(res.status, path).toBe(302);
      expect(res.headers.get('location'), path).toBe('/');
    }
  });
});

describe('GET /v1/strata/spans/{span_id}/logs', () => {
  it("returns the span's logs oldest first, and 404 for an unknown span", async () => {
    const at = (ms: number) => new Date(Date.now() - 60_000 + ms).toISOString();
    const events = [
      { type: 'structured_log', trace_id: 'T', span_id: 'S', timestamp: at(0), payload: { type: 'span_start', name: 'root' } },
      { type: 'unstructured_log', trace_id: 'T', span_id: 'S', timestamp: at(20), message: 'second', severity: 'warn', attributes: { k: 1 } },
      { type: 'unstructured_log', trace_id: 'T', span_id: 'S', timestamp: at(10), message: 'first', severity: 'info' },
      { type: 'unstructured_log', trace_id: 'T', span_id: 'OTHER', timestamp: at(15), message: 'not mine', severity: 'info' },
      { type: 'structured_log', trace_id: 'T', span_id: 'S', timestamp: at(30), payload: { type: 'span_end', status: 'ok' } },
    ];
    const post = await fetch(`${server.url}/v1/telemetry/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events }) });
    expect(post.status).toBe(200);
    const res = await fetch(`${server.url}/v1/strata/spans/S/logs`);
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as { data: { message: string; severity: string; attributes?: unknown; timestamp: string }[] };
    expect(data.map((l) => l.message)).toEqual(['first', 'second']);
    expect(data[1]).toMatchObject({ severity: 'warn', attributes: { k: 1 }, trace_id: 'T', span_id: 'S' });
    expect(data[0]!.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const missing = await fetch(`${server.url}/v1/strata/spans/nope/logs`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { detail: 'span nope not found' } });
  });
});
