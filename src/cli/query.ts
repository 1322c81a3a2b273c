/**
 * `strata query`: a PromQL expression through the Prometheus API (`/api/v1/query` or
 * `/api/v1/query_range`), or a Llama Stack telemetry query: a metric with label matchers,
 * traces or spans by attribute filters, or one trace's span tree. Table or JSON output.
 */
import {
  CLIENT_FLAGS, boolFlag, commaList, flagHelp, intFlag, listFlag, parseArgs, parseDuration, parseFilter, parseMatcher,
  parseTime, stringFlag, UsageError, type FlagSpecs,
} from './args.ts';
import { Client, ClientError, clientOptions, isRouteMissing } from './client.ts';
import { durationMs, isoSeconds, renderTable, seriesName, type Cell } from './table.ts';

export const QUERY_FLAGS: FlagSpecs = {
  ...CLIENT_FLAGS,
  json: { kind: 'boolean', help: 'print the server\'s JSON answer instead of a table' },
  time: { kind: 'string', value: '<time>', help: 'PromQL instant query evaluation time (default now)' },
  start: { kind: 'string', value: '<time>', help: 'range start: now-1h, -15m, Unix seconds or ISO 8601 (PromQL: makes it a range query; --metric default -1h)' },
  end: { kind: 'string', value: '<time>', help: 'range end (default now)' },
  step: { kind: 'string', value: '<duration>', help: 'PromQL range step (default: range / 60, at least 1s)' },
  metric: { kind: 'string', value: '<name>', help: 'query_metrics: the metric name' },
  match: { kind: 'list', value: '<label=value>', help: 'query_metrics label matcher: =, !=, =~ or !~' },
  granularity: { kind: 'string', value: '<duration>', help: 'query_metrics bucket size like 1m, 1h (default 1m; "raw" for raw samples)' },
  instant: { kind: 'boolean', help: 'query_metrics: one point per series, the sum over the range' },
  traces: { kind: 'boolean', help: 'query_traces: list traces matching --filter' },
  spans: { kind: 'boolean', help: 'query_spans: list spans of the traces matching --filter' },
  trace: { kind: 'string', value: '<trace_id>', help: 'print one trace\'s span tree' },
  filter: { kind: 'list', value: '<key=value>', help: 'attribute filter: key=value, key!=value, key>value, key<value' },
  attributes: { kind: 'string', value: '<a,b>', help: '--spans: attributes to return (spans lacking one are left out)' },
  'max-depth': { kind: 'string', value: '<n>', help: '--spans/--trace: levels below the root to include' },
  limit: { kind: 'string', value: '<n>', help: '--traces: page size (default 100)' },
  offset: { kind: 'string', value: '<n>', help: '--traces: traces to skip (default 0)' },
  'order-by': { kind: 'string', value: '<field,...>', help: '--traces: e.g. -start_time (default), trace_id' },
};

export const QUERY_HELP = `usage: strata query [flags] 'PROMQL'
       strata query [flags] --metric NAME [--match label=value]... [--start -1h] [--granularity 1m]
       strata query [flags] --traces [--filter key=value]...
       strata query [flags] --spans [--filter key=value]... [--attributes a,b]
       strata query [flags] --trace TRACE_ID

examples:
  strata query 'sum by (model_id) (rate(prompt_tokens[5m]))' --start -1h
  strata query --metric completion_tokens --match model_id=~'.*70B.*' --granularity 5m
  strata query --traces --filter session_id=sess-50b363d1 --limit 10
  strata query --spans --filter name=inference --attributes model_id,prompt_tokens

Filter values that read as numbers or booleans are typed (\`turn_index=2\`); quote to force a
string (\`turn_index='"2"'\`).

flags:
${flagHelp(QUERY_FLAGS)}

exit codes: 0 ok (an empty result too), 1 the server rejected the query or is unreachable,
2 usage error`;

