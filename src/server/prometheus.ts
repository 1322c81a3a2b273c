/**
 * The Prometheus HTTP API (SPEC §5) over the store, as Prometheus 2.42's web/api/v1 answers
 * it, so that Grafana's Prometheus data source, promtool-style clients and `strata query`
 * work unchanged:
 *
 *   /api/v1/query               query, time (default now), timeout (checked, not enforced)
 *   /api/v1/query_range         query, start, end, step, timeout
 *   /api/v1/series              match[] (one or more), start, end
 *   /api/v1/labels              match[] (optional), start, end
 *   /api/v1/label/:name/values  match[] (optional), start, end
 *   /api/v1/metadata            metric, limit: every metric with type "unknown", help "", and its unit(s)
 *   /api/v1/status/buildinfo    version "2.42.0" (the Prometheus API level strata answers as)
 *
 * Each on GET (query string) and POST (form body; its fields come before the query
 * string's, as Go's Request.FormValue reads them). Answers are `{"status":"success",
 * "data":…}`; errors `{"status":"error","errorType":…,"error":…}` with Prometheus' status
 * codes (bad_data 400, execution 422) and its messages for bad parameters. Times are RFC
 * 3339 or Unix seconds with up to millisecond precision; durations are float seconds or
 * Prometheus durations (`1m`, `1h30m`).
 *
 * Names are the sanitised ones of src/promql/store-source.ts (`model.id` shows as
 * `model_id` and is matched as such).
 */
import { compileMatcher, type Matcher } from '../index/matcher.ts';
import { parseDurationMs } from '../promql/duration.ts';
import { LimitError } from '../limits.ts';
import { evaluateRangeQuery, instantQuery, parseMetricSelector, PromQLError, type QueryResult } from '../promql/engine.ts';
import { goParseFloat, goQuote } from '../promql/gostrconv.ts';
import { StoreSource, type MetricStore } from '../promql/store-source.ts';
import { ApiError } from '../telemetry/errors.ts';
import type { Server } from './app.ts';
import { prometheusErrorFormat, type Method, type RouteHandler, type RouteRequest, type RouteResponse } from './http.ts';
import { STRATA_VERSION } from './version.ts';
import { encodeMatrixResponse, encodeQueryResponse } from '../promql/result-json.ts';
import { warmUpHelper } from '../promql/helper.ts';

export interface PrometheusContext {
  store: MetricStore;
  /** query_range's points-per-series guard; Prometheus' 11,000 when absent. */
  maxPointsPerSeries?: number;
}

/**
 * What /api/v1/status/buildinfo reports. `version` is the Prometheus release whose API and
 * PromQL strata answers as: Grafana reads it to decide which features to use.
 */
export const BUILD_INFO = {
  version: '2.42.0',
  revision: `strata-${STRATA_VERSION}`,
  branch: 'strata',
  buildUser: 'strata',
  buildDate: '',
  goVersion: `strata ${STRATA_VERSION} (Node.js ${process.version})`,
};

/** Prometheus' points-per-series guard of query_range. */
const MAX_POINTS_PER_SERIES = 11_000n;
const TOO_MANY_POINTS = 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)';

const JSON_TYPE = 'application/json';
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Prometheus' defaults for an absent start/end (its min/max times), and their RFC 3339 spellings it accepts. */
const MIN_TIME_TEXT = '-292273086-05-16T16:47:06Z';
const MAX_TIME_TEXT = '292277025-08-18T07:12:54.999999999Z';

