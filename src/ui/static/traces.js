// The trace list: attribute filters + time range, newest first, paginated; export to a dataset.
import { api } from './api.js';
import { clear, el, formatDuration, formatTime, isoMicros, localInputValue, microsIso, RANGES, resolveRange, routeHref, timeAgo, typedValue, valueText } from './util.js';
import { errorBox } from './errors.js';

const OPS = [['eq', '='], ['ne', '≠'], ['gt', '>'], ['lt', '<']];
const PAGE_SIZES = [20, 50, 100];

/** The list's state lives in the URL hash, so reloads and links keep it. */
function readState(params) {
  let filters = [];
  try {
    const parsed = JSON.parse(params.get('filters') ?? '[]');
    if (Array.isArray(parsed)) filters = parsed.filter((f) => f && typeof f.key === 'string' && OPS.some(([op]) => op === f.op));
  } catch {
    // a hand-edited hash: start without filters
  }
  const size = Number(params.get('size'));
  return {
    filters,
    range: RANGES.some((r) => r.id === params.get('range')) ? params.get('range') : '24h',
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
    page: Math.max(0, Number.parseInt(params.get('page') ?? '0', 10) || 0),
    size: PAGE_SIZES.includes(size) ? size : 20,
  };
}

function stateParams(state) {
  const params = { range: state.range, size: String(state.size), page: String(state.page) };
  if (state.filters.length) params.filters = JSON.stringify(state.filters);
  if (state.range === 'custom') Object.assign(params, { from: state.from, to: state.to });
  return params;
}

export function renderTraceList(root, params, alive) {
  const state = readState(params);
  const filterRows = el('div.filter-rows');
  const addFilterRow = (f = { key: '', op: 'eq', value: '' }) => {
    const row = el('div.filter-row',
      el('input.f-key', { placeholder: 'attribute (e.g. session_id)', value: f.key, spellcheck: false, 'aria-label': 'attribute key' }),
      el('select.f-op', { 'aria-label': 'operator' }, OPS.map(([op, label]) => el('option', { value: op, selected: op === f.op }, label))),
      el('input.f-value', { placeholder: 'value', value: f.value === '' ? '' : valueText(f.value), spellcheck: false, 'aria-label': 'value' }),
      el('button.icon', { type: 'button', title: 'remove filter', onclick: () => row.remove() }, '×'),
    );
    filterRows.append(row);
  };
  for (const f of state.filters) addFilterRow(f);

  const rangeSelect = el('select#range', { 'aria-label': 'time range' }, RANGES.map((r) => el('option', { value: r.id, selected: r.id === state.range }, r.label)));
  const now = new Date();
  const fromInput = el('input#range-from', { type: 'datetime-local', value: state.from || localInputValue(new Date(now.getTime() - 3600_000)) });
  const toInput = el('input#range-to', { type: 'datetime-local', value: state.to || localInputValue(now) });
  const custom = el('span.custom-range', fromInput, ' → ', toInput);
  const showCustom = () => { custom.hidden = rangeSelect.value !== 'custom'; };
  rangeSelect.addEventListener('change', showCustom);
  showCustom();
  const sizeSelect = el('select#page-size', { 'aria-label': 'page size' }, PAGE_SIZES.map((n) => el('option', { value: n, selected: n === state.size }, `${n} / page`)));

  const collect = () => ({
    filters: [...filterRows.querySelectorAll('.filter-row')]
      .map((row) => ({ key: row.querySelector('.f-key').value.trim(), op: row.querySelector('.f-op').value, value: typedValue(row.querySelector('.f-value').value) }))
      .filter((f) => f.key !== ''),
    range: rangeSelect.value,
    from: fromInput.value,
    to: toInput.value,
    page: 0,
    size: Number(sizeSelect.value),
  });
  const form = el('form.search', {
    onsubmit: (event) => {
      event.preventDefault();
      location.hash = routeHref('/traces', stateParams(collect()));
    },
  },
  el('div.search-head',
    el('h2', 'Traces'),
    el('div.search-controls', rangeSelect, custom, sizeSelect,
      el('button.primary#search', { type: 'submit' }, 'Search'),
      el('button#export-open', { type: 'button', onclick: () => openExport(root, collect().filters) }, 'Export spans…')),
  ),
  filterRows,
  el('button.link', { type: 'button', onclick: () => addFilterRow() }, '+ attribute filter'),
  el('p.hint', 'A trace matches when one of its spans satisfies every filter. Keys may be attributes or the span fields name, span_id, trace_id, parent_span_id, status. Numbers and true/false are typed; quote to compare as a string ("42").'));

  const results = el('div.results', el('p.muted', 'Loading…'));
  root.append(el('section.panel', form), el('section.panel', results));
  void loadPage(results, state, alive);
}