export async function runQuery(argv: string[], env: NodeJS.ProcessEnv, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const args = parseArgs(argv, QUERY_FLAGS);
  const modes = [args.positionals.length > 0, stringFlag(args, 'metric') !== undefined, boolFlag(args, 'traces'), boolFlag(args, 'spans'), stringFlag(args, 'trace') !== undefined];
  const chosen = modes.filter(Boolean).length;
  if (chosen === 0) throw new UsageError('nothing to query: give a PromQL expression, --metric NAME, --traces, --spans or --trace ID');
  if (chosen > 1) throw new UsageError('give only one of: a PromQL expression, --metric, --traces, --spans, --trace');
  if (args.positionals.length > 1) throw new UsageError(`expected one PromQL expression, got ${args.positionals.length} arguments (quote the expression)`);
  const client = new Client(clientOptions(args, env));
  const json = boolFlag(args, 'json');
  const print = (value: unknown, table: () => string) => out.write(json ? JSON.stringify(value, null, 2) + '\n' : table());

  if (args.positionals.length === 1) return promql(client, args.positionals[0]!, args, print);
  if (stringFlag(args, 'metric') !== undefined) return metric(client, stringFlag(args, 'metric')!, args, print);
  const filters = listFlag(args, 'filter').map(parseFilter);
  const maxDepth = intFlag(args, 'max-depth', 1);
  if (boolFlag(args, 'traces')) {
    const body: Record<string, unknown> = { attribute_filters: filters };
    const limit = intFlag(args, 'limit', 0), offset = intFlag(args, 'offset', 0);
    if (limit !== undefined) body.limit = limit;
    if (offset !== undefined) body.offset = offset;
    const orderBy = stringFlag(args, 'order-by');
    if (orderBy !== undefined) body.order_by = commaList([orderBy]);
    const result = await client.json<{ data: Trace[] }>('POST', '/v1/telemetry/traces', body);
    print(result, () => renderTable(['trace_id', 'root_span_id', 'start_time', 'end_time', 'duration_ms'],
      result.data.map((t) => [t.trace_id, t.root_span_id, t.start_time, t.end_time, durationMs(t.start_time, t.end_time)])));
    return 0;
  }
  if (boolFlag(args, 'spans')) {
    const attributes = commaList([stringFlag(args, 'attributes') ?? '']);
    const body: Record<string, unknown> = { attribute_filters: filters, attributes_to_return: attributes };
    if (maxDepth !== undefined) body.max_depth = maxDepth;
    const result = await client.json<{ data: Span[] }>('POST', '/v1/telemetry/spans', body);
    print(result, () => renderTable(['trace_id', 'span_id', 'parent_span_id', 'name', 'start_time', 'duration_ms', 'attributes'],
      result.data.map((s) => [s.trace_id, s.span_id, s.parent_span_id, s.name, s.start_time, durationMs(s.start_time, s.end_time), JSON.stringify(s.attributes ?? {})])));
    return 0;
  }
  const traceId = stringFlag(args, 'trace')!;
  const trace = await client.json<Trace>('GET', `/v1/telemetry/traces/${encodeURIComponent(traceId)}`);
  const tree = await client.json<{ data: Record<string, Span & { status?: string }> }>('POST', `/v1/telemetry/spans/${encodeURIComponent(trace.root_span_id)}/tree`, maxDepth === undefined ? {} : { max_depth: maxDepth });
  print({ trace, spans: tree.data }, () => renderTable(['span', 'span_id', 'status', 'start_time', 'duration_ms'], treeRows(trace.root_span_id, tree.data)));
  return 0;
}

interface Trace { trace_id: string; root_span_id: string; start_time: string; end_time?: string }
interface Span { trace_id: string; span_id: string; parent_span_id?: string; name: string; start_time: string; end_time?: string; attributes?: Record<string, unknown> }

/** Depth-first from the root, children by start time, names indented by depth. */
function treeRows(rootId: string, spans: Record<string, Span & { status?: string }>): Cell[][] {
  const children = new Map<string, (Span & { status?: string })[]>();
  for (const s of Object.values(spans)) {
    if (s.parent_span_id === undefined || s.span_id === rootId) continue;
    let list = children.get(s.parent_span_id);
    if (!list) children.set(s.parent_span_id, (list = []));
    list.push(s);
  }
  for (const list of children.values()) list.sort((a, b) => (a.start_time < b.start_time ? -1 : a.start_time > b.start_time ? 1 : a.span_id < b.span_id ? -1 : 1));
  const rows: Cell[][] = [];
  const visit = (s: Span & { status?: string }, depth: number) => {
    rows.push([`${'  '.repeat(depth)}${s.name}`, s.span_id, s.status ?? 'running', s.start_time, durationMs(s.start_time, s.end_time)]);
    for (const c of children.get(s.span_id) ?? []) visit(c, depth + 1);
  };
  const root = spans[rootId];
  if (root) visit(root, 0);
  return rows;
}

