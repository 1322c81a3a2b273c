/**
 * `strata load FILE|-`: bulk-loads events into a running server.
 *
 * Input is JSON lines or a stream of msgpack values (chosen by `--format`, else by the file
 * extension `.msgpack`/`.mpk`, else by sniffing the first byte). Each record is one Llama Stack
 * event, a `{event, ttl_seconds?}` or `{events: [...], ttl_seconds?}` body, or (msgpack) a
 * `{series: [...]}` series batch. An event may carry `offset_ms` instead of `timestamp`:
 * milliseconds relative to the moment the load starts (negative = in the past), which is how
 * the sample workload in data/ stays fresh. Events are posted in batches to
 * `POST /v1/telemetry/events`, a few requests in flight at once.
 */
import { createReadStream, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { pack, Unpackr } from 'msgpackr';
import { createProgress, type Progress } from '../progress.ts';
import { formatMicros } from '../telemetry/time.ts';
import { CLIENT_FLAGS, boolFlag, flagHelp, intFlag, parseArgs, stringFlag, UsageError, type FlagSpecs } from './args.ts';
import { Client, ClientError, clientOptions } from './client.ts';

export const LOAD_FLAGS: FlagSpecs = {
  ...CLIENT_FLAGS,
  format: { kind: 'string', value: 'auto|jsonl|msgpack', help: 'input format (default auto: by extension, else by the first byte)' },
  'batch-size': { kind: 'string', value: '<events>', help: 'events per request (default 1000)' },
  concurrency: { kind: 'string', value: '<n>', help: 'requests in flight at once (default 4)' },
  'ttl-seconds': { kind: 'string', value: '<seconds>', help: 'TTL for records that carry none (default: the server\'s)' },
  json: { kind: 'boolean', help: 'print the summary as JSON' },
};

export const LOAD_HELP = `usage: strata load [flags] FILE|-

Reads events from FILE (or standard input for -) and posts them in batches to a running
server. Records are Llama Stack events (JSON lines or msgpack), {"events": [...]} batches
or, in msgpack, {"series": [...]} series batches. A record with "offset_ms" instead of
"timestamp" is stamped relative to now (negative = in the past):

  strata load data/sample-agent.jsonl

flags:
${flagHelp(LOAD_FLAGS)}

exit codes: 0 everything loaded, 1 a record or batch was rejected or the server is
unreachable (batches acknowledged before that stay loaded), 2 usage error`;

type Format = 'jsonl' | 'msgpack';

interface PendingEvent { event: Record<string, unknown>; line: number }

export interface LoadSummary {
  events: number;
  samples: number;
  requests: number;
  seconds: number;
  eventsPerSecond: number;
}

export async function runLoad(argv: string[], env: NodeJS.ProcessEnv, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const args = parseArgs(argv, LOAD_FLAGS);
  if (args.positionals.length !== 1) throw new UsageError(args.positionals.length === 0 ? 'missing FILE (or - for standard input)' : `expected one FILE, got ${args.positionals.length}`);
  const source = args.positionals[0]!;
  const formatFlag = stringFlag(args, 'format') ?? 'auto';
  if (!['auto', 'jsonl', 'msgpack'].includes(formatFlag)) throw new UsageError(`invalid --format ${JSON.stringify(formatFlag)}: expected auto, jsonl or msgpack`);
  const batchSize = intFlag(args, 'batch-size', 1, 1_000_000) ?? 1000;
  const concurrency = intFlag(args, 'concurrency', 1, 64) ?? 4;
  const ttlSeconds = intFlag(args, 'ttl-seconds', 1);
  const client = new Client(clientOptions(args, env));
  if (source !== '-') {
    try {
      if (!statSync(source).isFile()) throw new Error('not a file');
    } catch {
      throw new ClientError(`cannot read ${source}: no such file`);
    }
  }

  const label = source === '-' ? 'stdin' : source;
  const input = source === '-' ? (process.stdin as AsyncIterable<Buffer>) : createReadStream(source, { highWaterMark: 1 << 20 });
  const { first, rest } = await peek(input);
  const format: Format = formatFlag !== 'auto' ? (formatFlag as Format) : detectFormat(source, first);
  const total = format === 'jsonl' && source !== '-' && process.stderr.isTTY ? await countLines(source) : 0;
  const progress = createProgress({ total, label: 'load' });

  const loader = new Loader(client, { batchSize, concurrency, ttlSeconds, progress });
  const started = performance.now();
  try {
    if (format === 'jsonl') await loader.readJsonLines(rest);
    else await loader.readMsgpack(rest);
    await loader.finish();
  } catch (error) {
    progress.finish();
    await loader.settle();
    if (loader.acked > 0) process.stderr.write(`strata load: ${loader.acked} events were loaded before the failure\n`);
    throw error;
  }
  progress.finish();
  const seconds = (performance.now() - started) / 1000;
  const count = loader.acked + loader.ackedSamples;
  const summary: LoadSummary = { events: loader.acked, samples: loader.ackedSamples, requests: loader.requests, seconds, eventsPerSecond: seconds > 0 ? count / seconds : 0 };
  if (boolFlag(args, 'json')) out.write(JSON.stringify(summary) + '\n');
  else {
    const what = [`${loader.acked.toLocaleString('en-US')} events`, ...(loader.ackedSamples ? [`${loader.ackedSamples.toLocaleString('en-US')} series samples`] : [])].join(' + ');
    out.write(`loaded ${what} from ${label} in ${seconds.toFixed(2)} s (${Math.round(summary.eventsPerSecond).toLocaleString('en-US')}/s, ${loader.requests} requests)\n`);
  }
  return 0;
}

async function peek(input: AsyncIterable<Buffer | string>): Promise<{ first: Buffer; rest: AsyncIterable<Buffer> }> {
  const iterator = input[Symbol.asyncIterator]();
  const head = await iterator.next();
  const first = head.done ? Buffer.alloc(0) : Buffer.from(head.value);
  async function* rest(): AsyncIterable<Buffer> {
    if (first.length) yield first;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield Buffer.from(next.value);
    }
  }
  return { first, rest: rest() };
}

