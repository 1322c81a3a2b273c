/** Plain-text tables for CLI output: aligned columns, numbers right-aligned, no colours. */

export type Cell = string | number | boolean | null | undefined;

export function renderTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((row) => headers.map((_, i) => cellText(row[i])));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((row) => row[i] === null || row[i] === undefined || typeof row[i] === 'number'));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...text.map(line)].join('\n') + '\n';
}

function cellText(cell: Cell): string {
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'number') return formatValue(cell);
  return String(cell);
}

/** Numbers as Prometheus prints them: integers plainly, others with up to 12 significant digits. */
export function formatValue(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return String(n);
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? '+Inf' : '-Inf';
  return String(Number(n.toPrecision(12)));
}

/** `{a="1", b="2"}` in Prometheus' notation, `__name__` in front. */
export function seriesName(labels: Record<string, string>): string {
  const name = labels.__name__ ?? '';
  const rest = Object.keys(labels).filter((k) => k !== '__name__').sort().map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return rest.length === 0 ? name || '{}' : `${name}{${rest.join(', ')}}`;
}

/** Unix seconds as ISO 8601 UTC with milliseconds. */
export function isoSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/** Milliseconds between two ISO timestamps with microseconds, or '' when the end is absent. */
export function durationMs(start: string, end: string | undefined): number | undefined {
  if (!end) return undefined;
  return Math.round((isoMicros(end) - isoMicros(start)) / 10) / 100;
}

/** ISO 8601 with up to 6 fractional digits → µs since the epoch (exact for strata's output). */
export function isoMicros(iso: string): number {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?(.*)$/.exec(iso);
  if (!m) return Date.parse(iso) * 1000;
  const base = Date.parse(`${m[1]}${m[3] || 'Z'}`);
  return base * 1000 + Number((m[2] ?? '').padEnd(6, '0'));
}
