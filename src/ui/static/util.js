// Small DOM and formatting helpers shared by the views.

/** el('div.cls#id', {attr: v, onclick: f}, children...) */
export function el(spec, props, ...children) {
  const m = /^([a-z0-9-]+)?((?:[.#][\w-]+)*)$/i.exec(spec);
  const node = document.createElement(m?.[1] || 'div');
  for (const part of (m?.[2] ?? '').match(/[.#][\w-]+/g) ?? []) {
    if (part[0] === '.') node.classList.add(part.slice(1));
    else node.id = part.slice(1);
  }
  if (props && (typeof props !== 'object' || props instanceof Node || Array.isArray(props))) {
    children.unshift(props);
    props = null;
  }
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'className') node.className = value;
    else if (key === 'style' && typeof value === 'object') Object.assign(node.style, value);
    else if (key in node && key !== 'list' && typeof value !== 'string') node[key] = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

/** ISO 8601 with up to 6 fractional digits (what strata returns) → µs since the epoch. */
export function isoMicros(iso) {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?(.*)$/.exec(iso);
  if (!m) return Date.parse(iso) * 1000;
  return Date.parse(`${m[1]}${m[3] || 'Z'}`) * 1000 + Number((m[2] ?? '').padEnd(6, '0'));
}

/** µs since the epoch → strata's ISO form (six fractional digits), for comparisons with its output. */
export function microsIso(micros) {
  const ms = Math.floor(micros / 1000);
  const frac = String(Math.round(micros - ms * 1000)).padStart(3, '0');
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, `.$1${frac}Z`);
}

/** A duration in µs, human-sized: 850µs, 12.3ms, 4.56s, 3m 20s. */
export function formatDuration(micros) {
  if (micros === undefined || micros === null || Number.isNaN(micros)) return '—';
  if (micros < 1000) return `${Math.round(micros)}µs`;
  if (micros < 1_000_000) return `${(micros / 1000).toFixed(micros < 10_000 ? 2 : 1)}ms`;
  if (micros < 60_000_000) return `${(micros / 1_000_000).toFixed(2)}s`;
  const s = Math.round(micros / 1_000_000);
  return `${Math.floor(s / 60)}m ${s % 60}s`;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** Local wall time with milliseconds; the date too when it is not today. */
export function formatTime(micros) {
  const d = new Date(micros / 1000);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  const today = new Date();
  if (d.toDateString() === today.toDateString()) return time;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

export function timeAgo(micros) {
  const s = Math.round((Date.now() * 1000 - micros) / 1_000_000);
  if (s < 0) return 'in the future';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/**
 * A filter value as typed: numbers and booleans when it reads as one, a JSON-quoted string
 * ("5") as that string, anything else as text. Filters compare same-typed values only.
 */
export function typedValue(raw) {
  const text = raw.trim();
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) {
    try {
      const s = JSON.parse(text);
      if (typeof s === 'string') return s;
    } catch {
      // keep as typed
    }
  }
  return raw;
}

/** The inverse of typedValue, for putting a filter back into an input. */
export function valueText(value) {
  if (typeof value === 'string') return /^(true|false|-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)$/.test(value.trim()) ? JSON.stringify(value) : value;
  return String(value);
}

export const RANGES = [
  { id: '15m', label: 'Last 15 minutes', seconds: 900 },
  { id: '1h', label: 'Last hour', seconds: 3600 },
  { id: '6h', label: 'Last 6 hours', seconds: 21600 },
  { id: '24h', label: 'Last 24 hours', seconds: 86400 },
  { id: '7d', label: 'Last 7 days', seconds: 604800 },
  { id: 'all', label: 'All time', seconds: null },
  { id: 'custom', label: 'Custom…', seconds: null },
];

/** A range id (+ custom from/to as datetime-local strings) → {fromMicros, toMicros} (null = open). */
export function resolveRange(id, from, to) {
  const now = Date.now() * 1000;
  if (id === 'custom') {
    const f = from ? Date.parse(from) : NaN, t = to ? Date.parse(to) : NaN;
    return { fromMicros: Number.isNaN(f) ? null : f * 1000, toMicros: Number.isNaN(t) ? null : t * 1000 };
  }
  const range = RANGES.find((r) => r.id === id);
  if (!range || range.seconds === null) return { fromMicros: null, toMicros: null };
  return { fromMicros: now - range.seconds * 1_000_000, toMicros: null };
}

/** Date → value of an <input type=datetime-local>. */
export function localInputValue(date) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** The hash route: `#/traces?x=1` → {path: '/traces', params}. */
export function currentRoute() {
  const hash = location.hash.replace(/^#/, '') || '/traces';
  const q = hash.indexOf('?');
  return { path: q === -1 ? hash : hash.slice(0, q), params: new URLSearchParams(q === -1 ? '' : hash.slice(q + 1)) };
}

export function routeHref(path, params) {
  const qs = params ? new URLSearchParams(params).toString() : '';
  return `#${path}${qs ? `?${qs}` : ''}`;
}
