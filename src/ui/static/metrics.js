// The metrics explorer: a PromQL range query (when the server has the Prometheus API) or a
// metric + label matchers through query_metrics, drawn with uPlot (legend with hover values).
import uPlot from '/ui/vendor/uplot.esm.js';
import { api, hasPromQL } from './api.js';
import { errorBox } from './errors.js';
import { clear, el, RANGES, routeHref } from './util.js';

const MATCH_OPS = ['=', '!=', '=~', '!~'];
const CHART_RANGES = RANGES.filter((r) => r.seconds !== null);
const GRANULARITIES = ['auto', 'raw', '15s', '1m', '5m', '15m', '1h', '1d'];
const NICE_STEPS = [10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 10800, 21600, 43200, 86400];
const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#ea580c', '#4f46e5', '#0d9488', '#9333ea'];

function readState(params) {
  let matchers = [];
  try {
    const parsed = JSON.parse(params.get('matchers') ?? '[]');
    if (Array.isArray(parsed)) matchers = parsed.filter((m) => m && typeof m.name === 'string' && MATCH_OPS.includes(m.operator));
  } catch {
    // ignore a hand-edited hash
  }
  return {
    mode: params.get('mode') === 'metric' ? 'metric' : params.get('mode') === 'promql' ? 'promql' : null,
    q: params.get('q') ?? '',
    metric: params.get('metric') ?? '',
    matchers,
    range: CHART_RANGES.some((r) => r.id === params.get('range')) ? params.get('range') : '1h',
    granularity: GRANULARITIES.includes(params.get('granularity')) ? params.get('granularity') : 'auto',
  };
}

function stateParams(s) {
  const p = { mode: s.mode, range: s.range };
  if (s.mode === 'promql') p.q = s.q;
  else {
    p.metric = s.metric;
    p.granularity = s.granularity;
    if (s.matchers.length) p.matchers = JSON.stringify(s.matchers);
  }
  return p;
}

/** The smallest nice step giving at most ~`points` points over the range. */
function autoStep(seconds, points) {
  return NICE_STEPS.find((s) => seconds / s <= points) ?? 86400;
}

