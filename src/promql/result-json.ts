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
  const out = new ByteWriter(estimateSize(series));
  out.ascii(HEAD);
  // `[<seconds>,"` for each step, built the first time a series has that step.
  const stepPrefix: (Uint8Array | undefined)[] = new Array(grid.numSteps);
  for (let i = 0; i < series.length; i++) {
    const s = series[i];
    if (i > 0) out.byte(0x2c);
    out.ascii('{"metric":');
    out.utf8(JSON.stringify(labelsToRecord(s.labels)));
    out.ascii(',"values":[');
    const steps = s.steps;
    const values = s.values;
    for (let k = 0; k < steps.length; k++) {
      const step = steps[k];
      const prefix = (stepPrefix[step] ??= asciiBytes(`[${stepTime(grid, step) / 1000},"`));
      out.reserve(prefix.length + 40);
      if (k > 0) out.byte(0x2c);
      out.bytes(prefix);
      out.asciiUnchecked(formatSampleValue(values[k]));
      out.byte(0x22);
      out.byte(0x5d);
    }
    out.ascii(']}');
  }
  out.ascii(TAIL);
  return out.finish();
}

function estimateSize(series: readonly StepSeries[]): number {
  let points = 0;
  for (const s of series) points += s.steps.length;
  return 256 + series.length * 160 + points * 32;
}

function asciiBytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

/** An append-only byte buffer that doubles as it fills. */
class ByteWriter {
  private buf: Buffer;
  private at = 0;

  constructor(initial: number) {
    this.buf = Buffer.allocUnsafe(Math.max(1024, initial));
  }

  reserve(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.at + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  byte(b: number): void {
    if (this.at === this.buf.length) this.reserve(1);
    this.buf[this.at++] = b;
  }

  bytes(b: Uint8Array): void {
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < b.length; i++) buf[at++] = b[i];
    this.at = at;
  }

  /** A string known to be ASCII. */
  ascii(s: string): void {
    this.reserve(s.length);
    this.asciiUnchecked(s);
  }

  /** ASCII, with room already reserved. */
  asciiUnchecked(s: string): void {
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
    this.at = at;
  }

  utf8(s: string): void {
    this.reserve(s.length * 3);
    this.at += this.buf.write(s, this.at, 'utf8');
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.at);
  }
}
