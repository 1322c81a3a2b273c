// How failures are shown: the server's detail, and what to do about auth problems.
import { el } from './util.js';

export function errorBox(error) {
  if (error && error.authProblem) {
    return el('div.alert.error',
      el('b', error.status === 401 ? 'This server needs a token. ' : 'This token may not read telemetry. '),
      'Enter a bearer token with the telemetry.read scope in the Token field at the top right and press Save.',
      el('div.muted.small', error.detail));
  }
  return el('div.alert.error', el('b', 'Request failed: '), error?.detail ?? error?.message ?? String(error));
}