/** A Llama Stack trace query, newest first. */
function query(state, limit, offset) {
  return api.queryTraces({ attribute_filters: state.filters, limit, offset, order_by: ['-start_time'] });
}

/**
 * The API has no time range, but traces come sorted by start time (newest first), so those in
 * [from, to] are one contiguous run of that order. Its first index is found with a few
 * one-trace probes (exponential then binary search); pages then read from there and stop at
 * the first trace older than `from`.
 */
async function firstIndexAtOrBefore(state, toIso) {
  const probe = async (i) => (await query(state, 1, i))[0];
  const first = await probe(0);
  if (!first || first.start_time <= toIso) return 0;
  let lo = 0, hi = 1;
  for (;;) {
    const t = await probe(hi);
    if (!t || t.start_time <= toIso) break;
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    const t = await probe(mid);
    if (!t || t.start_time <= toIso) hi = mid;
    else lo = mid;
  }
  return hi;
}

async function loadPage(results, state, alive) {
  try {
    const { fromMicros, toMicros } = resolveRange(state.range, state.from, state.to);
    const fromIso = fromMicros === null ? null : microsIso(fromMicros);
    const toIso = toMicros === null ? null : microsIso(toMicros);
    const base = toIso === null ? 0 : await firstIndexAtOrBefore(state, toIso);
    const offset = base + state.page * state.size;
    let traces = await query(state, state.size + 1, offset);
    if (fromIso !== null) traces = traces.filter((t) => t.start_time >= fromIso);
    if (toIso !== null) traces = traces.filter((t) => t.start_time <= toIso);
    const hasMore = traces.length > state.size;
    traces = traces.slice(0, state.size);
    const details = await mapLimit(traces, 6, (t) => summarize(t));
    if (!alive()) return;
    renderResults(results, state, traces, details, hasMore);
  } catch (error) {
    if (!alive()) return;
    clear(results).append(errorBox(error));
  }
}

/** Root span name, attributes, span and error counts from the trace's span tree. */
async function summarize(trace) {
  try {
    const spans = Object.values(await api.spanTree(trace.root_span_id, {}));
    const rootSpan = spans.find((s) => s.span_id === trace.root_span_id);
    return {
      name: rootSpan?.name ?? trace.root_span_id,
      attributes: rootSpan?.attributes ?? {},
      status: rootSpan?.status,
      spans: spans.length,
      errors: spans.filter((s) => s.status === 'error').length,
    };
  } catch {
    return { name: trace.root_span_id, attributes: {}, spans: null, errors: 0 };
  }
}

