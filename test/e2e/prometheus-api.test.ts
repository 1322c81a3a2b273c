/**
 * The Prometheus HTTP API of the real server (SPEC §5): every endpoint on GET and form
 * POST, Prometheus' JSON shapes, error shape and status codes, time and duration
 * parameters, and the sanitised view of strata's names. (Equality with Prometheus' own
 * answers is prometheus-parity.test.ts.)
 */
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './harness.ts';

let server: TestServer;

// Whole minutes an hour ago: inside the default TTL.
const BASE_MS = (Math.floor(Date.now() / 60_000) - 60) * 60_000;
const BASE_S = BASE_MS / 1000;

beforeAll(async () => {
  server = await startTestServer();
  const minutes = Array.from({ length: 31 }, (_, i) => BASE_MS + i * 60_000);
  const series = [
    { metric: 'llm.tokens', labels: { 'model.id': 'llama-8b', job: 'chat' }, unit: 'tokens', timestamps: minutes, values: minutes.map((_, i) => i * 10) },
    { metric: 'llm.tokens', labels: { 'model.id': 'llama-70b', job: 'chat' }, unit: 'tokens', timestamps: minutes, values: minutes.map((_, i) => i * 100) },
    { metric: 'up', labels: { job: 'chat', instance: 'a:1' }, timestamps: minutes, values: minutes.map(() => 1) },
    { metric: 'up', labels: { job: 'batch', instance: 'b:1' }, timestamps: minutes.slice(0, 5), values: [1, 1, 0, 1, 1] },
  ];
  const res = await fetch(`${server.url}/v1/telemetry/events`, {
    method: 'POST', headers: { 'content-type': 'application/msgpack' }, body: new Uint8Array(pack({ series })),
  });
  expect(res.status).toBe(200);
});
afterAll(async () => {
  await server?.cleanup();
});

async function get(path: string, params: Record<string, string | string[]> = {}) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of [v].flat()) qs.append(k, x);
  const res = await fetch(`${server.url}${path}${qs.size ? `?${qs}` : ''}`);
  return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as any };
}

async function post(path: string, params: Record<string, string | string[]>, query = '') {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of [v].flat()) form.append(k, x);
  const res = await fetch(`${server.url}${path}${query}`, { method: 'POST', body: form });
  return { status: res.status, body: (await res.json()) as any };
}

