/** `strata load|query|export|bench` as scripts use them, against a real server on a free port. */
import { readFileSync } from 'node:fs';
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../e2e/harness.ts';
import { SAMPLE, strata } from './helpers.ts';

interface SampleLine { offset_ms: number; type: string; trace_id: string; span_id: string; metric?: string; attributes?: Record<string, unknown>; payload?: { type: string; name?: string; parent_span_id?: string } }
const sample = readFileSync(SAMPLE, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as SampleLine);
const sampleTraces = new Set(sample.map((l) => l.trace_id));
const promptModels = new Set(sample.filter((l) => l.metric === 'prompt_tokens').map((l) => `${l.attributes!.model_id}|${l.attributes!.provider_id}`));

let server: TestServer;
let url: string[];

beforeAll(async () => {
  server = await startTestServer();
  url = ['--url', server.url];
});
afterAll(async () => {
  await server?.cleanup();
});

describe('strata --help and usage errors', () => {
  it('prints help for every command with exit 0', async () => {
    const cases = [['load', 'usage: strata load'], ['query', 'usage: strata query'], ['export', 'usage: strata export --dataset ID'], ['bench', 'usage: strata bench']] as const;
    const results = await Promise.all(cases.map(([command]) => strata([command, '--help'])));
    for (const [i, [command, needle]] of cases.entries()) {
      const result = results[i]!;
      expect(result.status, command).toBe(0);
      expect(result.stdout, command).toContain(needle);
      expect(result.stdout, command).toContain('exit codes');
    }
  });

  it('exits 2 with the problem named for usage errors', async () => {
    const cases: [string[], string][] = [
      [['load'], 'missing FILE'],
      [['load', 'a', 'b'], 'expected one FILE'],
      [['load', '--format', 'xml', SAMPLE], 'invalid --format'],
      [['load', '--batch-size', '0', SAMPLE], 'invalid --batch-size'],
      [['query'], 'nothing to query'],
      [['query', '--traces', '--metric', 'x'], 'give only one of'],
      [['query', '--traces', '--filter', 'nokey'], 'invalid filter'],
      [['query', '--metric', 'x', '--start', 'yesterday'], 'invalid time'],
      [['query', '--bogus'], 'unknown flag --bogus'],
      [['query', '--traces', '--url', 'ftp://x'], 'invalid --url'],
      [['export'], 'missing --dataset'],
      [['export', '--dataset', '../etc'], 'invalid --dataset'],
      [['bench', 'no-such-suite'], 'unknown suite'],
    ];
    const results = await Promise.all(cases.map(([args]) => strata(args)));
    cases.forEach(([args, message], i) => {
      expect(results[i]!.status, args.join(' ')).toBe(2);
      expect(results[i]!.stderr, args.join(' ')).toContain(message);
    });
  });

  it('exits 1 when the server is unreachable or the file is missing', async () => {
    const down = await strata(['query', '--traces', '--url', 'http://127.0.0.1:1']);
    expect(down.status).toBe(1);
    expect(down.stderr).toContain('cannot reach the strata server at http://127.0.0.1:1');
    const missing = await strata(['load', '/nonexistent/file.jsonl', ...url]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('no such file');
  });
});

describe('strata load', () => {
  it('loads the sample workload, stamped relative to now, and prints the rate', async () => {
    const before = Date.now();
    const result = await strata(['load', SAMPLE, ...url]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^loaded ${sample.length} events from .*sample-agent\\.jsonl in [\\d.]+ s \\([\\d,]+/s, 1 requests\\)\\n$`));
    const res = await fetch(`${server.url}/v1/telemetry/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ limit: 1000 }) });
    const traces = ((await res.json()) as { data: { trace_id: string; start_time: string }[] }).data;
    expect(new Set(traces.map((t) => t.trace_id))).toEqual(sampleTraces);
    // offset_ms is relative to the load: every trace is in the last hour, none in the future.
    for (const t of traces) {
      const ms = Date.parse(t.start_time);
      expect(ms).toBeGreaterThan(before - 3_600_000);
      expect(ms).toBeLessThan(Date.now());
    }
  });

  it('names the line a server rejects and exits 1', async () => {
    const good = { type: 'unstructured_log', trace_id: 't', span_id: 's', offset_ms: -1000, message: 'm', severity: 'info' };
    const input = [JSON.stringify(good), JSON.stringify({ ...good, severity: 'loud' }), JSON.stringify(good)].join('\n');
    const result = await strata(['load', '-', ...url], { input });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('line 2 rejected: HTTP 400: events[1].severity');
    const bad = await strata(['load', '-', ...url], { input: `${JSON.stringify(good)}\n{not json\n` });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('line 2: invalid JSON');
  });

  it('reads msgpack from standard input: events, batches and series batches, in small batches', async () => {
    const now = Date.now();
    const values = [
      { type: 'metric', trace_id: 'mp', span_id: 'a', timestamp: new Date(now - 5000).toISOString(), metric: 'cli_msgpack_test', value: 1, unit: 'x', attributes: { k: 'a' } },
      { events: [
        { type: 'metric', trace_id: 'mp', span_id: 'b', offset_ms: -4000, metric: 'cli_msgpack_test', value: 2, unit: 'x', attributes: { k: 'a' } },
        { type: 'metric', trace_id: 'mp', span_id: 'c', offset_ms: -3000, metric: 'cli_msgpack_test', value: 4, unit: 'x', attributes: { k: 'b' } },
      ] },
      { series: [{ metric: 'cli_msgpack_test', labels: { k: 'c' }, unit: 'x', timestamps: [now - 2000, now - 1000], values: [8, 16] }] },
    ];
    const input = Buffer.concat(values.map((v) => pack(v)));
    const result = await strata(['load', '-', '--batch-size', '1', '--json', ...url], { input });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ events: 3, samples: 2, requests: 4 });
    const q = await strata(['query', '--metric', 'cli_msgpack_test', '--instant', '--start', '-1h', '--json', ...url]);
    const series = (JSON.parse(q.stdout) as { data: { labels: { value: string }[]; values: { value: number }[] }[] }).data;
    expect(Object.fromEntries(series.map((s) => [s.labels[0]!.value, s.values[0]!.value]))).toEqual({ a: 3, b: 4, c: 24 });
  });
});

