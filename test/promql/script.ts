/**
 * A reader for Prometheus' PromQL test scripts (promql/testdata/*.test):
 *
 *   load 5m
 *     http_requests{path="/foo"}  0+10x10 _ 1 2
 *   eval instant at 50m rate(http_requests[5m])
 *     {path="/foo"} 0.0333
 *   eval_fail instant at 0m ceil({__name__=~'a|b'})
 *   eval_ordered instant at 50m sort(x)
 *   clear
 *
 * Series values: a number, `_` (no sample), `_xN` (N gaps), `axN` (a, N more times),
 * `a+bxN` / `a-bxN` (a, then N more values stepping by b).
 */
import { goUnquote } from '../../src/promql/gostrconv.ts';
import { parseDurationMs } from '../../src/promql/duration.ts';
import type { SeriesData } from '../../src/promql/source.ts';

export interface EvalCommand {
  line: number;
  query: string;
  timeMs: number;
  fail: boolean;
  ordered: boolean;
  /** A scalar result, or the expected vector as label sets (with __name__) and values. */
  expected: { scalar: number } | { vector: { labels: Record<string, string>; value: number }[] };
  /** The data loaded since the last `clear`. */
  data: SeriesData[];
}

export function parseScript(text: string): EvalCommand[] {
  const lines = text.split('\n').map((l) => {
    const t = l.trim();
    return t.startsWith('#') ? '' : t;
  });
  const evals: EvalCommand[] = [];
  let loaded = new Map<string, SeriesData>();
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l === '') continue;
    const command = l.split(/[\t ]+/, 1)[0].toLowerCase();
    if (command === 'clear') {
      loaded = new Map();
    } else if (command === 'load') {
      const interval = durationMs(l.slice(4).trim(), i);
      while (i + 1 < lines.length && lines[i + 1] !== '') {
        i++;
        const { labels, values } = parseSeriesDesc(lines[i], i);
        addSamples(loaded, labels, values, interval);
      }
    } else if (command.startsWith('eval')) {
      const m = /^eval(?:_(fail|ordered))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$/.exec(l);
      if (!m) throw new Error(`line ${i + 1}: invalid eval command`);
      const cmd: EvalCommand = {
        line: i + 1,
        query: m[3],
        timeMs: durationMs(m[2], i),
        fail: m[1] === 'fail',
        ordered: m[1] === 'ordered',
        expected: { vector: [] },
        data: [...loaded.values()],
      };
      while (i + 1 < lines.length && lines[i + 1] !== '') {
        i++;
        const scalar = parseNumber(lines[i]);
        if (scalar !== undefined) {
          cmd.expected = { scalar };
          break;
        }
        const { labels, values } = parseSeriesDesc(lines[i], i);
        if (values.length !== 1 || values[0] === undefined) throw new Error(`line ${i + 1}: expected exactly one value`);
        if (!('vector' in cmd.expected)) throw new Error(`line ${i + 1}: mixed scalar and vector expectations`);
        cmd.expected.vector.push({ labels, value: values[0] });
      }
      evals.push(cmd);
    } else {
      throw new Error(`line ${i + 1}: invalid command ${JSON.stringify(l)}`);
    }
  }
  return evals;
}

function durationMs(text: string, line: number): number {
  const ms = parseDurationMs(text);
  if (typeof ms !== 'number') throw new Error(`line ${line + 1}: ${ms.error}`);
  return ms;
}

function addSamples(loaded: Map<string, SeriesData>, labels: Record<string, string>, values: (number | undefined)[], intervalMs: number): void {
  const key = JSON.stringify(Object.entries(labels).sort());
  const samples = new Map<number, number>();
  const existing = loaded.get(key);
  if (existing) existing.timestamps.forEach((t, i) => samples.set(t, existing.values[i]));
  values.forEach((v, i) => {
    if (v !== undefined) samples.set(i * intervalMs, v);
  });
  const times = [...samples.keys()].sort((a, b) => a - b);
  loaded.set(key, { labels, timestamps: Float64Array.from(times), values: Float64Array.from(times, (t) => samples.get(t)!) });
}

const NUMBER = String.raw`[+-]?(?:inf|nan|[0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?|[0-9]+\.)`;
const NUMBER_ONLY = new RegExp(`^${NUMBER}$`, 'i');
const SEQUENCE = new RegExp(String.raw`^(${NUMBER})(?:([+-](?:[0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?))?x([0-9]+))?$`, 'i');

function parseNumber(text: string): number | undefined {
  if (!NUMBER_ONLY.test(text)) return undefined;
  const lower = text.toLowerCase();
  if (/^[+-]?inf$/.test(lower)) return lower.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/.test(lower)) return NaN;
  return Number(text);
}

/** `metric{a="b"} values…` → labels (with __name__) and values (undefined: no sample). */
export function parseSeriesDesc(line: string, lineNo: number): { labels: Record<string, string>; values: (number | undefined)[] } {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?(\{(?:[^}"']|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')*\})?\s*(.*)$/.exec(line);
  if (!m || (m[1] === undefined && m[2] === undefined)) throw new Error(`line ${lineNo + 1}: invalid series ${JSON.stringify(line)}`);
  const labels: Record<string, string> = {};
  if (m[1]) labels.__name__ = m[1];
  if (m[2]) {
    const pair = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*,?/gy;
    const body = m[2].slice(1, -1);
    let p: RegExpExecArray | null;
    let consumed = 0;
    while ((p = pair.exec(body))) {
      labels[p[1]] = goUnquote(p[2])!;
      consumed = pair.lastIndex;
    }
    if (body.slice(consumed).trim() !== '') throw new Error(`line ${lineNo + 1}: invalid labels ${m[2]}`);
  }
  const values: (number | undefined)[] = [];
  for (const item of m[3].split(/\s+/).filter((s) => s !== '')) {
    const gaps = /^_(?:x([0-9]+))?$/.exec(item);
    if (gaps) {
      for (let k = 0; k < Number(gaps[1] ?? 1); k++) values.push(undefined);
      continue;
    }
    const seq = SEQUENCE.exec(item);
    if (!seq) throw new Error(`line ${lineNo + 1}: unsupported series value ${JSON.stringify(item)}`);
    let v = parseNumber(seq[1])!;
    const step = seq[2] === undefined ? 0 : Number(seq[2]);
    const repeat = seq[3] === undefined ? 0 : Number(seq[3]);
    for (let k = 0; k <= repeat; k++) {
      values.push(v);
      v += step;
    }
  }
  return { labels, values };
}

/** promql/test.go's almostEqual: relative error below 1e-6, NaN equal to NaN. */
export function almostEqual(a: number, b: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  const diff = Math.abs(a - b);
  const minNormal = 2.2250738585072014e-308;
  if (a === 0 || b === 0 || diff < minNormal) return diff < 1e-6 * minNormal;
  return diff / (Math.abs(a) + Math.abs(b)) < 1e-6;
}
