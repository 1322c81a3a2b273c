/**
 * A one-line progress bar for long CLI work (bulk load, export, bench): done/total, percent,
 * rate and ETA. It draws only on a TTY so piped output and CI logs stay clean, and redraws at
 * most every `intervalMs` so ticking per row costs nothing.
 */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export interface ProgressOptions {
  /** 0 when unknown: then only the count and rate are shown. */
  total: number;
  label?: string;
  /** Default process.stderr, so stdout can carry results. */
  stream?: ProgressStream;
  intervalMs?: number;
  now?: () => number;
}

export interface Progress {
  tick(amount?: number): void;
  update(done: number): void;
  /** Draws the final state and ends the line. */
  finish(): void;
}

const BAR_WIDTH = 24;

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? (() => performance.now());
  const intervalMs = options.intervalMs ?? 100;
  const enabled = stream.isTTY === true;
  const startedAt = now();
  let done = 0;
  let lastDrawAt = -Infinity;
  let finished = false;

  const draw = (force: boolean): void => {
    if (!enabled || finished) return;
    const at = now();
    if (!force && at - lastDrawAt < intervalMs) return;
    lastDrawAt = at;
    const line = progressLine({ label: options.label, done, total: options.total, elapsedMs: at - startedAt });
    // A pty may report 0 columns (e.g. under `script`): treat that as unknown.
    const width = stream.columns || 80;
    stream.write(`\r${line.slice(0, Math.max(0, width - 1))}\x1b[K`);
  };

  return {
    tick(amount = 1) {
      done += amount;
      draw(false);
    },
    update(value) {
      done = value;
      draw(false);
    },
    finish() {
      draw(true);
      if (enabled && !finished) stream.write('\n');
      finished = true;
    },
  };
}

/** `label [#####-------]  42% 420/1000  1.2k/s  ETA 0:05` */
export function progressLine(state: { label?: string; done: number; total: number; elapsedMs: number }): string {
  const { done, total, elapsedMs } = state;
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const parts: string[] = state.label ? [state.label] : [];
  if (total > 0) {
    const fraction = Math.min(1, done / total);
    const filled = Math.round(fraction * BAR_WIDTH);
    parts.push(`[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`);
    parts.push(`${Math.floor(fraction * 100).toString().padStart(3)}%`);
    parts.push(`${done}/${total}`);
  } else {
    parts.push(String(done));
  }
  parts.push(`${humanNumber(rate)}/s`);
  if (total > 0) parts.push(`ETA ${rate > 0 ? clock((total - done) / rate) : '--:--'}`);
  return parts.join(' ');
}

function humanNumber(value: number): string {
  if (value >= 1e9) return `${(value / 1e9).toFixed(1)}G`;
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return value.toFixed(value >= 10 ? 0 : 1);
}

/** Seconds as `m:ss`, or `h:mm:ss` from an hour. */
function clock(seconds: number): string {
  const total = Math.max(0, Math.ceil(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
