/**
 * The queries the parity test sends to Prometheus and to our engine: every supported
 * function, aggregation and operator, as instant and range queries, with offsets,
 * unaligned steps and times past the end of the data (lookback expiry).
 */
import { WORKLOAD_END_MS, WORKLOAD_START_MS } from './parity-workload.ts';

interface Expectations {
  /** Compare error messages, not only error types. */
  compareErrorMessage?: boolean;
  /** The result is empty by design (otherwise an empty result means the query selects nothing). */
  expectEmpty?: boolean;
}

export type ParityQuery =
  | ({ kind: 'instant'; query: string; time: number } & Expectations)
  | ({ kind: 'range'; query: string; start: number; end: number; step: number } & Expectations);

const S = WORKLOAD_START_MS / 1000;
const E = WORKLOAD_END_MS / 1000;
/** Instant queries land at unaligned times, mid-data and just after the data ends. */
const MID = S + 5437.25;
const LATE = E + 95;

const instant = (query: string, time = MID, compareErrorMessage = false): ParityQuery => ({ kind: 'instant', query, time, compareErrorMessage });
/** The whole workload at one-minute steps, starting a little unaligned. */
const range = (query: string, step = 60, start = S + 17, end = E + 420): ParityQuery => ({ kind: 'range', query, start, end, step });