function stepText(seconds) {
  if (seconds % 86400 === 0) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

export async function renderMetrics(root, params, alive) {
  const state = readState(params);
  const promql = await hasPromQL();
  if (!alive()) return;
  if (state.mode === null) state.mode = promql ? 'promql' : 'metric';

  const exprInput = el('textarea#promql', { rows: 2, spellcheck: false, placeholder: 'e.g. sum by (model_id) (rate(prompt_tokens[5m]))' }, state.q);
  const metricInput = el('input#metric-name', { value: state.metric, placeholder: 'metric name, e.g. prompt_tokens', spellcheck: false, list: 'metric-names' });
  const names = el('datalist#metric-names');
  const matcherRows = el('div.filter-rows');
  const addMatcher = (m = { name: '', operator: '=', value: '' }) => {
    const row = el('div.filter-row',
      el('input.m-name', { value: m.name, placeholder: 'label', spellcheck: false, 'aria-label': 'label name' }),
      el('select.m-op', { 'aria-label': 'matcher' }, MATCH_OPS.map((op) => el('option', { value: op, selected: op === m.operator }, op))),
      el('input.m-value', { value: m.value, placeholder: 'value or regex', spellcheck: false, 'aria-label': 'label value' }),
      el('button.icon', { type: 'button', title: 'remove matcher', onclick: () => row.remove() }, '×'));
    matcherRows.append(row);
  };
  for (const m of state.matchers) addMatcher(m);
  const rangeSelect = el('select#metric-range', { 'aria-label': 'time range' }, CHART_RANGES.map((r) => el('option', { value: r.id, selected: r.id === state.range }, r.label)));
  const granularitySelect = el('select#granularity', { 'aria-label': 'granularity' }, GRANULARITIES.map((g) => el('option', { value: g, selected: g === state.granularity }, g === 'auto' ? 'auto buckets' : g === 'raw' ? 'raw samples' : `${g} buckets`)));

  let mode = state.mode;
  const promqlTab = el('button.tab#tab-promql', { type: 'button', disabled: !promql, title: promql ? '' : 'this server has no Prometheus API', onclick: () => setMode('promql') }, 'PromQL');
  const metricTab = el('button.tab#tab-metric', { type: 'button', onclick: () => setMode('metric') }, 'Metric + labels');
  const promqlFields = el('div.mode-promql', exprInput);
  const metricFields = el('div.mode-metric', el('div.metric-line', metricInput, names, granularitySelect), matcherRows,
    el('button.link', { type: 'button', onclick: () => addMatcher() }, '+ label matcher'));
  const setMode = (m) => {
    mode = m;
    promqlTab.classList.toggle('active', m === 'promql');
    metricTab.classList.toggle('active', m === 'metric');
    promqlFields.hidden = m !== 'promql';
    metricFields.hidden = m !== 'metric';
  };
  setMode(mode === 'promql' && !promql ? 'metric' : mode);

  const collect = () => ({
    mode,
    q: exprInput.value.trim(),
    metric: metricInput.value.trim(),
    matchers: [...matcherRows.querySelectorAll('.filter-row')]
      .map((row) => ({ name: row.querySelector('.m-name').value.trim(), operator: row.querySelector('.m-op').value, value: row.querySelector('.m-value').value }))
      .filter((m) => m.name !== ''),
    range: rangeSelect.value,
    granularity: granularitySelect.value,
  });
  const form = el('form.search', {
    onsubmit: (event) => {
      event.preventDefault();
      location.hash = routeHref('/metrics', stateParams(collect()));
    },
  },
  el('div.search-head', el('h2', 'Metrics'),
    el('div.search-controls', el('div.tabs', promqlTab, metricTab), rangeSelect, el('button.primary#run', { type: 'submit' }, 'Run'))),
  promql ? null : el('p.hint', 'PromQL needs the Prometheus API (/api/v1/query_range), which this server does not answer yet: query a metric by name and label matchers instead.'),
  promqlFields, metricFields);

  const chartBox = el('div.chart-box');
  root.append(el('section.panel', form), el('section.panel', chartBox));
  if (promql) api.metricNames().then((list) => { for (const n of list ?? []) names.append(el('option', { value: n })); }, () => {});

  const ran = mode === 'promql' ? state.q !== '' && promql : state.metric !== '';
  if (!ran) {
    chartBox.append(el('p.empty', mode === 'promql' ? 'Enter a PromQL expression and press Run.' : 'Enter a metric name (the sample workload has prompt_tokens, completion_tokens, total_tokens, tool_latency_ms) and press Run.'));
    return;
  }
  chartBox.append(el('p.muted', 'Querying…'));
  try {
    const range = CHART_RANGES.find((r) => r.id === state.range);
    const end = Math.floor(Date.now() / 1000);
    const start = end - range.seconds;
    const result = mode === 'promql' ? await runPromQL(state.q, start, end, range.seconds) : await runMetric(state, start, end, range.seconds);
    if (!alive()) return;
    drawChart(clear(chartBox), result, start, end);
  } catch (error) {
    if (alive()) clear(chartBox).append(errorBox(error));
  }
}

async function runPromQL(expr, start, end, seconds) {
  const step = autoStep(seconds, 250);
  const data = await api.promRange({ query: expr, start: String(start), end: String(end), step: String(step) });
  if (data.resultType !== 'matrix') throw new Error(`expected a range vector, got ${data.resultType}`);
  return {
    title: expr,
    unit: '',
    series: data.result.map((s) => ({ label: seriesLabel(s.metric), points: s.values.map(([t, v]) => [Number(t), Number(v)]) })),
  };
}

async function runMetric(state, start, end, seconds) {
  const granularity = state.granularity === 'auto' ? stepText(autoStep(seconds, 20)) : state.granularity === 'raw' ? null : state.granularity;
  const data = await api.queryMetrics(state.metric, { start_time: start, end_time: end, query_type: 'range', granularity, label_matchers: state.matchers });
  return {
    title: `${state.metric}${granularity ? ` (sum per ${granularity})` : ' (raw samples)'}`,
    unit: data[0]?.values[0]?.unit ?? '',
    series: data.map((s) => {
      const labels = { __name__: s.metric };
      for (const l of s.labels) labels[l.name] = l.value;
      return { label: seriesLabel(labels), points: s.values.map((p) => [p.timestamp, p.value]) };
    }),
  };
}

function seriesLabel(metric) {
  const name = metric.__name__ ?? '';
  const rest = Object.keys(metric).filter((k) => k !== '__name__').sort().map((k) => `${k}="${metric[k]}"`);
  return rest.length ? `${name}{${rest.join(', ')}}` : name || '{}';
}

function formatNumber(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(2)}G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(4)));
}

let activeChart = null;

function drawChart(box, result, start, end) {
  activeChart?.destroy();
  activeChart = null;
  const points = result.series.reduce((n, s) => n + s.points.length, 0);
  box.dataset.seriesCount = String(result.series.length);
  box.append(el('div.chart-title', el('b', result.title), el('span.muted#chart-summary', ` — ${result.series.length} series, ${points} points${result.unit ? `, unit ${result.unit}` : ''}`)));
  if (result.series.length === 0) {
    box.append(el('p.empty#no-series', 'No series matched in this time range.'));
    return;
  }
  const xs = [...new Set(result.series.flatMap((s) => s.points.map(([t]) => t)))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = result.series.map((s) => {
    const column = new Array(xs.length).fill(null);
    for (const [t, v] of s.points) column[index.get(t)] = Number.isFinite(v) ? v : null;
    return column;
  });
  const sparse = xs.length < 80;
  const chartEl = el('div.chart#chart');
  box.append(chartEl);
  const width = () => Math.max(320, box.clientWidth - 8);
  const opts = {
    width: width(),
    height: 340,
    scales: { x: { time: true, min: start, max: end } },
    series: [
      { label: 'time' },
      ...result.series.map((s, i) => ({
        label: s.label,
        stroke: PALETTE[i % PALETTE.length],
        width: 1.5,
        spanGaps: false,
        points: { show: sparse, size: 5 },
        value: (_u, v) => formatNumber(v),
      })),
    ],
    axes: [{}, { size: 60, values: (_u, values) => values.map(formatNumber), label: result.unit || undefined }],
    legend: { live: true },
    cursor: { focus: { prox: 24 } },
    focus: { alpha: 0.35 },
  };
  activeChart = new uPlot(opts, [xs, ...ys], chartEl);
  const chart = activeChart;
  const onResize = () => {
    if (!chartEl.isConnected) return window.removeEventListener('resize', onResize);
    chart.setSize({ width: width(), height: 340 });
  };
  window.addEventListener('resize', onResize);
}
