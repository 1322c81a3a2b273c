/**
 * Deterministic span workload for the trace-store comparison (issue 4): the same spans are
 * loaded into Llama Stack's SQLite trace store (sqlite_trace_store.py beside this file) and
 * into strata, so both answer the same queries over the same data.
 *
 * Shape, modelled on Llama Stack agent traces: each trace is one turn of a session; its root
 * span carries `session_id` and `__root__`; every other span hangs under a random earlier
 * span of its trace (a random recursive tree, depth ~ log n) and lies inside its parent's time.
 * About half the spans carry `input`/`output` (what save_spans_to_dataset exports), 5% end in
 * error.
 *
 * CLI: npx tsx bench/reference/gen_spans.ts --traces 1000 --spans-per-trace 20 --sessions 50 \
 *        --seed 1 [--spans-per-trace-spread 10] [--out spans.jsonl]   (JSON lines; stdout without --out)
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Event } from '../../src/telemetry/schema.ts';
import { formatMicros } from '../../src/telemetry/time.ts';
import { mulberry32 } from '../random.ts';

export interface GeneratedSpan {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  /** ISO 8601 UTC, six fractional digits. */
  start_time: string;
  end_time: string;
  status: 'ok' | 'error';
  attributes: Record<string, string | number | boolean>;
}

export interface WorkloadOptions {
  traces: number;
  /** Spans per trace; with `spansPerTraceSpread`, the mean. */
  spansPerTrace: number;
  /**
   * Varies the span count per trace by up to ± this many, in antithetic pairs (trace 2i gets
   * spansPerTrace + d, trace 2i+1 spansPerTrace − d, d uniform in 0..spread), so an even number
   * of traces holds exactly traces × spansPerTrace spans and the largest hold spansPerTrace +
   * spread. Default 0: every trace has spansPerTrace spans (and the span stream is unchanged).
   */
  spansPerTraceSpread?: number;
  sessions: number;
  seed: number;
  /** First trace start, µs since the epoch; default 2024-12-04T08:08:30Z. */
  startMicros?: number;
}

const DEFAULT_START = 1733299710000000;
const TRACE_SPACING_MICROS = 5_000_000;
const SPAN_NAMES = ['inference', 'tool_execution', 'MemoryRouter.query_documents', 'retrieve_rag_context', 'safety.run_shield', 'create_and_execute_turn'];
const MODELS = ['meta-llama/Llama-3.1-8B-Instruct', 'meta-llama/Llama-3.3-70B-Instruct'];

/** Yields every span of the workload, trace by trace, parents before children; trace t belongs to session t % sessions. */
export function* generateSpans(options: WorkloadOptions): Generator<GeneratedSpan> {
  if (!(options.sessions >= 1)) throw new RangeError(`sessions must be >= 1, got ${options.sessions}`);
  const random = mulberry32(options.seed);
  const sessionIds = Array.from({ length: options.sessions }, () => uuid(random));
  const start = options.startMicros ?? DEFAULT_START;
  const spanCount = spanCounts(options);
  for (let t = 0; t < options.traces; t++) {
    yield* generateTrace(random, hex(random, 32), sessionIds[t % sessionIds.length], start + t * TRACE_SPACING_MICROS, spanCount(t));
  }
}

/**
 * The span count of trace t (see WorkloadOptions.spansPerTraceSpread), drawn apart from the
 * spans' random stream, so the spans of a fixed-count workload do not change.
 */
export function spanCounts(options: Pick<WorkloadOptions, 'spansPerTrace' | 'spansPerTraceSpread' | 'seed'>): (t: number) => number {
  const mean = options.spansPerTrace;
  const spread = options.spansPerTraceSpread ?? 0;
  if (!(Number.isInteger(spread) && spread >= 0 && spread < mean)) {
    throw new RangeError(`spansPerTraceSpread must be an integer in [0, spansPerTrace), got ${spread}`);
  }
  if (spread === 0) return () => mean;
  return (t) => {
    // One draw per pair, from a stream seeded by (seed, pair): any trace's count, in any order.
    const delta = Math.floor(mulberry32(Math.imul(options.seed ^ 0x5eed5eed, 0x9e3779b1) ^ (t >> 1))() * (spread + 1));
    return t % 2 === 0 ? mean + delta : mean - delta;
  };
}