export const PARITY_QUERIES: ParityQuery[] = [
  // Selectors, matchers, offsets, lookback.
  instant('strata_up'),
  instant('strata_memory_bytes{service="api", pod=~"p[0-3]"}', LATE),
  instant('{__name__="strata_http_requests_total", code!="200", service!~"a.*"}'),
  instant('strata_queue_depth offset 30m'),
  instant('strata_up[2m]'),
  instant('strata_http_requests_total{instance="10.0.1.3:9100"}[5m] offset 1h'),
  range('strata_up{service="auth"}', 45),
  range('strata_queue_depth{service="billing"} offset -10m', 120),

  // Range-vector functions.
  range('rate(strata_http_requests_total{service="api"}[5m])'),
  range('irate(strata_http_requests_total{code="500"}[2m])', 90),
  instant('increase(strata_http_requests_total[1h])'),
  range('increase(strata_http_requests_total{service="search"}[10m] offset 5m)', 300),
  range('delta(strata_memory_bytes{pod="p1"}[10m])', 120),
  range('idelta(strata_queue_depth[5m])', 240),
  range('avg_over_time(strata_memory_bytes{pod="p2"}[15m])', 180),
  range('sum_over_time(strata_queue_depth[7m])', 150),
  range('min_over_time(strata_queue_depth[10m])', 200),
  range('max_over_time(strata_memory_bytes{service="auth"}[20m])', 300),
  range('count_over_time(strata_up[10m])', 120),
  range('last_over_time(strata_queue_depth[3m])', 60),
  instant('stddev_over_time(strata_memory_bytes{pod="p3"}[30m])'),
  instant('quantile_over_time(0.9, strata_queue_depth[30m])'),
  range('deriv(strata_memory_bytes{pod="p2", service="api"}[10m])', 120),
  instant('predict_linear(strata_queue_depth[30m], 3600)'),
  range('holt_winters(strata_memory_bytes{pod="p4", service="auth"}[15m], 0.3, 0.6)', 300),
  instant('holt_winters(strata_queue_depth[10m], 1, 0.5)', MID, true),
  range('stddev_over_time(strata_queue_depth[10m]) + stdvar_over_time(strata_queue_depth[10m])', 300),
  range('present_over_time(strata_up{service="search"}[5m])', 120),
  instant('changes(strata_up[1h]) + ignoring(code) resets(strata_http_requests_total{code="200"}[1h])', MID),

  // Instant-vector functions.
  range('abs(strata_queue_depth) + ignoring(code) ceil(rate(strata_http_requests_total{code="404",service="api"}[5m]))', 240),
  range('floor(rate(strata_http_requests_total{service="auth"}[5m]))', 240),
  instant('round(rate(strata_http_requests_total[5m]), 0.1)'),
  instant('round(strata_queue_depth / 7)'),
  range('clamp_min(strata_queue_depth, 0)', 300),
  range('clamp_max(rate(strata_http_requests_total{service="billing"}[5m]), 10)', 300),
  instant('sqrt(strata_memory_bytes{pod="p0"}) * on(service, instance) exp(strata_up) + ignoring(pod) ln(strata_memory_bytes{pod="p0"}) - sgn(strata_queue_depth)'),
  instant('scalar(sum(strata_up)) * time()'),
  instant('log2(strata_memory_bytes{pod="p3"}) - log10(strata_memory_bytes{pod="p3"}) + ignoring(pod) deg(rad(strata_queue_depth))'),
  instant('sin(strata_queue_depth) + cos(strata_queue_depth) * tan(strata_queue_depth / 100) - atan(strata_queue_depth)'),
  instant('sinh(strata_queue_depth / 50) + cosh(strata_queue_depth / 50) - tanh(strata_queue_depth) + asinh(strata_queue_depth)'),
  instant('asin(clamp(strata_queue_depth / 100, -1, 1)) + acos(clamp(strata_queue_depth / 100, -1, 1)) + acosh(abs(strata_queue_depth) + 1) + atanh(clamp(strata_queue_depth / 100, -0.9, 0.9))'),
  { kind: 'instant', query: 'clamp(strata_queue_depth, 5, 1)', time: LATE, expectEmpty: true },
  instant('sqrt(strata_queue_depth) + pi()'),
  instant('sort(strata_queue_depth{service="api"})'),
  range('10 atan2 2 + time() % 7', 900),
  instant('label_replace(strata_up, "host", "$1-${2}x$$", "instance", "10\\.0\\.([0-9]+)\\.([0-9]+):.*")'),
  range('label_join(sum by (service, code) (rate(strata_http_requests_total[5m])), "key", "/", "service", "code", "missing")', 600),
  range('absent(strata_up{service="api", instance="10.0.0.0:9100"} == 0)', 300),
  range('absent_over_time(strata_up{instance="10.0.0.0:9100", job="x"}[10m])', 300),
  instant('absent(nonexistent{a="b", c=~"d"})'),
  instant('timestamp(strata_queue_depth{service="auth"})'),
  range('timestamp(sum(strata_up))', 600),
  range('hour() + minute() / 100 + day_of_week() + day_of_month() + day_of_year() + days_in_month() + month() + year()', 1800),
  instant('minute(strata_queue_depth{service="api"} * 1000)'),
  instant('year(strata_queue_depth * 1e15) + days_in_month(strata_queue_depth * 1e10) + day_of_year(strata_queue_depth * -3e7) + hour(strata_queue_depth / 0)'),
  range('vector(time()) - scalar(count(strata_up))', 600),

  // Histograms.
  range('histogram_quantile(0.9, sum by (le, service) (rate(strata_request_duration_seconds_bucket[5m])))'),
  instant('histogram_quantile(0.5, rate(strata_request_duration_seconds_bucket[10m]))'),
  range('histogram_quantile(0.99, sum by (le) (rate(strata_request_duration_seconds_bucket[5m])))', 120),
  instant('histogram_quantile(0.75, strata_request_duration_seconds_bucket{service="auth"})', LATE),

  // Aggregations.
  range('sum by (service) (rate(strata_http_requests_total[5m]))'),
  range('sum without (instance, code) (rate(strata_http_requests_total[5m]))', 120),
  range('avg by (service, pod) (strata_memory_bytes)', 300),
  range('min(strata_memory_bytes) by (service)', 300),
  range('max by (code) (strata_http_requests_total)', 300),
  range('count by (service) (strata_memory_bytes > 500000000)', 120),
  range('topk(3, strata_memory_bytes)', 300),
  range('bottomk by (service) (2, rate(strata_http_requests_total[5m]))', 300),
  instant('topk(5, sum by (instance) (rate(strata_http_requests_total[5m])))'),
  instant('quantile by (service) (0.9, strata_memory_bytes)'),
  range('stddev by (service) (strata_memory_bytes)', 600),
  instant('stdvar(strata_queue_depth)'),
  instant('count_values by (service) ("up", strata_up)'),
  instant('group by (service) (strata_memory_bytes)'),
  range('avg(strata_queue_depth)', 120),

  // Operators.
  range('rate(strata_http_requests_total{code="500"}[5m]) / ignoring(code) rate(strata_http_requests_total{code="200"}[5m])', 180),
  range(
    'sum by (service, instance) (rate(strata_request_duration_seconds_sum[5m])) / sum by (service, instance) (rate(strata_request_duration_seconds_count[5m]))',
    180,
  ),
  instant('strata_memory_bytes / 1024 / 1024 % 7'),
  instant('2 ^ strata_queue_depth{service="api"}'),
  instant('-strata_memory_bytes{pod="p5"}'),
  range('strata_memory_bytes{pod="p4"} > bool 600000000', 300),
  instant('strata_memory_bytes >= on(service, instance, pod) strata_memory_bytes offset 10m'),
  range('strata_queue_depth < 0', 60),
  instant('1 > bool strata_up'),
  range('strata_memory_bytes{pod="p6"} and on(instance) strata_up == 1', 300),
  range('strata_up == 0 or on(service, instance) strata_queue_depth > 50', 300),
  range('strata_memory_bytes{pod="p7"} unless ignoring(pod) strata_up == 0', 300),
  instant('(1 + 2) * 3 - 4 / 8 + 2 ^ 3 ^ 2 % 5'),
  instant('strata_up atan2 on(service, instance) strata_queue_depth'),

  // Ties and NaN: which series topk/bottomk keep depends on Go's heap and storage order.
  instant('topk(5, strata_up)'),
  range('bottomk(4, strata_up)', 300),
  instant('topk by (service) (3, strata_queue_depth)'),
  range('topk(2, strata_queue_depth)', 600),
  instant('quantile(0.5, strata_queue_depth)'),
  instant('count_values("depth", strata_queue_depth / 8)'),
  instant('sort_desc(sum by (service) (strata_memory_bytes))'),

  // Special values and how they print.
  instant('strata_queue_depth / 0'),
  instant('strata_memory_bytes{pod="p1"} * 1e15'),
  instant('strata_memory_bytes{pod="p1"} / 1e16'),
  instant('histogram_quantile(1.5, strata_request_duration_seconds_bucket{instance="10.0.0.1:9100"})'),
  instant('scalar(strata_up)'),

  // Errors must match too.
  instant('strata_memory_bytes + on(service) strata_up', MID, true),
  instant('sum by (service) (strata_up) / on() strata_up', MID, true),
  instant('rate({__name__=~"strata_up|strata_queue_depth"}[5m])', MID, true),
  instant('rate(strata_up)', MID, true),
  instant('topk(scalar(strata_up), strata_up)', MID, true),
  instant('bottomk(1e19, nonexistent_metric)', MID, true),
  instant('sum(strata_up', MID, true),
  instant('strata_up +', MID, true),
  instant('strata_up{service=~"("}', MID, true),
  instant('nonexistent_function(strata_up)', MID, true),
  { kind: 'range', query: 'strata_up', start: S, end: E, step: 0.5, compareErrorMessage: true },
  { kind: 'range', query: 'strata_up', start: E, end: S, step: 60, compareErrorMessage: true },
  { kind: 'range', query: 'strata_up[5m]', start: S, end: E, step: 60, compareErrorMessage: true },
];
