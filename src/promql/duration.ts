/**
 * Durations as PromQL 2.42 writes them (common/model.ParseDuration): unit groups in
 * descending order, each at most once, e.g. `1h30m`, `90s`, `500ms`, `2w`, `1y` (365d).
 */
const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1];

/** Milliseconds, or an error message worded as Prometheus words it. */
export function parseDurationMs(text: string): number | { error: string } {
  if (text === '0') return 0;
  const m = text === '' ? null : DURATION.exec(text);
  if (!m) return { error: `not a valid duration string: ${JSON.stringify(text)}` };
  let ms = 0;
  for (let i = 0; i < UNIT_MS.length; i++) {
    if (m[i + 1] !== undefined) ms += Number(m[i + 1]) * UNIT_MS[i];
  }
  // Go keeps durations in int64 nanoseconds.
  if (ms * 1e6 > 9223372036854775807) return { error: 'duration out of range' };
  return ms;
}