export function registerPrometheusRoutes(server: Server, ctx: PrometheusContext): void {
  const source = new StoreSource(ctx.store);
  // The engine's helper thread (helper.ts) starts now, not with the first heavy query.
  warmUpHelper();
  const maxPoints = ctx.maxPointsPerSeries === undefined ? MAX_POINTS_PER_SERIES : BigInt(ctx.maxPointsPerSeries);
  const nowMs = () => Math.floor(ctx.store.clock() / 1000);

  const route = (pattern: string, handler: (params: Params, req: RouteRequest) => RouteResponse) => {
    const wrapped: RouteHandler = (req) => {
      try {
        return handler(new Params(req), req);
      } catch (e) {
        if (e instanceof PromQLError) throw new ApiError(e.type === 'execution' ? 422 : 400, e.message);
        throw e;
      }
    };
    for (const method of ['GET', 'POST'] as Method[]) server.route(method, pattern, wrapped, { errorFormat: prometheusErrorFormat });
  };

  route('/api/v1/query', (p) => {
    const time = p.timeParam('time', nowMs());
    p.checkTimeout();
    return success(instantQuery(source, p.get('query'), time));
  });

  route('/api/v1/query_range', (p) => {
    const start = p.time('start');
    const end = p.time('end');
    if (end < start) throw invalidParam('end', 'end timestamp must not be before start time');
    if (!Number.isFinite(end - start)) throw badData(TOO_MANY_POINTS);
    const stepNs = p.duration('step');
    if (stepNs <= 0) throw invalidParam('step', 'zero or negative query resolution step widths are not accepted. Try a positive integer');
    // Go divides the int64 nanosecond durations.
    if ((BigInt(end - start) * 1_000_000n) / BigInt(stepNs) > maxPoints) {
      throw new LimitError('points_per_series', 400, maxPoints === MAX_POINTS_PER_SERIES ? TOO_MANY_POINTS
        : `exceeded maximum resolution of ${maxPoints.toLocaleString('en-US')} points per timeseries. Try decreasing the query resolution (?step=XX)`);
    }
    p.checkTimeout();
    const { series, grid } = evaluateRangeQuery(source, p.get('query'), start, end, stepNs / 1e6, { maxPointsPerSeries: Number(maxPoints) });
    return { status: 200, raw: encodeMatrixResponse(series, grid), contentType: JSON_TYPE };
  });

  route('/api/v1/series', (p) => {
    const matches = p.all('match[]');
    if (matches.length === 0) throw badData('no match[] parameter provided');
    const start = p.timeParam('start', -Infinity);
    const end = p.timeParam('end', Infinity);
    let sets: Matcher[][];
    try {
      sets = parseMatchers(matches);
    } catch (e) {
      throw e instanceof PromQLError ? invalidParam('match[]', e.message) : e;
    }
    return success(source.series(sets, start, end));
  });

  route('/api/v1/labels', (p) => {
    const start = p.timeParam('start', -Infinity);
    const end = p.timeParam('end', Infinity);
    return success(source.labelNames(parseMatchers(p.all('match[]')), start, end));
  });

  route('/api/v1/label/:name/values', (p, req) => {
    const name = req.params.name;
    if (!LABEL_NAME.test(name)) throw badData(`invalid label name: ${goQuote(name)}`);
    const start = p.timeParam('start', -Infinity);
    const end = p.timeParam('end', Infinity);
    return success(source.labelValues(name, parseMatchers(p.all('match[]')), start, end));
  });

  route('/api/v1/metadata', (p) => {
    let limit = -1;
    const limitText = p.get('limit');
    if (limitText !== '') {
      limit = goAtoi(limitText) ?? NaN;
      if (Number.isNaN(limit)) throw badData('limit must be a number');
    }
    const metric = p.get('metric');
    const data: Record<string, { type: string; help: string; unit: string }[]> = {};
    let n = 0;
    for (const [name, units] of source.metricUnits(metric === '' ? undefined : metric)) {
      if (limit >= 0 && n >= limit) break;
      data[name] = [...units].sort().map((unit) => ({ type: 'unknown', help: '', unit }));
      n++;
    }
    return success(data);
  });

  route('/api/v1/status/buildinfo', () => success(BUILD_INFO));
}

/** The request's parameters as Go's FormValue sees them: form body first, then the query string. */
class Params {
  private readonly form: URLSearchParams;
  private readonly query: URLSearchParams;

  constructor(req: RouteRequest) {
    this.form = req.form();
    this.query = req.query;
  }

  get(name: string): string {
    return this.form.get(name) ?? this.query.get(name) ?? '';
  }

  all(name: string): string[] {
    return [...this.form.getAll(name), ...this.query.getAll(name)];
  }

  /** A required time (query_range's start and end). */
  time(name: string): number {
    const ms = parseTime(this.get(name));
    if (typeof ms === 'string') throw invalidParam(name, ms);
    return ms;
  }

  /** An optional time (parseTimeParam). */
  timeParam(name: string, fallback: number): number {
    const text = this.get(name);
    if (text === '') return fallback;
    const ms = parseTime(text);
    if (typeof ms === 'string') throw invalidParam(name, `Invalid time value for '${name}': ${ms}`);
    return ms;
  }

