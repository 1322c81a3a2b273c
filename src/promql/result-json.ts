/**
 * Query answers as the bodies of Prometheus /api/v1/query and /api/v1/query_range
 * responses: `{"status":"success","data":{"resultType":…,"result":…}}`.
 *
 * A range query's matrix is written straight from the engine's step series into one
 * growing byte buffer: no [time, "value"] pair objects, no intermediate strings per point,
 * and each step's time is formatted once for all series. Values print as the HTTP API
 * prints them (formatSampleValue); the bytes are the same JSON that JSON.stringify would
 * produce from rangeQuery's QueryResult.
 */
import { labelsToRecord } from './labels.ts';
import { formatSampleValue, type QueryResult } from './result.ts';
import { stepTime, type Grid, type StepSeries } from './vector.ts';

export function encodeQueryResponse(data: QueryResult): string {
  return '{"status":"success","data":' + JSON.stringify(data) + '}';
}

const HEAD = '{"status":"success","data":{"resultType":"matrix","result":[';
const TAIL = ']}}';

/** The answer to a range query: its series (ordered by label set) over its grid. */
export function encodeMatrixResponse(series: readonly StepSeries[], grid: Grid): Uint8Array {
  // `[<seconds>,"` for each step, built the first time a series has that step.
  const stepPrefix: Uint8Array[] = new Array(grid.numSteps);
  let longestPrefix = 0;
  for (const s of series) {
    for (let k = 0; k < s.steps.length; k++) {
      const step = s.steps[k];
      if (stepPrefix[step] === undefined) {
        const p = asciiBytes(`[${stepTime(grid, step) / 1000},"`);
        stepPrefix[step] = p;
        if (p.length > longestPrefix) longestPrefix = p.length;
      }
    }
  }
  // A point is a prefix, at most 25 characters of value, `"]` and a comma.
  const perPoint = longestPrefix + 28;
  let buf = uninitialized(estimateSize(series, perPoint));
  let at = 0;
  const reserve = (n: number) => {
    if (at + n <= buf.length) return;
    const next = uninitialized(Math.max(buf.length * 2, at + n));
    next.set(buf.subarray(0, at));
    buf = next;
  };
  const ascii = (text: string) => {
    reserve(text.length);
    for (let i = 0; i < text.length; i++) buf[at++] = text.charCodeAt(i);
  };
  ascii(HEAD);
  for (let i = 0; i < series.length; i++) {
    const s = series[i];
    if (i > 0) ascii(',');
    ascii('{"metric":');
    const metric = JSON.stringify(labelsToRecord(s.labels));
    reserve(metric.length * 3);
    at += utf8.encodeInto(metric, buf.subarray(at)).written;
    ascii(',"values":[');
    const steps = s.steps;
    const values = s.values;
    reserve(steps.length * perPoint + 2);
    // Room for the whole series is reserved: the loop writes without checks.
    const out = buf;
    let o = at;
    for (let k = 0; k < steps.length; k++) {
      if (k > 0) out[o++] = 0x2c;
      const prefix = stepPrefix[steps[k]];
      for (let j = 0; j < prefix.length; j++) out[o++] = prefix[j];
      const text = formatSampleValue(values[k]);
      for (let j = 0; j < text.length; j++) out[o++] = text.charCodeAt(j);
      out[o++] = 0x22;
      out[o++] = 0x5d;
    }
    at = o;
    ascii(']}');
  }
  ascii(TAIL);
  return buf.subarray(0, at);
}

const utf8 = new TextEncoder();

/** A plain Uint8Array over memory that is not zeroed first (every byte used is written). */
function uninitialized(size: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(size);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

function estimateSize(series: readonly StepSeries[], perPoint: number): number {
  let points = 0;
  for (const s of series) points += s.steps.length;
  return 256 + series.length * 200 + points * perPoint;
}

function asciiBytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}
