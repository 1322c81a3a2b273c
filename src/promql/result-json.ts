/**
 * Query answers as the bodies of Prometheus /api/v1/query and /api/v1/query_range
 * responses: `{"status":"success","data":{"resultType":…,"result":…}}`.
 *
 * A range query's matrix is written straight from the engine's step series into one byte
 * buffer sized up front: no [time, "value"] pair objects, no intermediate strings per
 * point, each step's time formatted once. Values print as the HTTP API prints them
 * (formatSampleValue; most of them digit by digit into the buffer, shortest-float.ts); the
 * bytes are the JSON that JSON.stringify would produce from rangeQuery's QueryResult.
 *
 * Large matrices are written by two threads: this one writes the first half of the series
 * while the helper thread (helper.ts) writes the second half into shared memory; this
 * thread then waits for it (the call stays synchronous) and appends its bytes. Printing
 * numbers is most of the cost of a big answer, and it splits evenly. Without a ready
 * helper this thread writes everything itself.
 */
import { FAST_PATHS } from './fast-paths.ts';
import { helper, HELPER_STATS, newControl, sharedScratch, type HelperJob, type Pending } from './helper.ts';
import { labelsToRecord } from './labels.ts';
import { formatSampleValue, type QueryResult } from './result.ts';
import { cacheHits, writeShortest, writeShortestCached } from './shortest-float.ts';
import { stepTime, type Grid, type StepSeries } from './vector.ts';

export function encodeQueryResponse(data: QueryResult): string {
  return '{"status":"success","data":' + JSON.stringify(data) + '}';
}

const HEAD = '{"status":"success","data":{"resultType":"matrix","result":[';
const TAIL = ']}}';
/** The longest value formatSampleValue prints (e.g. `-0.0000012345678901234567`). */
const MAX_VALUE_CHARS = 25;
/** Matrices with fewer points are written by this thread alone. */
export const PARALLEL_MIN_POINTS = 60_000;

/** The answer to a range query: its series (ordered by label set) over its grid. */
export function encodeMatrixResponse(series: readonly StepSeries[], grid: Grid): Uint8Array {
  const metrics = series.map((s) => JSON.stringify(labelsToRecord(s.labels)));
  const prefixes = new StepPrefixes(grid);
  let points = 0;
  for (const s of series) points += s.steps.length;
  const perPoint = prefixes.longest + MAX_VALUE_CHARS + 3;
  let capacity = HEAD.length + TAIL.length;
  for (let i = 0; i < series.length; i++) capacity += seriesCapacity(metrics[i], series[i].steps.length, perPoint);
  const buf = uninitialized(capacity);
  let at = writeAscii(buf, 0, HEAD);

  let split = series.length;
  let job: EncodeWaiter | null = null;
  const h = points >= PARALLEL_MIN_POINTS && FAST_PATHS.helperThread ? helper() : null;
  if (h) {
    split = halfByPoints(series, points);
    job = startEncode(h, series, metrics, split, grid, perPoint);
  }
  for (let i = 0; i < split; i++) {
    if (i > 0) buf[at++] = 0x2c;
    at = writeSeries(buf, at, metrics[i], series[i].steps, series[i].values, prefixes);
  }
  if (split < series.length) {
    const theirs = job?.wait() ?? null;
    if (split > 0) buf[at++] = 0x2c;
    if (theirs) {
      buf.set(theirs, at);
      at += theirs.length;
    } else {
      for (let i = split; i < series.length; i++) {
        if (i > split) buf[at++] = 0x2c;
        at = writeSeries(buf, at, metrics[i], series[i].steps, series[i].values, prefixes);
      }
    }
  }
  at = writeAscii(buf, at, TAIL);
  return buf.subarray(0, at);
}

/** Bytes one series can take at most: `{"metric":…,"values":[…]}` and a comma. */
export function seriesCapacity(metric: string, points: number, perPoint: number): number {
  return metric.length * 3 + 24 + points * perPoint;
}

/**
 * `[<seconds>,"` for each step of the grid, in one flat table (`stride` bytes a step, a
 * multiple of 4) that the writers copy from four bytes at a time, without a call per
 * point; each step's is built on first use.
 */
export class StepPrefixes {
  /** Step i's prefix is bytes[i × stride …] (also as words), lengths[i] long (0: not built yet). */
  readonly bytes: Uint8Array;
  readonly words: Uint32Array;
  readonly lengths: Uint8Array;
  /** Bytes a step takes in the table: the longest a prefix of this grid can be, rounded up to 4. */
  readonly stride: number;
  /** The longest a prefix of this grid can be. */
  readonly longest: number;

  constructor(private readonly grid: Grid) {
    const first = `[${stepTime(grid, 0) / 1000},"`.length;
    const last = `[${stepTime(grid, grid.numSteps - 1) / 1000},"`.length;
    // Fractions of a second add at most `.` and three digits; a sign, one more.
    this.longest = Math.max(first, last) + 5;
    this.stride = (this.longest + 3) & ~3;
    this.words = new Uint32Array((grid.numSteps * this.stride) / 4);
    this.bytes = new Uint8Array(this.words.buffer);
    this.lengths = new Uint8Array(grid.numSteps);
  }