  /** A duration in nanoseconds. */
  duration(name: string): number {
    const ns = parseDuration(this.get(name));
    if (typeof ns === 'string') throw invalidParam(name, ns);
    return ns;
  }

  /** `timeout` is checked as Prometheus checks it; queries are not cancelled (they run synchronously). */
  checkTimeout(): void {
    if (this.get('timeout') !== '') this.duration('timeout');
  }
}

function success(data: unknown): RouteResponse {
  if (isQueryResult(data)) return { status: 200, raw: encodeQueryResponse(data), contentType: JSON_TYPE };
  return { status: 200, body: { status: 'success', data } };
}

function isQueryResult(data: unknown): data is QueryResult {
  return typeof data === 'object' && data !== null && 'resultType' in data && 'result' in data;
}

function badData(message: string): ApiError {
  return new ApiError(400, message);
}

function invalidParam(name: string, message: string): ApiError {
  return badData(`invalid parameter ${JSON.stringify(name)}: ${message}`);
}

function parseMatchers(texts: string[]): Matcher[][] {
  const sets = texts.map((t) => parseMetricSelector(t));
  for (const set of sets) {
    if (!set.some((m) => !matchesEmpty(m))) throw new PromQLError('bad_data', 'match[] must contain at least one non-empty matcher');
  }
  return sets;
}

function matchesEmpty(m: Matcher): boolean {
  return compileMatcher(m).matches('');
}

/**
 * web/api/v1 parseTime: Unix seconds (a Go float, fractions rounded to milliseconds) or
 * RFC 3339 (with nanoseconds), as Unix milliseconds (timestamp.FromTime truncates); an
 * error message otherwise.
 */
export function parseTime(text: string): number | string {
  const float = goParseFloat(text);
  if (float !== undefined) {
    if (!Number.isFinite(float)) return `cannot parse ${goQuote(text)} to a valid timestamp`;
    const seconds = Math.trunc(float);
    // math.Modf, then math.Round(ns*1000)/1000 (half away from zero), then int64 nanoseconds.
    const frac = float - seconds;
    const roundedFrac = goRound(frac * 1000) / 1000;
    const ns = Math.trunc(roundedFrac * 1e9);
    return seconds * 1000 + Math.floor(ns / 1e6);
  }
  if (text === MIN_TIME_TEXT) return -Infinity;
  if (text === MAX_TIME_TEXT) return Infinity;
  const rfc = parseRfc3339(text);
  return rfc ?? `cannot parse ${goQuote(text)} to a valid timestamp`;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2})$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** time.Parse(time.RFC3339Nano, text) as Unix milliseconds (truncated), or undefined. */
function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (month < 1 || month > 12 || day < 1 || day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1])) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (m[8] !== 'Z') {
    const oh = Number(m[8].slice(1, 3));
    const om = Number(m[8].slice(4, 6));
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[8][0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  // Go keeps at most nine fractional digits (the rest is dropped).
  const millis = m[7] ? Math.floor(Number(m[7].slice(0, 9).padEnd(9, '0')) / 1e6) : 0;
  return date.getTime() - offsetMinutes * 60_000 + millis;
}

/** web/api/v1 parseDuration: float seconds or a Prometheus duration, as int64 nanoseconds; an error message otherwise. */
export function parseDuration(text: string): number | string {
  const float = goParseFloat(text);
  if (float !== undefined) {
    const ns = float * 1e9;
    // Go converts NaN to the smallest int64 (amd64): a negative duration.
    if (Number.isNaN(ns)) return -9223372036854775808;
    if (ns > 9223372036854775807 || ns < -9223372036854775808) {
      return `cannot parse ${goQuote(text)} to a valid duration. It overflows int64`;
    }
    return Math.trunc(ns);
  }
  const ms = parseDurationMs(text);
  if (typeof ms === 'number') return ms * 1e6;
  return `cannot parse ${goQuote(text)} to a valid duration`;
}

/** Go's math.Round: half away from zero. */
function goRound(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** strconv.Atoi: an optional sign and decimal digits within int64; undefined otherwise. */
function goAtoi(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Math.abs(n) <= 9223372036854775807 ? n : undefined;
}