async function mapLimit(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function renderResults(results, state, traces, details, hasMore) {
  clear(results);
  if (traces.length === 0) {
    results.append(el('p.empty', state.page > 0 ? 'No more traces.' : 'No traces match. Widen the time range or remove filters — or load the sample workload: strata load data/sample-agent.jsonl'));
  } else {
    const durations = traces.map((t) => (t.end_time ? isoMicros(t.end_time) - isoMicros(t.start_time) : 0));
    const longest = Math.max(1, ...durations);
    const rows = traces.map((t, i) => {
      const d = details[i];
      const start = isoMicros(t.start_time);
      const chips = Object.entries(d.attributes).filter(([k]) => !k.startsWith('__')).slice(0, 3)
        .map(([k, v]) => el('span.chip', { title: `${k}=${v}` }, el('b', k), `=${v}`));
      const status = d.errors > 0 ? el('span.badge.error', `${d.errors} error${d.errors > 1 ? 's' : ''}`) : t.end_time ? el('span.badge.ok', 'ok') : el('span.badge.running', 'running');
      const href = routeHref(`/trace/${encodeURIComponent(t.trace_id)}`);
      return el('tr.trace-row', { dataset: { traceId: t.trace_id }, onclick: (event) => { if (!event.target.closest('a')) location.hash = href; } },
        el('td.when', el('div', formatTime(start)), el('div.muted.small', timeAgo(start))),
        el('td', el('a.trace-name', { href }, d.name), el('div.chips', chips)),
        el('td.mono.small', el('a', { href, title: t.trace_id }, t.trace_id.slice(0, 12))),
        el('td.duration', el('div.dur-bar', { style: { width: `${Math.max(2, (durations[i] / longest) * 100)}%` } }), el('span', t.end_time ? formatDuration(durations[i]) : '—')),
        el('td.num', d.spans ?? '?'),
        el('td', status));
    });
    results.append(el('table.traces#trace-table',
      el('thead', el('tr', ['Started', 'Root span', 'Trace', 'Duration', 'Spans', 'Status'].map((h) => el('th', h)))),
      el('tbody', rows)));
  }
  const first = state.page * state.size + 1;
  const nav = (page) => routeHref('/traces', stateParams({ ...state, page }));
  results.append(el('div.pager',
    state.page > 0 ? el('a.button#newer', { href: nav(state.page - 1) }, '‹ Newer') : el('span.button.disabled', '‹ Newer'),
    el('span.muted#page-info', traces.length ? `traces ${first}–${first + traces.length - 1}` : ''),
    hasMore ? el('a.button#older', { href: nav(state.page + 1) }, 'Older ›') : el('span.button.disabled', 'Older ›')));
}

/** Saves the spans of the traces matching the current filters to a dataset (save_spans_to_dataset). */
function openExport(root, filters) {
  const datasetInput = el('input#export-dataset', { required: true, pattern: '[A-Za-z0-9._\\-]{1,128}', placeholder: 'e.g. agent-spans', spellcheck: false });
  const attrsInput = el('input#export-attributes', { placeholder: 'e.g. model_id,prompt_tokens (empty = no attribute columns)', spellcheck: false });
  const depthInput = el('input#export-depth', { type: 'number', min: 1, placeholder: 'all levels' });
  const status = el('p.export-status');
  const dialog = el('dialog.export',
    el('form', {
      method: 'dialog',
      onsubmit: async (event) => {
        event.preventDefault();
        const dataset = datasetInput.value.trim();
        if (!/^[A-Za-z0-9._-]{1,128}$/.test(dataset) || dataset === '.' || dataset === '..') {
          status.textContent = 'Dataset ids are 1–128 of A–Z a–z 0–9 . _ -';
          status.className = 'export-status error';
          return;
        }
        const attributes = attrsInput.value.split(',').map((s) => s.trim()).filter(Boolean);
        const body = { attribute_filters: filters, attributes_to_return: attributes };
        if (depthInput.value) body.max_depth = Number(depthInput.value);
        status.textContent = 'Exporting…';
        status.className = 'export-status';
        try {
          const rows = (await api.querySpans(body)).length;
          await api.exportSpans({ attribute_filters: filters, attributes_to_save: attributes, dataset_id: dataset, ...(body.max_depth ? { max_depth: body.max_depth } : {}) });
          status.textContent = `Exported ${rows} rows to dataset ${dataset}. Read them with GET /v1/datasetio/iterrows/${dataset}.`;
          status.className = 'export-status ok';
        } catch (error) {
          status.textContent = `Export failed: ${error.detail ?? error.message}`;
          status.className = 'export-status error';
        }
      },
    },
    el('h3', 'Export spans to a dataset'),
    el('p.muted', filters.length ? `Spans of the traces matching ${filters.length} filter${filters.length > 1 ? 's' : ''} (the API has no time range: every matching trace is exported).` : 'No filters: every span of every trace is exported.'),
    el('label', 'Dataset id', datasetInput),
    el('label', 'Attributes to save', attrsInput),
    el('label', 'Max depth', depthInput),
    status,
    el('div.dialog-buttons',
      el('button', { type: 'button', onclick: () => dialog.close() }, 'Close'),
      el('button.primary#export-submit', { type: 'submit' }, 'Export'))));
  dialog.addEventListener('close', () => dialog.remove());
  root.append(dialog);
  dialog.showModal();
}