describe('/api/v1/query', () => {
  it('answers an instant vector with sanitised names', async () => {
    const r = await get('/api/v1/query', { query: 'llm_tokens{model_id="llama-70b"}', time: String(BASE_S + 600) });
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/json');
    expect(r.body).toEqual({
      status: 'success',
      data: { resultType: 'vector', result: [{ metric: { __name__: 'llm_tokens', job: 'chat', model_id: 'llama-70b' }, value: [BASE_S + 600, '1000'] }] },
    });
  });

  it('takes a form-encoded POST, the body before the query string', async () => {
    const r = await post('/api/v1/query', { query: 'sum by (job) (up)', time: new Date((BASE_S + 120) * 1000).toISOString() }, '?query=nonsense(');
    expect(r.body).toEqual({
      status: 'success',
      data: { resultType: 'vector', result: expect.arrayContaining([{ metric: { job: 'chat' }, value: [BASE_S + 120, '1'] }, { metric: { job: 'batch' }, value: [BASE_S + 120, '0'] }]) },
    });
  });

  it('answers scalars and strings', async () => {
    expect((await get('/api/v1/query', { query: '1 + 2', time: '1700000000.123' })).body).toEqual({ status: 'success', data: { resultType: 'scalar', result: [1700000000.123, '3'] } });
    expect((await get('/api/v1/query', { query: '"hi"', time: '1700000000' })).body).toEqual({ status: 'success', data: { resultType: 'string', result: [1700000000, 'hi'] } });
  });

  it('evaluates at the current time when none is given', async () => {
    const r = await get('/api/v1/query', { query: 'time()' });
    expect(Math.abs(Number(r.body.data.result[1]) - Date.now() / 1000)).toBeLessThan(5);
  });

  it('answers a range selector with raw samples', async () => {
    const r = await get('/api/v1/query', { query: 'up{job="batch"}[3m]', time: String(BASE_S + 240) });
    expect(r.body.data).toEqual({
      resultType: 'matrix',
      result: [{ metric: { __name__: 'up', instance: 'b:1', job: 'batch' }, values: [[BASE_S + 60, '1'], [BASE_S + 120, '0'], [BASE_S + 180, '1'], [BASE_S + 240, '1']] }],
    });
  });

  it.each([
    [{ query: 'up', time: 'yesterday' }, 400, 'bad_data', 'invalid parameter "time": Invalid time value for \'time\': cannot parse "yesterday" to a valid timestamp'],
    [{ query: 'sum(up' }, 400, 'bad_data', 'invalid parameter "query": 1:7: parse error: unclosed left parenthesis'],
    [{ query: '' }, 400, 'bad_data', 'invalid parameter "query": 1:1: parse error: no expression found in input'],
    [{ query: 'up', timeout: 'soon' }, 400, 'bad_data', 'invalid parameter "timeout": cannot parse "soon" to a valid duration'],
    [{ query: 'up + on(job) llm_tokens', time: String(BASE_S + 60) }, 422, 'execution', expect.stringContaining('found duplicate series for the match group')],
  ])('%j -> %i %s', async (params, status, errorType, error) => {
    const r = await get('/api/v1/query', params);
    expect(r.status).toBe(status);
    expect(r.body).toEqual({ status: 'error', errorType, error });
  });
});

describe('/api/v1/query_range', () => {
  it('answers a matrix over the steps, RFC 3339 or Unix times, durations or seconds as step', async () => {
    const params = { query: 'rate(llm_tokens{model_id="llama-8b"}[5m])', start: new Date((BASE_S + 600) * 1000).toISOString(), end: String(BASE_S + 900), step: '2m30s' };
    const r = await get('/api/v1/query_range', params);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [{ metric: { job: 'chat', model_id: 'llama-8b' }, values: [[BASE_S + 600, expect.any(String)], [BASE_S + 750, expect.any(String)], [BASE_S + 900, expect.any(String)]] }],
      },
    });
    for (const [, v] of r.body.data.result[0].values) expect(Number(v)).toBeCloseTo(10 / 60, 12);
    expect((await post('/api/v1/query_range', { ...params, step: '150' })).body).toEqual(r.body);
  });

  it.each([
    [{ query: 'up', end: '1', step: '1' }, 'invalid parameter "start": cannot parse "" to a valid timestamp'],
    [{ query: 'up', start: '2', end: '1', step: '1' }, 'invalid parameter "end": end timestamp must not be before start time'],
    [{ query: 'up', start: '1', end: '2', step: 'x' }, 'invalid parameter "step": cannot parse "x" to a valid duration'],
    [{ query: 'up', start: '1', end: '2', step: '0' }, 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer'],
    [{ query: 'up', start: '0', end: '11001', step: '1' }, 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)'],
    [{ query: 'up[5m]', start: '0', end: '60', step: '15' }, 'invalid expression type "range vector" for range query, must be Scalar or instant Vector'],
    [{ query: 'up +', start: '0', end: '60', step: '15' }, '1:5: parse error: unexpected end of input'],
  ])('%j -> 400 %s', async (params, error) => {
    const r = await get('/api/v1/query_range', params);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ status: 'error', errorType: 'bad_data', error });
  });
});

