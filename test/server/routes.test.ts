import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { startServer, type RunningServer } from '../../src/server/start.ts';

describe('operational routes', () => {
  let running: RunningServer;

  beforeAll(async () => {
    running = await startServer(loadConfig(['--port', '0', '--data-dir', mkdtempSync(join(tmpdir(), 'strata-routes-'))], {}));
  });

  afterAll(() => running.stop());

  it('GET /health and /v1/health answer Llama Stack health', async () => {
    for (const path of ['/health', '/v1/health']) {
      const response = await fetch(`${running.url}${path}`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'OK' });
    }
  });

  it('GET /metrics serves the text exposition format', async () => {
    await fetch(`${running.url}/health`);
    const response = await fetch(`${running.url}/metrics`);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    expect(text).toContain('# TYPE strata_http_requests_total counter');
    expect(text).toMatch(/^strata_http_requests_total\{route="GET \/health",status="200"\} [1-9]\d*$/m);
    expect(text).toContain('# TYPE strata_http_request_duration_seconds histogram');
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
    // Every sample line is `name{labels} value` or `name value`.
    for (const line of text.trimEnd().split('\n').filter((l) => !l.startsWith('#'))) {
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? [-+0-9.eInfNa]+$/);
    }
  });

  it('GET /openapi.json documents every served route, with path parameters', async () => {
    const document = (await (await fetch(`${running.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
    };
    expect(document.openapi).toMatch(/^3\./);
    for (const { method, pattern } of running.server.routes()) {
      const path = pattern.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
      expect(document.paths[path]?.[method.toLowerCase()], `${method} ${path}`).toBeDefined();
    }
    expect(document.paths['/v1/telemetry/traces/{trace_id}']!.get!.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'trace_id', in: 'path' })]),
    );
  });
});
