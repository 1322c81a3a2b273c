// The trace view: span waterfall (nesting, durations, status colours, bars placed by start/end)
// and the selected span's attributes and logs.
import { api } from './api.js';
import { errorBox } from './errors.js';
import { clear, el, formatDuration, formatTime, isoMicros, routeHref } from './util.js';

export async function renderTrace(root, traceId, params, alive) {
  const panel = el('section.panel', el('p.muted', 'Loading trace…'));
  root.append(el('div.crumbs', el('a', { href: '#/traces' }, '‹ Traces')), panel);
  let trace, tree;
  try {
    trace = await api.getTrace(traceId);
    tree = await api.spanTree(trace.root_span_id, {});
  } catch (error) {
    if (alive()) clear(panel).append(errorBox(error));
    return;
  }
  if (!alive()) return;
  const rows = flatten(trace.root_span_id, tree);
  const t0 = isoMicros(trace.start_time);
  // A running span reaches to the latest time seen in the trace (or now, when nothing ended).
  const latest = Math.max(...rows.map((r) => r.end ?? r.start), trace.end_time ? isoMicros(trace.end_time) : 0);
  const t1 = rows.some((r) => r.end === undefined) ? Math.max(latest, Date.now() * 1000) : latest;
  const total = Math.max(1, t1 - t0);
  const errors = rows.filter((r) => r.span.status === 'error').length;
  const rootSpan = tree[trace.root_span_id];

  const detail = el('aside.span-detail#span-detail', el('p.muted', 'Select a span to see its attributes and logs.'));
  const selected = params.get('span');
  const select = (row, rowEl) => {
    for (const r of waterfall.querySelectorAll('.span-row.selected')) r.classList.remove('selected');
    rowEl.classList.add('selected');
    history.replaceState(null, '', routeHref(`/trace/${encodeURIComponent(traceId)}`, { span: row.span.span_id }));
    void showSpan(detail, row, t0, alive);
  };

  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => el('span.tick', { style: { left: `${f * 100}%` } }, formatDuration(f * total)));
  const waterfall = el('div.waterfall#waterfall',
    el('div.wf-header', el('div.wf-name', 'Span'), el('div.wf-timeline', ticks)),
    rows.map((row) => {
      const left = ((row.start - t0) / total) * 100;
      const width = (((row.end ?? t1) - row.start) / total) * 100;
      const status = row.span.status ?? 'running';
      const rowEl = el('div.span-row', {
        tabindex: 0,
        role: 'button',
        dataset: { spanId: row.span.span_id, depth: String(row.depth), status, name: row.span.name },
        onclick: () => select(row, rowEl),
        onkeydown: (event) => { if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); select(row, rowEl); } },
      },
      el('div.wf-name', { style: { paddingLeft: `${8 + row.depth * 16}px` }, title: row.span.name },
        row.childCount > 0 ? el('span.caret', '▾') : el('span.caret.leaf', '·'),
        el('span.span-name', row.span.name),
        status === 'error' ? el('span.badge.error.small', 'error') : null),
      el('div.wf-timeline',
        el('div.bar', { className: `bar ${status}`, style: { left: `${left}%`, width: `max(2px, ${width}%)` }, title: `${row.span.name}: ${row.end === undefined ? 'running' : formatDuration(row.end - row.start)}` }),
        el('span.bar-label', { style: left + width > 80 ? { right: `${100 - left + 0.5}%` } : { left: `calc(${left + width}% + 6px)` } }, row.end === undefined ? 'running' : formatDuration(row.end - row.start))));
      if (row.span.span_id === selected) queueMicrotask(() => select(row, rowEl));
      return rowEl;
    }));

  clear(panel).append(
    el('div.trace-head',
      el('h2', rootSpan?.name ?? trace.root_span_id),
      el('div.facts',
        fact('Trace', el('span.mono', trace.trace_id)),
        fact('Started', formatTime(t0)),
        fact('Duration', trace.end_time ? formatDuration(isoMicros(trace.end_time) - t0) : 'running'),
        fact('Spans', String(rows.length)),
        fact('Errors', errors ? el('span.badge.error', String(errors)) : '0'))),
    el('div.trace-body', waterfall, detail));
}

function fact(label, value) {
  return el('div.fact', el('div.muted.small', label), el('div', value));
}

/** Depth-first from the root; children by start time, then span id (as the API orders them). */
function flatten(rootId, tree) {
  const children = new Map();
  for (const span of Object.values(tree)) {
    if (span.span_id === rootId || !span.parent_span_id) continue;
    if (!children.has(span.parent_span_id)) children.set(span.parent_span_id, []);
    children.get(span.parent_span_id).push(span);
  }
  const key = (s) => isoMicros(s.start_time);
  for (const list of children.values()) list.sort((a, b) => key(a) - key(b) || (a.span_id < b.span_id ? -1 : 1));
  const rows = [];
  const visit = (span, depth) => {
    const kids = children.get(span.span_id) ?? [];
    rows.push({ span, depth, start: isoMicros(span.start_time), end: span.end_time ? isoMicros(span.end_time) : undefined, childCount: kids.length });
    for (const c of kids) visit(c, depth + 1);
  };
  if (tree[rootId]) visit(tree[rootId], 0);
  return rows;
}

async function showSpan(detail, row, t0, alive) {
  const s = row.span;
  const attributes = Object.entries(s.attributes ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  const logs = el('div.logs', el('p.muted', 'Loading logs…'));
  clear(detail).append(
    el('h3', s.name),
    el('dl.kv',
      el('dt', 'Status'), el('dd', el('span', { className: `badge ${s.status ?? 'running'}` }, s.status ?? 'running')),
      el('dt', 'Span'), el('dd.mono', s.span_id),
      s.parent_span_id ? [el('dt', 'Parent'), el('dd.mono', s.parent_span_id)] : null,
      el('dt', 'Start'), el('dd', `${formatTime(row.start)} (+${formatDuration(row.start - t0)})`),
      el('dt', 'Duration'), el('dd', row.end === undefined ? 'running' : formatDuration(row.end - row.start))),
    el('h4', `Attributes (${attributes.length})`),
    attributes.length
      ? el('table.attrs#span-attributes', el('tbody', attributes.map(([k, v]) => el('tr', el('th', k), el('td', { className: typeof v === 'string' ? 'str' : 'val' }, v === null ? 'null' : String(v))))))
      : el('p.muted', 'No attributes.'),
    el('h4', 'Logs'),
    logs,
    el('p.muted.small', 'Metric events carry their span id, but strata indexes metrics by series, not by span: see them in ', el('a', { href: '#/metrics' }, 'Metrics'), '.'));
  try {
    const entries = await api.spanLogs(s.span_id);
    if (!alive() || !logs.isConnected) return;
    clear(logs).append(entries.length
      ? el('ul.log-list#span-logs', entries.map((log) => el('li', { className: `log ${log.severity}` },
        el('span.log-time.mono', `+${formatDuration(isoMicros(log.timestamp) - t0)}`),
        el('span', { className: `sev ${log.severity}` }, log.severity),
        el('span.log-msg', log.message),
        log.attributes ? el('span.muted.small', ` ${JSON.stringify(log.attributes)}`) : null)))
      : el('p.muted', 'No logs for this span.'));
  } catch (error) {
    if (!logs.isConnected) return;
    clear(logs).append(error.routeMissing ? el('p.muted', 'This server does not expose logs by span.') : errorBox(error));
  }
}