  /** Builds step's prefix; returns its length. */
  build(step: number): number {
    const text = `[${stepTime(this.grid, step) / 1000},"`;
    const at = step * this.stride;
    for (let i = 0; i < text.length; i++) this.bytes[at + i] = text.charCodeAt(i);
    this.lengths[step] = text.length;
    return text.length;
  }
}

/** Writes one series object at `at` (room reserved by the caller); returns the new end. */
export function writeSeries(out: Uint8Array, at: number, metric: string, steps: Int32Array, values: Float64Array, prefixes: StepPrefixes): number {
  at = writeAscii(out, at, '{"metric":');
  at += utf8.encodeInto(metric, out.subarray(at)).written;
  at = writeAscii(out, at, ',"values":[');
  let o = at;
  const { bytes, words, lengths, stride } = prefixes;
  // Prefixes are copied four bytes at a time (unaligned stores through a DataView, in the
  // host's byte order so that the bytes stay as they are): copied byte by byte they took
  // about a sixth of the time of the ratio query's answer.
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  // The value cache pays when values repeat (rates of regular counters); a series whose first
  // values hardly ever hit it is printed without it (storing every value there costs).
  const hitsBefore = cacheHits();
  let cached = true;
  for (let k = 0; k < steps.length; k++) {
    if (k === CACHE_PROBE && cacheHits() - hitsBefore < CACHE_PROBE / 8) cached = false;
    if (k > 0) out[o++] = 0x2c;
    const step = steps[k];
    const length = lengths[step] || prefixes.build(step);
    const from = step * stride;
    const whole = length & ~3;
    for (let j = 0; j < whole; j += 4) view.setUint32(o + j, words[(from + j) >> 2], LITTLE_ENDIAN);
    for (let j = whole; j < length; j++) out[o + j] = bytes[from + j];
    o += length;
    const value = values[k];
    // Most values are printed straight into the buffer; the rest (and odd cases) through a string.
    const end = cached ? writeShortestCached(out, o, value, view) : writeShortest(out, o, value);
    if (end >= 0) {
      o = end;
    } else {
      const text = formatSampleValue(value);
      for (let j = 0; j < text.length; j++) out[o++] = text.charCodeAt(j);
    }
    out[o++] = 0x22;
    out[o++] = 0x5d;
  }
  return writeAscii(out, o, ']}');
}

/** Whether this host stores the low byte of a word first (DataView's default is big-endian). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Values of a series printed through the cache before deciding whether it pays. */
const CACHE_PROBE = 64;

function writeAscii(out: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
  return at;
}

const utf8 = new TextEncoder();

/** A plain Uint8Array over memory that is not zeroed first (every byte used is written). */
function uninitialized(size: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(size);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** The index splitting the series into two runs of about equal points. */
function halfByPoints(series: readonly StepSeries[], points: number): number {
  let sum = 0;
  for (let i = 0; i < series.length; i++) {
    sum += series[i].steps.length;
    if (sum * 2 >= points) return i + 1;
  }
  return series.length;
}

// ---- the helper's half ----

/** What the helper thread gets to write: its series' samples in shared memory, and where to write. */
export interface EncodeJob extends HelperJob {
  kind: 'encode';
  steps: SharedArrayBuffer;
  values: SharedArrayBuffer;
  output: SharedArrayBuffer;
  counts: number[];
  metrics: string[];
  grid: Grid;
}

interface EncodeWaiter {
  /** The helper's bytes, or null when it failed or took too long. */
  wait(): Uint8Array | null;
}

function startEncode(
  h: { submit(job: HelperJob): Pending }, series: readonly StepSeries[], metrics: string[], from: number, grid: Grid, perPoint: number,
): EncodeWaiter {
  let points = 0;
  let capacity = 0;
  for (let i = from; i < series.length; i++) {
    points += series[i].steps.length;
    capacity += seriesCapacity(metrics[i], series[i].steps.length, perPoint);
  }
  const steps = sharedScratch('encode.steps', points * 4);
  const values = sharedScratch('encode.values', points * 8);
  const stepView = new Int32Array(steps, 0, points);
  const valueView = new Float64Array(values, 0, points);
  const counts: number[] = [];
  let o = 0;
  for (let i = from; i < series.length; i++) {
    stepView.set(series[i].steps, o);
    valueView.set(series[i].values, o);
    o += series[i].steps.length;
    counts.push(series[i].steps.length);
  }
  const output = sharedScratch('encode.output', capacity);
  const job: EncodeJob = { kind: 'encode', control: newControl(), steps, values, output, counts, metrics: metrics.slice(from), grid };
  const pending = h.submit(job);
  return {
    wait: () => {
      if (!pending.wait()) return null;
      HELPER_STATS.encode++;
      return new Uint8Array(output, 0, pending.result());
    },
  };
}

/** The helper's half of an encode job: its series, comma-separated; returns the bytes written. */
export function runEncodeJob(job: EncodeJob): number {
  const out = new Uint8Array(job.output);
  const steps = new Int32Array(job.steps);
  const values = new Float64Array(job.values);
  const prefixes = new StepPrefixes(job.grid);
  let at = 0;
  let o = 0;
  for (let i = 0; i < job.counts.length; i++) {
    const n = job.counts[i];
    if (i > 0) out[at++] = 0x2c;
    at = writeSeries(out, at, job.metrics[i], steps.subarray(o, o + n), values.subarray(o, o + n), prefixes);
    o += n;
  }
  return at;
}