function detectFormat(source: string, first: Buffer): Format {
  if (/\.(msgpack|mpk|msgpackr)$/i.test(source)) return 'msgpack';
  if (/\.(jsonl|ndjson|json)$/i.test(source)) return 'jsonl';
  for (const byte of first) {
    if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09) continue;
    return byte === 0x7b /* { */ ? 'jsonl' : 'msgpack';
  }
  return 'jsonl';
}

async function countLines(path: string): Promise<number> {
  const handle = await open(path);
  try {
    const buffer = Buffer.alloc(1 << 20);
    let lines = 0, last = 0x0a;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      for (let i = 0; i < bytesRead; i++) if (buffer[i] === 0x0a) lines++;
      last = buffer[bytesRead - 1]!;
    }
    return last === 0x0a ? lines : lines + 1;
  } finally {
    await handle.close();
  }
}

interface LoaderOptions {
  batchSize: number;
  concurrency: number;
  ttlSeconds: number | undefined;
  progress: Progress;
}

class Loader {
  acked = 0;
  ackedSamples = 0;
  requests = 0;
  /** Pending events per TTL (a record's own ttl_seconds, else the flag's). */
  private readonly pending = new Map<number | undefined, PendingEvent[]>();
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown = null;
  /** µs since the epoch that `offset_ms` is relative to. */
  private readonly anchorMicros = Date.now() * 1000;
  private readonly msgpackBodies: boolean[] = [];

  constructor(private readonly client: Client, private readonly options: LoaderOptions) {}

  async readJsonLines(input: AsyncIterable<Buffer>): Promise<void> {
    const decoder = new StringDecoder('utf8');
    let carry = '';
    let line = 0;
    for await (const chunk of input) {
      const text = carry + decoder.write(chunk);
      const parts = text.split('\n');
      carry = parts.pop()!;
      for (const part of parts) await this.jsonLine(part, ++line);
    }
    carry += decoder.end();
    if (carry.trim() !== '') await this.jsonLine(carry, ++line);
  }

  private async jsonLine(text: string, line: number): Promise<void> {
    const trimmed = text.trim();
    if (trimmed === '' || trimmed.startsWith('//')) return;
    let record: unknown;
    try {
      record = JSON.parse(trimmed);
    } catch (error) {
      throw new ClientError(`line ${line}: invalid JSON (${(error as Error).message})`);
    }
    await this.record(record, line, false);
  }

  async readMsgpack(input: AsyncIterable<Buffer>): Promise<void> {
    const unpackr = new Unpackr({ useRecords: true, mapsAsObjects: true });
    let carry: Buffer = Buffer.alloc(0);
    let index = 0;
    for await (const chunk of input) {
      carry = carry.length ? Buffer.concat([carry, chunk]) : chunk;
      const values: unknown[] = [];
      let consumed = 0;
      try {
        unpackr.unpackMultiple(carry, (value: unknown, _start?: number, end?: number) => {
          values.push(value);
          if (end !== undefined) consumed = end;
        });
        consumed = carry.length;
      } catch (error) {
        // An incomplete value at the end of this chunk: keep it for the next one.
        if (!(error as { incomplete?: boolean }).incomplete) throw new ClientError(`msgpack value ${index + values.length + 1}: ${(error as Error).message}`);
        // The values before it were complete and are kept.
        consumed = (error as { lastPosition?: number }).lastPosition ?? consumed;
      }
      carry = carry.subarray(consumed);
      for (const value of values) await this.record(value, ++index, true);
    }
    if (carry.length) throw new ClientError(`msgpack value ${index + 1}: truncated at the end of the input`);
  }

