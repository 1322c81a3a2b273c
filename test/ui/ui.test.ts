/**
 * The web UI in a real browser against a real server loaded with the sample workload: the
 * trace list (order, pagination, filters, time range), the waterfall (spans, order, nesting,
 * positions, status), span details and logs, the metrics chart (series count, legend, hover),
 * export to a dataset, and the bearer token. Screenshots go to test-artifacts/ui/.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad } from '../../src/cli/load.ts';
import { startTestServer, type TestServer } from '../e2e/harness.ts';
import { CHROMIUM, chromiumAvailable, launchBrowser, MISSING_REASON, requireExternal, screenshot, type Browser } from './browser.ts';

const SAMPLE = new URL('../../data/sample-agent.jsonl', import.meta.url).pathname;

interface Trace { trace_id: string; root_span_id: string; start_time: string; end_time?: string }
interface Span { span_id: string; parent_span_id?: string; name: string; start_time: string; end_time?: string; status?: string; attributes?: Record<string, unknown> }

async function api<T>(server: TestServer, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(server.url + path, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const devNull = () => new Writable({ write: (_chunk, _enc, done) => done() });

async function loadSample(server: TestServer, extra: string[] = []): Promise<void> {
  const code = await runLoad([SAMPLE, '--url', server.url, ...extra], {}, devNull());
  if (code !== 0) throw new Error(`loading the sample failed with ${code}`);
}

function micros(iso: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)\.(\d{6})Z$/.exec(iso)!;
  return Date.parse(`${m[1]}Z`) * 1000 + Number(m[2]);
}

/** Depth-first from the root, children by start time then span id. */
function expectedOrder(rootId: string, tree: Record<string, Span>): { id: string; depth: number }[] {
  const children = new Map<string, Span[]>();
  for (const s of Object.values(tree)) {
    if (s.span_id === rootId || !s.parent_span_id) continue;
    children.set(s.parent_span_id, [...(children.get(s.parent_span_id) ?? []), s]);
  }
  const out: { id: string; depth: number }[] = [];
  const visit = (s: Span, depth: number) => {
    out.push({ id: s.span_id, depth });
    const kids = (children.get(s.span_id) ?? []).sort((a, b) => micros(a.start_time) - micros(b.start_time) || (a.span_id < b.span_id ? -1 : 1));
    for (const k of kids) visit(k, depth + 1);
  };
  visit(tree[rootId]!, 0);
  return out;
}

const pad = (n: number) => String(n).padStart(2, '0');
/** A datetime-local value in UTC (the browser runs with timezoneId UTC). */
const localMinute = (ms: number) => {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
};

if (!chromiumAvailable && requireExternal) {
  describe('browser UI', () => {
    it('needs chromium', () => {
      throw new Error(`chromium is missing: ${CHROMIUM} not found, and STRATA_REQUIRE_EXTERNAL=1 requires the browser tests to run (apt-get install chromium)`);
    });
  });
}

