// The HTTP client of the UI: same origin, JSON in and out, the bearer token from sessionStorage.

const TOKEN_KEY = 'strata.token';

export function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

export function setToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: the token lives only as long as the page
  }
}

export class ApiError extends Error {
  constructor(status, detail, path) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.path = path;
  }
  /** The server has no such route (as opposed to a 404 for an unknown trace). */
  get routeMissing() {
    return this.status === 404 && /route not found/.test(this.detail);
  }
  get authProblem() {
    return this.status === 401 || this.status === 403;
  }
}

async function request(method, path, body) {
  const headers = { accept: 'application/json' };
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  const init = { method, headers };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, `cannot reach the server (${error.message})`, path);
  }
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  if (!response.ok) {
    const error = parsed && parsed.error;
    const detail = typeof error === 'string' ? error : error && typeof error.detail === 'string' ? error.detail : text.slice(0, 300) || response.statusText;
    throw new ApiError(response.status, detail, path);
  }
  return parsed;
}

export const api = {
  get: (path) => request('GET', path),
  post: (path, body) => request('POST', path, body ?? {}),

  queryTraces: (body) => api.post('/v1/telemetry/traces', body).then((r) => r.data),
  getTrace: (traceId) => api.get(`/v1/telemetry/traces/${encodeURIComponent(traceId)}`),
  spanTree: (spanId, body) => api.post(`/v1/telemetry/spans/${encodeURIComponent(spanId)}/tree`, body ?? {}).then((r) => r.data),
  querySpans: (body) => api.post('/v1/telemetry/spans', body).then((r) => r.data),
  exportSpans: (body) => api.post('/v1/telemetry/spans/export', body),
  queryMetrics: (name, body) => api.post(`/v1/telemetry/metrics/${encodeURIComponent(name)}`, body).then((r) => r.data),
  spanLogs: (spanId) => api.get(`/v1/strata/spans/${encodeURIComponent(spanId)}/logs`).then((r) => r.data),
  promRange: (params) => api.get(`/api/v1/query_range?${new URLSearchParams(params)}`).then((r) => r.data),
  metricNames: () => api.get('/api/v1/label/__name__/values').then((r) => r.data),
};

let promqlSupport = null;

/** Whether the server answers the Prometheus API (it is optional): asked once per page load. */
export function hasPromQL() {
  promqlSupport ??= api.get('/api/v1/status/buildinfo').then(
    () => true,
    (error) => (error.routeMissing ? false : error.authProblem ? null : false),
  ).then((v) => {
    if (v === null) promqlSupport = null; // ask again once a token is set
    return v === true;
  });
  return promqlSupport;
}