describe('metadata endpoints', () => {
  it('/api/v1/series: label sets of any match[], optionally in [start, end]', async () => {
    expect((await get('/api/v1/series', { 'match[]': ['llm_tokens', 'up{job="batch"}'] })).body).toEqual({
      status: 'success',
      data: [
        { __name__: 'llm_tokens', job: 'chat', model_id: 'llama-70b' },
        { __name__: 'llm_tokens', job: 'chat', model_id: 'llama-8b' },
        { __name__: 'up', instance: 'b:1', job: 'batch' },
      ],
    });
    const later = await post('/api/v1/series', { 'match[]': 'up', start: String(BASE_S + 600) });
    expect(later.body.data).toEqual([{ __name__: 'up', instance: 'a:1', job: 'chat' }]);
  });

  it.each([
    [{}, 'no match[] parameter provided'],
    [{ 'match[]': '{job=""}' }, 'invalid parameter "match[]": match[] must contain at least one non-empty matcher'],
    [{ 'match[]': 'up{' }, expect.stringMatching(/^invalid parameter "match\[\]": 1:4: parse error: /)],
    [{ 'match[]': 'up', start: 'x' }, 'invalid parameter "start": Invalid time value for \'start\': cannot parse "x" to a valid timestamp'],
  ])('/api/v1/series %j -> 400', async (params, error) => {
    const r = await get('/api/v1/series', params);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ status: 'error', errorType: 'bad_data', error });
  });

  it('/api/v1/labels and /api/v1/label/:name/values', async () => {
    expect((await get('/api/v1/labels')).body).toEqual({ status: 'success', data: ['__name__', 'instance', 'job', 'model_id'] });
    expect((await post('/api/v1/labels', { 'match[]': 'llm_tokens' })).body.data).toEqual(['__name__', 'job', 'model_id']);
    expect((await get('/api/v1/label/__name__/values')).body).toEqual({ status: 'success', data: ['llm_tokens', 'up'] });
    expect((await get('/api/v1/label/model_id/values')).body.data).toEqual(['llama-70b', 'llama-8b']);
    expect((await get('/api/v1/label/job/values', { 'match[]': 'up{instance="b:1"}' })).body.data).toEqual(['batch']);
    expect((await get('/api/v1/label/job/values', { start: String(BASE_S + 600) })).body.data).toEqual(['chat']);
    expect((await get('/api/v1/label/nope/values')).body).toEqual({ status: 'success', data: [] });
    const bad = await get('/api/v1/label/model.id/values');
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ status: 'error', errorType: 'bad_data', error: 'invalid label name: "model.id"' });
  });

  it('/api/v1/metadata: every metric, type unknown, with its unit', async () => {
    expect((await get('/api/v1/metadata')).body).toEqual({
      status: 'success',
      data: { llm_tokens: [{ type: 'unknown', help: '', unit: 'tokens' }], up: [{ type: 'unknown', help: '', unit: '' }] },
    });
    expect((await get('/api/v1/metadata', { metric: 'up' })).body.data).toEqual({ up: [{ type: 'unknown', help: '', unit: '' }] });
    expect(Object.keys((await get('/api/v1/metadata', { limit: '1' })).body.data)).toHaveLength(1);
    expect((await get('/api/v1/metadata', { limit: 'x' })).body).toEqual({ status: 'error', errorType: 'bad_data', error: 'limit must be a number' });
  });

  it('/api/v1/status/buildinfo answers as Prometheus 2.42.0', async () => {
    const r = await get('/api/v1/status/buildinfo');
    expect(r.body).toEqual({
      status: 'success',
      data: { version: '2.42.0', revision: expect.stringMatching(/^strata-/), branch: 'strata', buildUser: 'strata', buildDate: expect.any(String), goVersion: expect.any(String) },
    });
  });

  it('answers an unsupported method with 405 in the Prometheus error shape', async () => {
    const r = await fetch(`${server.url}/api/v1/query`, { method: 'DELETE' });
    expect(r.status).toBe(405);
    expect(await r.json()).toMatchObject({ status: 'error', errorType: 'bad_data' });
  });
});
