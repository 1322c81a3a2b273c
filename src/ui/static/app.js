// The strata UI shell: hash routing between the views and the bearer-token field.
import { getToken, setToken } from './api.js';
import { clear, currentRoute, el } from './util.js';
import { renderTraceList } from './traces.js';
import { renderTrace } from './trace.js';
import { renderMetrics } from './metrics.js';

const view = document.getElementById('view');
let generation = 0;

/** Each render gets a token; async work checks it so a slow answer never paints over a newer view. */
function route() {
  const { path, params } = currentRoute();
  const gen = ++generation;
  const alive = () => gen === generation;
  for (const a of document.querySelectorAll('[data-nav]')) {
    a.classList.toggle('active', path.startsWith(`/${a.dataset.nav === 'traces' ? 'trace' : a.dataset.nav}`));
  }
  clear(view);
  const traceMatch = /^\/trace\/(.+)$/.exec(path);
  if (path === '/traces' || path === '/' || path === '') {
    document.title = 'Traces · strata';
    renderTraceList(view, params, alive);
  } else if (traceMatch) {
    document.title = 'Trace · strata';
    renderTrace(view, decodeURIComponent(traceMatch[1]), params, alive);
  } else if (path === '/metrics') {
    document.title = 'Metrics · strata';
    renderMetrics(view, params, alive);
  } else {
    view.append(el('div.panel', el('h2', 'Not found'), el('p', 'No such page. ', el('a', { href: '#/traces' }, 'Go to traces'))));
  }
}

function setupToken() {
  const form = document.getElementById('token-form');
  const input = document.getElementById('token-input');
  const state = document.getElementById('token-state');
  input.value = getToken();
  const show = () => { state.textContent = getToken() ? 'set' : ''; };
  show();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    setToken(input.value.trim());
    show();
    route();
  });
}

setupToken();
window.addEventListener('hashchange', route);
route();