describe('strata query', () => {
  it('lists traces newest first, as a table or JSON, with filters', async () => {
    const json = await strata(['query', '--traces', '--json', '--limit', '1000', ...url]);
    expect(json.status).toBe(0);
    const traces = (JSON.parse(json.stdout) as { data: { trace_id: string; start_time: string }[] }).data.filter((t) => sampleTraces.has(t.trace_id));
    expect(traces).toHaveLength(sampleTraces.size);
    expect(traces.map((t) => t.start_time)).toEqual([...traces.map((t) => t.start_time)].sort().reverse());

    const session = sample.find((l) => l.payload?.name === 'create_and_execute_turn')!.attributes!.session_id as string;
    const turns = sample.filter((l) => l.payload?.name === 'create_and_execute_turn' && l.attributes?.session_id === session).length;
    const table = await strata(['query', '--traces', '--filter', `session_id=${session}`, ...url]);
    expect(table.status).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^trace_id\s+root_span_id\s+start_time\s+end_time\s+duration_ms$/);
    expect(lines).toHaveLength(2 + turns);
  });

  it('queries a metric with label matchers', async () => {
    const all = await strata(['query', '--metric', 'prompt_tokens', '--granularity', '1d', '--start', '-2d', ...url]);
    expect(all.status).toBe(0);
    const rows = all.stdout.trim().split('\n').slice(2);
    expect(new Set(rows.map((r) => r.split(/\s{2,}/)[0])).size).toBe(promptModels.size);
    const one = await strata(['query', '--metric', 'prompt_tokens', '--match', 'model_id=~.*70B.*', '--instant', '--json', ...url]);
    const series = (JSON.parse(one.stdout) as { data: { labels: { name: string; value: string }[] }[] }).data;
    expect(series).toHaveLength(1);
    expect(series[0]!.labels.find((l) => l.name === 'model_id')!.value).toContain('70B');
  });

  it('prints a trace as an indented span tree', async () => {
    const withRag = sample.find((l) => l.payload?.name === 'rag_tool.query')!.trace_id;
    const result = await strata(['query', '--trace', withRag, ...url]);
    expect(result.status).toBe(0);
    const names = result.stdout.trim().split('\n').slice(2).map((l) => /^(\s*\S+)/.exec(l)![1]);
    expect(names[0]).toBe('create_and_execute_turn');
    expect(names).toContain('    rag_tool.query');
    expect(names).toContain('      vector_io.query_chunks');
    const missing = await strata(['query', '--trace', 'no-such-trace', ...url]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('HTTP 404');
  });

  it('lists spans with chosen attributes', async () => {
    const result = await strata(['query', '--spans', '--filter', 'name=inference', '--attributes', 'model_id,prompt_tokens', '--json', ...url]);
    expect(result.status).toBe(0);
    const spans = (JSON.parse(result.stdout) as { data: { name: string; attributes: Record<string, unknown> }[] }).data;
    expect(spans.length).toBe(sample.filter((l) => l.payload?.name === 'inference').length);
    for (const s of spans) expect(Object.keys(s.attributes).sort()).toEqual(['model_id', 'prompt_tokens']);
  });

  it('runs PromQL through /api/v1 when the server has it, else says to use --metric (exit 1)', async () => {
    const probe = await fetch(`${server.url}/api/v1/query?query=1`);
    const result = await strata(['query', 'sum by (model_id) (prompt_tokens)', '--json', ...url]);
    if (probe.status === 404) {
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('no Prometheus API');
    } else {
      expect(result.status).toBe(0);
      const answer = JSON.parse(result.stdout) as { status: string; data: { resultType: string; result: unknown[] } };
      expect(answer.status).toBe('success');
      expect(answer.data.resultType).toBe('vector');
      expect(answer.data.result.length).toBeLessThanOrEqual(promptModels.size);
    }
  });
});