type Print = (value: unknown, table: () => string) => void;

interface PromSample { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }

async function promql(client: Client, expr: string, args: ReturnType<typeof parseArgs>, print: Print): Promise<number> {
  const params = new URLSearchParams({ query: expr });
  let path = '/api/v1/query';
  const startText = stringFlag(args, 'start');
  if (startText !== undefined) {
    const end = parseTime(stringFlag(args, 'end') ?? 'now');
    const start = parseTime(startText);
    if (start > end) throw new UsageError('--start is after --end');
    const step = stringFlag(args, 'step') !== undefined ? parseDuration(stringFlag(args, 'step')!) : Math.max(1, Math.round((end - start) / 60));
    path = '/api/v1/query_range';
    params.set('start', String(start));
    params.set('end', String(end));
    params.set('step', String(step));
  } else {
    params.set('time', String(parseTime(stringFlag(args, 'time') ?? 'now')));
  }
  let answer: { data: { resultType: string; result: unknown } };
  try {
    answer = await client.json('GET', `${path}?${params}`);
  } catch (error) {
    if (isRouteMissing(error)) {
      throw new ClientError('this server has no Prometheus API (/api/v1/query); query a metric with --metric NAME [--match label=value] instead');
    }
    throw error;
  }
  const { resultType, result } = answer.data;
  print(answer, () => {
    if (resultType === 'scalar' || resultType === 'string') {
      const [t, v] = result as [number, string];
      return renderTable(['time', 'value'], [[isoSeconds(t), v]]);
    }
    const samples = result as PromSample[];
    if (resultType === 'vector') {
      return renderTable(['series', 'time', 'value'], samples.map((s) => [seriesName(s.metric), isoSeconds(s.value![0]), promValue(s.value![1])]));
    }
    return renderTable(['series', 'time', 'value'], samples.flatMap((s) => {
      const name = seriesName(s.metric);
      return (s.values ?? []).map(([t, v]) => [name, isoSeconds(t), promValue(v)] as Cell[]);
    }));
  });
  return 0;
}

function promValue(v: string): Cell {
  const n = Number(v);
  return Number.isFinite(n) ? n : v;
}

interface MetricSeries { metric: string; labels: { name: string; value: string }[]; values: { timestamp: number; value: number; unit: string }[] }

async function metric(client: Client, name: string, args: ReturnType<typeof parseArgs>, print: Print): Promise<number> {
  const start = parseTime(stringFlag(args, 'start') ?? '-1h');
  const end = parseTime(stringFlag(args, 'end') ?? 'now');
  if (start > end) throw new UsageError('--start is after --end');
  const granularityText = stringFlag(args, 'granularity') ?? '1m';
  if (granularityText !== 'raw' && !/^\d+[smhdw]$/.test(granularityText)) throw new UsageError(`invalid --granularity ${JSON.stringify(granularityText)}: expected e.g. 30s, 1m, 1h, 1d or raw`);
  const body = {
    start_time: Math.floor(start), end_time: Math.ceil(end),
    query_type: boolFlag(args, 'instant') ? 'instant' : 'range',
    granularity: granularityText === 'raw' ? null : granularityText,
    label_matchers: listFlag(args, 'match').map(parseMatcher),
  };
  const result = await client.json<{ data: MetricSeries[] }>('POST', `/v1/telemetry/metrics/${encodeURIComponent(name)}`, body);
  print(result, () => renderTable(['series', 'time', 'value', 'unit'], result.data.flatMap((s) => {
    const labels: Record<string, string> = { __name__: s.metric };
    for (const l of s.labels) labels[l.name] = l.value;
    const series = seriesName(labels);
    return s.values.map((p) => [series, isoSeconds(p.timestamp), p.value, p.unit] as Cell[]);
  })));
  return 0;
}