describe.skipIf(!chromiumAvailable)(chromiumAvailable ? 'browser UI' : `browser UI — skipped: ${MISSING_REASON}`, () => {
  let server: TestServer;
  let browser: Browser;
  let traces: Trace[];

  beforeAll(async () => {
    server = await startTestServer();
    await loadSample(server);
    traces = (await api<{ data: Trace[] }>(server, 'POST', '/v1/telemetry/traces', { limit: 1000 })).data;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.cleanup();
  });

  const rowIds = () => browser.page.locator('tr.trace-row').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.traceId));

  it('lists the loaded traces newest first, 20 a page, with pagination', async () => {
    const { page } = browser;
    expect(traces).toHaveLength(40);
    await page.goto(`${server.url}/`);
    await page.waitForSelector('tr.trace-row');
    expect(await rowIds()).toEqual(traces.slice(0, 20).map((t) => t.trace_id));
    await expect.poll(() => page.locator('#page-info').textContent()).toBe('traces 1–20');
    expect(await page.locator('tr.trace-row').first().locator('.trace-name').textContent()).toBe('create_and_execute_turn');
    await screenshot(page, 'traces');

    await page.click('#older');
    await page.waitForFunction(() => document.querySelector('#page-info')?.textContent === 'traces 21–40');
    expect(await rowIds()).toEqual(traces.slice(20, 40).map((t) => t.trace_id));
    expect(await page.locator('#older').count()).toBe(0);
    await page.click('#newer');
    await page.waitForFunction(() => document.querySelector('#page-info')?.textContent === 'traces 1–20');
    expect(browser.errors).toEqual([]);
  });

  it('filters by attributes through the filter rows', async () => {
    const { page } = browser;
    const root = await api<Span>(server, 'GET', `/v1/telemetry/traces/${traces[5]!.trace_id}/spans/${traces[5]!.root_span_id}`);
    const session = root.attributes!.session_id as string;
    const expected = (await api<{ data: Trace[] }>(server, 'POST', '/v1/telemetry/traces', { attribute_filters: [{ key: 'session_id', op: 'eq', value: session }] })).data;
    expect(expected.length).toBeGreaterThan(1);
    await page.goto(`${server.url}/#/traces`);
    await page.click('text=+ attribute filter');
    await page.fill('.filter-row .f-key', 'session_id');
    await page.fill('.filter-row .f-value', session);
    await page.click('#search');
    await page.waitForFunction((n) => document.querySelectorAll('tr.trace-row').length === n && location.hash.includes('filters'), expected.length);
    expect(await rowIds()).toEqual(expected.map((t) => t.trace_id));
    // Typed values: turn_index is a number attribute.
    await page.fill('.filter-row .f-key', 'turn_index');
    await page.selectOption('.filter-row .f-op', 'lt');
    await page.fill('.filter-row .f-value', '1');
    await page.click('#search');
    const firstTurns = (await api<{ data: Trace[] }>(server, 'POST', '/v1/telemetry/traces', { attribute_filters: [{ key: 'turn_index', op: 'lt', value: 1 }] })).data;
    await page.waitForFunction((n) => document.querySelectorAll('tr.trace-row').length === n && location.hash.includes('turn_index'), firstTurns.length);
    expect(await rowIds()).toEqual(firstTurns.map((t) => t.trace_id));
  });

  it('restricts the list to a custom time range', async () => {
    const { page } = browser;
    const newest = Date.parse(traces[0]!.start_time);
    const from = localMinute(newest - 25 * 60_000), to = localMinute(newest - 6 * 60_000);
    const fromIso = new Date(`${from}:00Z`).toISOString().replace('Z', '000Z');
    const toIso = new Date(`${to}:00Z`).toISOString().replace('Z', '000Z');
    const expected = traces.filter((t) => t.start_time >= fromIso && t.start_time <= toIso).map((t) => t.trace_id);
    expect(expected.length).toBeGreaterThan(5);
    await page.goto(`${server.url}/#/traces?range=custom&from=${from}&to=${to}&size=50`);
    await page.waitForFunction((n) => document.querySelectorAll('tr.trace-row').length === n, expected.length);
    expect(await rowIds()).toEqual(expected);
    expect(await page.locator('#range-from').inputValue()).toBe(from);
  });

  it('draws the waterfall: the right spans, in order, nested, placed by time, coloured by status', async () => {
    const { page } = browser;
    // A turn with a RAG tool call: four levels deep.
    const withRag = (await api<{ data: Trace[] }>(server, 'POST', '/v1/telemetry/traces', { attribute_filters: [{ key: 'name', op: 'eq', value: 'rag_tool.query' }] })).data;
    const trace = withRag[0]!;
    const tree = (await api<{ data: Record<string, Span> }>(server, 'POST', `/v1/telemetry/spans/${trace.root_span_id}/tree`, {})).data;
    const expected = expectedOrder(trace.root_span_id, tree);
    expect(expected.map((e) => e.depth)).toContain(3);

    await page.goto(`${server.url}/#/trace/${trace.trace_id}`);
    await page.waitForSelector('.span-row');
    const rows = await page.locator('.span-row').evaluateAll((els) => els.map((e) => {
      const el = e as HTMLElement;
      const bar = el.querySelector('.bar') as HTMLElement;
      return { id: el.dataset.spanId, depth: Number(el.dataset.depth), name: el.dataset.name, status: el.dataset.status, left: parseFloat(bar.style.left), barClass: bar.className };
    }));
    expect(rows.map((r) => ({ id: r.id, depth: r.depth }))).toEqual(expected);
    expect(rows.map((r) => r.name)).toEqual(expected.map((e) => tree[e.id]!.name));
    const t0 = micros(trace.start_time), total = micros(trace.end_time!) - t0;
    for (const r of rows) {
      const span = tree[r.id!]!;
      expect(r.status).toBe(span.status);
      expect(r.barClass).toBe(`bar ${span.status}`);
      expect(r.left).toBeCloseTo(((micros(span.start_time) - t0) / total) * 100, 3);
    }
    expect(rows[0]!.left).toBe(0);

    // Span details: attributes and logs.
    const tool = expected.find((e) => tree[e.id]!.name === 'tool_execution')!;
    await page.click(`.span-row[data-span-id="${tool.id}"]`);
    await page.waitForSelector('#span-attributes');
    const keys = await page.locator('#span-attributes th').allTextContents();
    expect(keys).toEqual(Object.keys(tree[tool.id]!.attributes!).sort());
    const logs = (await api<{ data: { message: string }[] }>(server, 'GET', `/v1/strata/spans/${tool.id}/logs`)).data;
    expect(logs.length).toBeGreaterThan(0);
    await page.waitForSelector('#span-logs li');
    expect(await page.locator('#span-logs .log-msg').allTextContents()).toEqual(logs.map((l) => l.message));
    expect(page.url()).toContain(`span=${tool.id}`);
    await screenshot(page, 'trace');
    expect(browser.errors).toEqual([]);
  });

  it('shows error spans in red in an erroring trace', async () => {
    const { page } = browser;
    const failed = (await api<{ data: Trace[] }>(server, 'POST', '/v1/telemetry/traces', { attribute_filters: [{ key: 'status', op: 'eq', value: 'error' }] })).data;
    expect(failed.length).toBeGreaterThan(0);
    await page.goto(`${server.url}/#/trace/${failed[0]!.trace_id}`);
    await page.waitForSelector('.span-row');
    const color = await page.locator('.span-row[data-status="error"] .bar').first().evaluate((b) => getComputedStyle(b).backgroundColor);
    expect(color).toBe('rgb(239, 68, 68)');
  });

  it('charts a metric: one series per label set, legend and hover values', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/#/metrics?mode=metric&metric=prompt_tokens&range=1h&granularity=auto`);
    await page.waitForSelector('.chart-box[data-series-count]');
    const expected = (await api<{ data: unknown[] }>(server, 'POST', '/v1/telemetry/metrics/prompt_tokens', { start_time: Math.floor(Date.now() / 1000) - 3600, granularity: '5m' })).data.length;
    expect(expected).toBe(2);
    expect(await page.locator('.chart-box').getAttribute('data-series-count')).toBe(String(expected));
    // uPlot's legend: the time row plus one row per series.
    expect(await page.locator('.u-legend .u-series').count()).toBe(expected + 1);
    const labels = await page.locator('.u-legend .u-series .u-label').allTextContents();
    expect(labels.slice(1).every((l) => l.startsWith('prompt_tokens{model_id="meta-llama/'))).toBe(true);
    // Hovering fills the legend with the values under the cursor.
    const box = (await page.locator('.u-over').boundingBox())!;
    for (let x = 0.55; x < 0.95; x += 0.05) {
      await page.mouse.move(box.x + box.width * x, box.y + box.height / 2);
      const values = await page.locator('.u-legend .u-series .u-value').allTextContents();
      if (values.slice(1).some((v) => /\d/.test(v))) break;
    }
    const values = await page.locator('.u-legend .u-series .u-value').allTextContents();
    expect(values.slice(1).some((v) => /^\d/.test(v))).toBe(true);
    await screenshot(page, 'metrics');

    // Narrow with a label matcher through the form.
    await page.click('text=+ label matcher');
    await page.fill('.filter-row .m-name', 'model_id');
    await page.selectOption('.filter-row .m-op', '=~');
    await page.fill('.filter-row .m-value', '.*70B.*');
    await page.click('#run');
    await page.waitForFunction(() => location.hash.includes('matchers') && document.querySelector('.chart-box')?.getAttribute('data-series-count') === '1');
    expect(await page.locator('.u-legend .u-series').count()).toBe(2);
    expect(browser.errors).toEqual([]);
  });

  it('runs PromQL when the server has the Prometheus API, else offers metric + labels only', async () => {
    const { page } = browser;
    const probe = await fetch(`${server.url}/api/v1/status/buildinfo`);
    await page.goto(`${server.url}/#/metrics`);
    await page.waitForSelector('#tab-promql');
    if (probe.status === 404) {
      expect(await page.locator('#tab-promql').isDisabled()).toBe(true);
      await expect.poll(() => page.locator('.hint').first().textContent()).toContain('PromQL needs the Prometheus API');
      await promqlAgainstStub(page);
      return;
    }
    await page.goto(`${server.url}/#/metrics?mode=promql&range=1h&q=${encodeURIComponent('sum by (model_id) (count_over_time(prompt_tokens[10m]))')}`);
    await page.waitForSelector('.chart-box[data-series-count]');
    expect(await page.locator('.chart-box').getAttribute('data-series-count')).toBe('2');
    await screenshot(page, 'metrics-promql');
  });

  /** The PromQL path of the explorer against Prometheus-shaped answers, while this server has no /api/v1. */
  async function promqlAgainstStub(page: Browser['page']): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    const values = (k: number) => Array.from({ length: 30 }, (_, i) => [now - 3600 + i * 120, String(k * 10 + (i % 7))]);
    let asked: URLSearchParams | null = null;
    await page.route('**/api/v1/status/buildinfo', (route) => route.fulfill({ json: { status: 'success', data: { version: '2.42.0' } } }));
    await page.route('**/api/v1/label/__name__/values', (route) => route.fulfill({ json: { status: 'success', data: ['prompt_tokens', 'completion_tokens'] } }));
    const queryRange = (url: URL) => url.pathname === '/api/v1/query_range';
    await page.route(queryRange, (route) => {
      asked = new URL(route.request().url()).searchParams;
      route.fulfill({ json: { status: 'success', data: { resultType: 'matrix', result: [1, 2, 3].map((k) => ({ metric: { model_id: `m${k}` }, values: values(k) })) } } });
    });
    try {
      // A fresh document: the UI asks whether the server has PromQL once per page load.
      await page.goto('about:blank');
      await page.goto(`${server.url}/#/metrics?mode=promql&range=1h&q=${encodeURIComponent('sum by (model_id) (rate(prompt_tokens[5m]))')}`);
      await page.waitForSelector('.chart-box[data-series-count]');
      expect(await page.locator('.chart-box').getAttribute('data-series-count')).toBe('3');
      expect(await page.locator('.u-legend .u-series').count()).toBe(4);
      expect(await page.locator('.u-legend .u-series .u-label').allTextContents()).toEqual(['time', '{model_id="m1"}', '{model_id="m2"}', '{model_id="m3"}']);
      expect(asked!.get('query')).toBe('sum by (model_id) (rate(prompt_tokens[5m]))');
      expect(Number(asked!.get('end')) - Number(asked!.get('start'))).toBe(3600);
      expect(await page.locator('#tab-promql').isDisabled()).toBe(false);
      expect(await page.locator('#metric-names option').count()).toBe(2);
      // A Prometheus error shows its message.
      await page.unroute(queryRange);
      await page.route(queryRange, (route) => route.fulfill({ status: 400, json: { status: 'error', errorType: 'bad_data', error: 'parse error: unexpected end of input' } }));
      await page.goto(`${server.url}/#/metrics?mode=promql&range=1h&q=${encodeURIComponent('sum(')}`);
      await page.waitForSelector('.alert.error');
      expect(await page.locator('.alert.error').textContent()).toContain('parse error: unexpected end of input');
    } finally {
      await page.unrouteAll();
    }
  }

  it('exports the current span query to a dataset', async () => {
    const { page } = browser;
    const filters = [{ key: 'name', op: 'eq', value: 'inference' }];
    const rows = (await api<{ data: unknown[] }>(server, 'POST', '/v1/telemetry/spans', { attribute_filters: filters, attributes_to_return: ['model_id', 'prompt_tokens'] })).data.length;
    await page.goto(`${server.url}/#/traces?filters=${encodeURIComponent(JSON.stringify(filters))}`);
    await page.waitForSelector('tr.trace-row');
    await page.click('#export-open');
    await page.fill('#export-dataset', 'ui-inference');
    await page.fill('#export-attributes', 'model_id, prompt_tokens');
    await page.click('#export-submit');
    await page.waitForSelector('.export-status.ok');
    expect(await page.locator('.export-status').textContent()).toContain(`Exported ${rows} rows to dataset ui-inference`);
    await screenshot(page, 'export');
    const saved = await api<{ data: Record<string, unknown>[] }>(server, 'GET', '/v1/datasetio/iterrows/ui-inference?limit=1000');
    expect(saved.data).toHaveLength(rows);
    expect(Object.keys(saved.data[0]!)).toEqual(expect.arrayContaining(['model_id', 'prompt_tokens']));
    // A bad id is refused in the dialog, before any request.
    await page.fill('#export-dataset', '..');
    await page.click('#export-submit');
    await page.waitForSelector('.export-status.error');
  });

  it('keeps the token in sessionStorage and sends it as a bearer token; 401s ask for it', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/#/traces`);
    await page.waitForSelector('tr.trace-row');
    await page.fill('#token-input', 'sekret-token');
    const sent = page.waitForRequest((r) => r.url().endsWith('/v1/telemetry/traces'));
    await page.click('#token-form button');
    expect((await sent).headers().authorization).toBe('Bearer sekret-token');
    expect(await page.evaluate(() => sessionStorage.getItem('strata.token'))).toBe('sekret-token');
    await page.reload();
    expect(await page.locator('#token-input').inputValue()).toBe('sekret-token');

    // An auth failure explains what to do.
    await page.route('**/v1/telemetry/traces', (route) => route.fulfill({ status: 401, contentType: 'application/json', body: JSON.stringify({ error: { detail: 'missing or invalid bearer token' } }) }));
    await page.goto(`${server.url}/#/traces?size=50`);
    await page.waitForSelector('.alert.error');
    expect(await page.locator('.alert.error').textContent()).toContain('This server needs a token');
    await page.unroute('**/v1/telemetry/traces');
    await page.fill('#token-input', '');
    await page.click('#token-form button');
    expect(await page.evaluate(() => sessionStorage.getItem('strata.token'))).toBe(null);
  });
});