describe('strata query PROMQL against a Prometheus-shaped API', () => {
  it('asks /api/v1/query (instant) or /api/v1/query_range (with --start) and prints the samples', async () => {
    const { createServer } = await import('node:http');
    const asked: URL[] = [];
    const stub = createServer((req, res) => {
      const u = new URL(req.url!, 'http://stub');
      asked.push(u);
      res.setHeader('content-type', 'application/json');
      if (u.searchParams.get('query') === 'bad(') {
        res.statusCode = 400;
        return res.end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error: unclosed left parenthesis' }));
      }
      const data = u.pathname === '/api/v1/query'
        ? { resultType: 'vector', result: [{ metric: { __name__: 'up', job: 'a' }, value: [1700000000, '1'] }, { metric: { job: 'b' }, value: [1700000000, '0.5'] }] }
        : { resultType: 'matrix', result: [{ metric: { job: 'a' }, values: [[1700000000, '1'], [1700000060, '2']] }] };
      res.end(JSON.stringify({ status: 'success', data }));
    });
    await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
    const stubUrl = `http://127.0.0.1:${(stub.address() as { port: number }).port}`;
    try {
      const instant = await strata(['query', 'up', '--time', '1700000000', '--url', stubUrl]);
      expect(instant.status).toBe(0);
      expect(instant.stdout).toBe([
        'series       time                      value',
        '-----------  ------------------------  -----',
        'up{job="a"}  2023-11-14T22:13:20.000Z      1',
        '{job="b"}    2023-11-14T22:13:20.000Z    0.5',
        '',
      ].join('\n'));
      expect(asked[0]!.pathname).toBe('/api/v1/query');
      expect(asked[0]!.searchParams.get('time')).toBe('1700000000');

      const range = await strata(['query', 'rate(x[5m])', '--start', '1700000000', '--end', '1700000600', '--step', '1m', '--json', '--url', stubUrl]);
      expect(range.status).toBe(0);
      expect(JSON.parse(range.stdout).data.resultType).toBe('matrix');
      expect(Object.fromEntries(asked[1]!.searchParams)).toEqual({ query: 'rate(x[5m])', start: '1700000000', end: '1700000600', step: '60' });

      const bad = await strata(['query', 'bad(', '--url', stubUrl]);
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain('HTTP 400: parse error: unclosed left parenthesis');
    } finally {
      stub.close();
    }
  });
});

describe('strata export', () => {
  it('saves matching spans to a dataset and prints the rows written', async () => {
    const inference = sample.filter((l) => l.payload?.name === 'inference').length;
    const result = await strata(['export', '--dataset', 'cli-inference', '--filter', 'name=inference', '--attributes', 'model_id,prompt_tokens', ...url]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`exported ${inference} rows to dataset cli-inference\n`);
    const rows = await fetch(`${server.url}/v1/datasetio/iterrows/cli-inference?limit=1000`);
    const body = (await rows.json()) as { data: Record<string, unknown>[]; has_more: boolean };
    expect(body.data).toHaveLength(inference);
    expect(Object.keys(body.data[0]!)).toEqual(expect.arrayContaining(['trace_id', 'span_id', 'name', 'model_id', 'prompt_tokens']));
    // Without --attributes every span of the matching traces is a row (query_spans' semantics).
    const allSpans = sample.filter((l) => l.payload?.type === 'span_start').length;
    const json = await strata(['export', '--dataset', 'cli-all', '--filter', 'name=inference', '--json', ...url]);
    expect(JSON.parse(json.stdout)).toEqual({ dataset_id: 'cli-all', rows: allSpans });
  });
});