  private async record(record: unknown, line: number, msgpack: boolean): Promise<void> {
    if (this.failure) throw this.failure;
    const where = msgpack ? `msgpack value ${line}` : `line ${line}`;
    if (!record || typeof record !== 'object' || Array.isArray(record)) throw new ClientError(`${where}: expected an object (an event or a batch)`);
    const r = record as Record<string, unknown>;
    const ttl = typeof r.ttl_seconds === 'number' ? r.ttl_seconds : this.options.ttlSeconds;
    this.msgpackBodies[0] = msgpack;
    if (Array.isArray(r.series)) {
      const samples = (r.series as { timestamps?: { length?: number } }[]).reduce((n, s) => n + (s?.timestamps?.length ?? 0), 0);
      const body = ttl === undefined ? { series: r.series } : { series: r.series, ttl_seconds: ttl };
      await this.dispatch(() => this.client.msgpack('/v1/telemetry/events', body), 0, samples, () => where);
      return;
    }
    const events = Array.isArray(r.events) ? r.events : r.event !== undefined ? [r.event] : [r];
    for (const event of events) {
      if (!event || typeof event !== 'object' || Array.isArray(event)) throw new ClientError(`${where}: expected an event object`);
      let list = this.pending.get(ttl);
      if (!list) this.pending.set(ttl, (list = []));
      list.push({ event: this.stamp(event as Record<string, unknown>, where), line });
      if (list.length >= this.options.batchSize) {
        this.pending.delete(ttl);
        await this.sendEvents(list, ttl, msgpack);
      }
    }
  }

  /** `offset_ms` → `timestamp` (ISO 8601 with microseconds), relative to the load's start. */
  private stamp(event: Record<string, unknown>, where: string): Record<string, unknown> {
    if (event.timestamp !== undefined || event.offset_ms === undefined) return event;
    const offset = event.offset_ms;
    if (typeof offset !== 'number' || !Number.isFinite(offset)) throw new ClientError(`${where}: offset_ms must be a number of milliseconds`);
    const { offset_ms: _, ...rest } = event;
    return { ...rest, timestamp: formatMicros(this.anchorMicros + Math.round(offset * 1000)) };
  }

  private async sendEvents(list: PendingEvent[], ttl: number | undefined, msgpack: boolean): Promise<void> {
    const events = list.map((p) => p.event);
    const body = ttl === undefined ? { events } : { events, ttl_seconds: ttl };
    const first = list[0]!.line, last = list[list.length - 1]!.line;
    const unit = msgpack ? 'msgpack values' : 'lines';
    const where = (detail: string) => {
      const m = /^events\[(\d+)\]/.exec(detail);
      const at = m ? list[Number(m[1])]?.line : undefined;
      return at !== undefined ? `${msgpack ? 'msgpack value' : 'line'} ${at}` : `batch of ${unit} ${first}-${last}`;
    };
    await this.dispatch(
      () => (msgpack ? this.client.raw('/v1/telemetry/events', pack(body), 'application/msgpack') : this.client.json('POST', '/v1/telemetry/events', body)),
      events.length, 0, where,
    );
  }

  /** Starts a request once fewer than `concurrency` are in flight; a failure surfaces on the next record. */
  private async dispatch(send: () => Promise<unknown>, events: number, samples: number, where: (detail: string) => string): Promise<void> {
    while (this.inFlight.size >= this.options.concurrency) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
    this.requests++;
    const request = send().then(
      () => {
        this.acked += events;
        this.ackedSamples += samples;
        this.options.progress.update(this.acked + this.ackedSamples);
      },
      (error: unknown) => {
        if (this.failure) return;
        if (error instanceof ClientError && error.status >= 400 && error.status < 500) {
          const detail = error.message.replace(/^POST \S+: /, '');
          const detailOnly = detail.replace(/^HTTP \d+: /, '');
          this.failure = new ClientError(`${where(detailOnly)} rejected: ${detail}`, error.status);
        } else {
          this.failure = error;
        }
      },
    ).finally(() => this.inFlight.delete(request));
    this.inFlight.add(request);
  }

  async finish(): Promise<void> {
    for (const [ttl, list] of this.pending) if (list.length) await this.sendEvents(list, ttl, this.msgpackBodies[0] ?? false);
    this.pending.clear();
    await this.settle();
    if (this.failure) throw this.failure;
  }

  async settle(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }
}