describe.skipIf(!chromiumAvailable)(chromiumAvailable ? 'browser UI with auth on' : `browser UI with auth on — skipped: ${MISSING_REASON}`, () => {
  let server: TestServer;
  let browser: Browser;
  let dir: string;
  let authEnforced = false;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-ui-auth-'));
    const tokens = join(dir, 'tokens.json');
    writeFileSync(tokens, JSON.stringify({
      'reader-token': { principal: 'ui', scopes: ['telemetry.read'] },
      'writer-token': { principal: 'loader', scopes: ['telemetry.read', 'telemetry.write'] },
    }));
    server = await startTestServer(['--auth-tokens', tokens]);
    authEnforced = (await fetch(`${server.url}/v1/telemetry/traces`, { method: 'POST', body: '{}' })).status === 401;
    await loadSample(server, ['--token', 'writer-token']);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.cleanup();
    if (dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  });

  it('loads the page without a token and reads telemetry once one is given', async (ctx) => {
    if (!authEnforced) ctx.skip();
    const { page } = browser;
    await page.goto(`${server.url}/`);
    await page.waitForSelector('.alert.error');
    expect(await page.locator('.alert.error').textContent()).toContain('This server needs a token');
    await page.fill('#token-input', 'reader-token');
    await page.click('#token-form button');
    await page.waitForSelector('tr.trace-row');
    expect(await page.locator('tr.trace-row').count()).toBe(20);
    expect(browser.errors.filter((e) => !/401/.test(e))).toEqual([]);
  });
});