function* generateTrace(random: () => number, traceId: string, sessionId: string, startMicros: number, spanCount: number): Generator<GeneratedSpan> {
  const spans: { id: string; start: number; end: number }[] = [];
  for (let k = 0; k < spanCount; k++) {
    const parent = k === 0 ? undefined : spans[Math.floor(random() * k)];
    const start = parent ? parent.start + Math.floor(random() * (parent.end - parent.start) / 2) : startMicros;
    const end = parent ? start + 1 + Math.floor(random() * (parent.end - start - 1)) : startMicros + 1_000_000 + Math.floor(random() * 3_000_000);
    const span = { id: hex(random, 16), start, end };
    spans.push(span);
    yield {
      trace_id: traceId,
      span_id: span.id,
      parent_span_id: parent ? parent.id : null,
      name: k === 0 ? 'create_and_execute_turn' : SPAN_NAMES[Math.floor(random() * SPAN_NAMES.length)],
      start_time: formatMicros(start),
      end_time: formatMicros(end),
      status: random() < 0.05 ? 'error' : 'ok',
      attributes: spanAttributes(random, k === 0, sessionId),
    };
  }
}

function spanAttributes(random: () => number, isRoot: boolean, sessionId: string): GeneratedSpan['attributes'] {
  const attributes: GeneratedSpan['attributes'] = isRoot ? { __root__: true, session_id: sessionId } : {};
  attributes.model_id = MODELS[Math.floor(random() * MODELS.length)];
  attributes.tokens = Math.floor(random() * 2000);
  if (random() < 0.5) {
    attributes.input = `{"role":"user","content":"question ${Math.floor(random() * 1e6)}"}`;
    attributes.output = `{"role":"assistant","content":"answer ${Math.floor(random() * 1e6)}"}`;
  }
  return attributes;
}

/** The span as the span_start and span_end events a Llama Stack client logs for it. */
export function spanEvents(span: GeneratedSpan): [Event, Event] {
  const common = { trace_id: span.trace_id, span_id: span.span_id };
  return [
    {
      type: 'structured_log', ...common, timestamp: span.start_time, attributes: span.attributes,
      payload: { type: 'span_start', name: span.name, ...(span.parent_span_id ? { parent_span_id: span.parent_span_id } : {}) },
    },
    { type: 'structured_log', ...common, timestamp: span.end_time, payload: { type: 'span_end', status: span.status } },
  ];
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness: same seed, same workload, on any machine (mulberry32, ../random.ts)
// ---------------------------------------------------------------------------------------------

function hex(random: () => number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += Math.floor(random() * 16).toString(16);
  return out;
}

function uuid(random: () => number): string {
  const h = hex(random, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// ---------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      traces: { type: 'string', default: '1000' },
      'spans-per-trace': { type: 'string', default: '20' },
      'spans-per-trace-spread': { type: 'string', default: '0' },
      sessions: { type: 'string', default: '50' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string' },
    },
  });
  const options: WorkloadOptions = {
    traces: positiveInteger(values.traces, 'traces'),
    spansPerTrace: positiveInteger(values['spans-per-trace'], 'spans-per-trace'),
    spansPerTraceSpread: Number(values['spans-per-trace-spread']),
    sessions: positiveInteger(values.sessions, 'sessions'),
    seed: Number(values.seed),
  };
  const out: Writable = values.out ? createWriteStream(values.out) : process.stdout;
  for (const span of generateSpans(options)) {
    if (!out.write(JSON.stringify(span) + '\n')) await once(out, 'drain');
  }
  if (values.out) {
    out.end();
    await finished(out);
  }
}

function positiveInteger(text: string | undefined, name: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return n;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error((error as Error).message);
    process.exit(1);
  });
}
