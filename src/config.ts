import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { DEFAULT_LIMITS, type Limits } from './limits.ts';
import { isLogLevel, LOG_LEVELS, type LogLevel } from './log.ts';

export const FSYNC_POLICIES = ['always', 'batch', 'off'] as const;
export type FsyncPolicy = (typeof FSYNC_POLICIES)[number];

/** Every setting; the resource limits are src/limits.ts' `Limits`, under the same names. */
export interface Config extends Limits {
  host: string;
  /** 0 binds a free port. */
  port: number;
  /** Absolute. */
  dataDir: string;
  /** JSON file of bearer tokens; null disables auth. Absolute. */
  authTokensPath: string | null;
  /** A table's head is sealed into a segment at this many rows… */
  segmentRows: number;
  /** …or when its oldest row is this old. */
  segmentMaxAgeMs: number;
  /** TTL of events that do not carry `ttl_seconds`. */
  defaultTtlSeconds: number;
  /** WAL durability: fsync every batch before the ack, group commits, or never. */
  fsync: FsyncPolicy;
  bodyLimitBytes: number;
  bodyTimeoutMs: number;
  /** Threads that decode large ingest bodies beside the main thread; 0 = decode inline. */
  ingestThreads: number;
  /** How often expired segments are looked for and dropped. */
  retentionSweepMs: number;
  /** How long shutdown waits for in-flight requests. */
  shutdownTimeoutMs: number;
  logLevel: LogLevel;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

interface Setting<K extends keyof Config = keyof Config> {
  key: K;
  env: string;
  flag: string;
  /** Shown after the flag in --help, e.g. `<port>`. */
  valueName: string;
  description: string;
  defaultValue: Config[K];
  /** Returns the parsed value, or throws an Error whose message says what was expected. */
  parse(raw: string, cwd: string): Config[K];
}

const MiB = 1024 * 1024;
/** One decode thread per core, up to 4: beyond that the main thread's apply is the limit. */
const DEFAULT_INGEST_THREADS = Math.min(4, availableParallelism());

/** Every knob, once: its env variable, its flag, its default, its parser and its help line. */
export const SETTINGS: readonly Setting[] = [
  setting('host', 'STRATA_HOST', '--host', '<address>', 'interface to listen on', '127.0.0.1', nonEmpty),
  setting('port', 'STRATA_PORT', '--port', '<port>', 'TCP port (0 = any free port)', 8321, integer(0, 65535)),
  setting('dataDir', 'STRATA_DATA_DIR', '--data-dir', '<dir>', 'data directory', 'data/store', path),
  setting('authTokensPath', 'STRATA_AUTH_TOKENS', '--auth-tokens', '<file>', 'JSON file of bearer tokens; unset = no auth', null, path),
  setting('segmentRows', 'STRATA_SEGMENT_ROWS', '--segment-rows', '<rows>', 'seal a head into a segment at this many rows', 1_000_000, integer(1, 2 ** 31)),
  setting('segmentMaxAgeMs', 'STRATA_SEGMENT_MAX_AGE_MS', '--segment-max-age-ms', '<ms>', 'seal a head once its oldest row is this old', 60_000, integer(1, Number.MAX_SAFE_INTEGER)),
  setting('defaultTtlSeconds', 'STRATA_DEFAULT_TTL_SECONDS', '--default-ttl-seconds', '<seconds>', 'TTL of events without ttl_seconds', 604_800, integer(1, Number.MAX_SAFE_INTEGER)),
  setting('fsync', 'STRATA_FSYNC', '--fsync', FSYNC_POLICIES.join('|'), 'WAL fsync policy', 'always', oneOf(FSYNC_POLICIES)),
  setting('bodyLimitBytes', 'STRATA_BODY_LIMIT_BYTES', '--body-limit-bytes', '<bytes>', 'largest request body accepted (suffixes KiB, MiB, GiB allowed)', 16 * MiB, byteSize),
  setting('ingestThreads', 'STRATA_INGEST_THREADS', '--ingest-threads', '<n>', 'threads decoding large ingest bodies (0 = on the main thread)', DEFAULT_INGEST_THREADS, integer(0, 64)),
  setting('bodyTimeoutMs', 'STRATA_BODY_TIMEOUT_MS', '--body-timeout-ms', '<ms>', 'answer 408 when a request body takes longer than this', 30_000, integer(1, 2 ** 31 - 1)),
  setting('retentionSweepMs', 'STRATA_RETENTION_SWEEP_MS', '--retention-sweep-ms', '<ms>', 'how often expired segments are dropped', 30_000, integer(1, 2 ** 31 - 1)),
  setting('shutdownTimeoutMs', 'STRATA_SHUTDOWN_TIMEOUT_MS', '--shutdown-timeout-ms', '<ms>', 'how long shutdown waits for in-flight requests', 10_000, integer(0, 2 ** 31 - 1)),
  setting('logLevel', 'STRATA_LOG_LEVEL', '--log-level', LOG_LEVELS.join('|'), 'log verbosity (stderr)', 'info', (raw) => {
    if (!isLogLevel(raw)) throw new Error(`expected one of ${LOG_LEVELS.join(', ')}`);
    return raw;
  }),
  setting('maxSeries', 'STRATA_MAX_SERIES', '--max-series', '<n>', 'live series cap: a batch creating more is refused (422)', DEFAULT_LIMITS.maxSeries, integer(1, 2 ** 32)),
  setting('maxLabels', 'STRATA_MAX_LABELS', '--max-labels', '<n>', 'labels per series, metric name not counted (400 above)', DEFAULT_LIMITS.maxLabels, integer(1, 1_000_000)),
  setting('maxLabelNameBytes', 'STRATA_MAX_LABEL_NAME_BYTES', '--max-label-name-bytes', '<bytes>', 'longest label name, UTF-8 bytes (400 above)', DEFAULT_LIMITS.maxLabelNameBytes, byteSize),
  setting('maxLabelValueBytes', 'STRATA_MAX_LABEL_VALUE_BYTES', '--max-label-value-bytes', '<bytes>', 'longest label value or metric name, UTF-8 bytes (400 above)', DEFAULT_LIMITS.maxLabelValueBytes, byteSize),
  setting('maxAttributes', 'STRATA_MAX_ATTRIBUTES', '--max-attributes', '<n>', 'attributes per event (400 above)', DEFAULT_LIMITS.maxAttributes, integer(1, 1_000_000)),
  setting('maxAttributeBytes', 'STRATA_MAX_ATTRIBUTE_BYTES', '--max-attribute-bytes', '<bytes>', "an event's attributes, keys + values, UTF-8 bytes (400 above)", DEFAULT_LIMITS.maxAttributeBytes, byteSize),
  setting('maxSpansPerTrace', 'STRATA_MAX_SPANS_PER_TRACE', '--max-spans-per-trace', '<n>', 'spans in one trace: a batch starting more is refused (422)', DEFAULT_LIMITS.maxSpansPerTrace, integer(1, 2 ** 32)),
  setting('maxQueryPoints', 'STRATA_MAX_QUERY_POINTS', '--max-query-points', '<n>', 'points in one query_metrics answer (422 above)', DEFAULT_LIMITS.maxQueryPoints, integer(1, Number.MAX_SAFE_INTEGER)),
  setting('maxPointsPerSeries', 'STRATA_MAX_POINTS_PER_SERIES', '--max-points-per-series', '<n>', 'points per series of a PromQL range query (400 above)', DEFAULT_LIMITS.maxPointsPerSeries, integer(1, Number.MAX_SAFE_INTEGER)),
  setting('maxConcurrentQueries', 'STRATA_MAX_CONCURRENT_QUERIES', '--max-concurrent-queries', '<n>', 'queries answered at once; more get 503 + Retry-After', DEFAULT_LIMITS.maxConcurrentQueries, integer(1, 1_000_000)),
];

/**
 * Builds the Config from defaults, then `STRATA_*` environment variables, then flags
 * (`--port 9000` or `--port=9000`). An empty environment variable counts as unset. Throws a
 * ConfigError naming the variable or flag for an unknown flag or an invalid value.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv, cwd = process.cwd()): Config {
  const config = Object.fromEntries(SETTINGS.map((s) => [s.key, defaultFor(s, cwd)])) as unknown as Config;
  for (const s of SETTINGS) {
    const raw = env[s.env];
    if (raw !== undefined && raw !== '') assign(config, s, raw, s.env, cwd);
  }
  for (const [flag, raw] of flagValues(argv)) {
    const s = SETTINGS.find((candidate) => candidate.flag === flag);
    if (!s) throw new ConfigError(`unknown flag ${flag}`);
    assign(config, s, raw, flag, cwd);
  }
  return config;
}

/** The flags section of `--help`, with each environment variable and default. */
export function configHelp(): string {
  return SETTINGS.map((s) => {
    const shown = s.defaultValue ?? 'unset';
    return `  ${`${s.flag} ${s.valueName}`.padEnd(40)} ${s.description}\n  ${''.padEnd(40)} env ${s.env}, default ${shown}`;
  }).join('\n');
}

function setting<K extends keyof Config>(
  key: K, env: string, flag: string, valueName: string, description: string, defaultValue: Config[K],
  parse: (raw: string, cwd: string) => Config[K],
): Setting<K> {
  return { key, env, flag, valueName, description, defaultValue, parse };
}

/** Default paths are relative to where strata runs, like paths given by the user. */
function defaultFor(s: Setting, cwd: string): unknown {
  return s.parse === path && typeof s.defaultValue === 'string' ? path(s.defaultValue, cwd) : s.defaultValue;
}

function assign(config: Config, s: Setting, raw: string, source: string, cwd: string): void {
  try {
    (config as unknown as Record<string, unknown>)[s.key] = s.parse(raw, cwd);
  } catch (error) {
    throw new ConfigError(`invalid ${source} ${JSON.stringify(raw)}: ${(error as Error).message}`);
  }
}

function* flagValues(argv: readonly string[]): Generator<[string, string]> {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument ${JSON.stringify(arg)}`);
    const equals = arg.indexOf('=');
    if (equals !== -1) {
      yield [arg.slice(0, equals), arg.slice(equals + 1)];
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) {
      if (!SETTINGS.some((s) => s.flag === arg)) throw new ConfigError(`unknown flag ${arg}`);
      throw new ConfigError(`${arg} needs a value`);
    }
    yield [arg, value];
    i++;
  }
}

function nonEmpty(raw: string): string {
  if (raw.trim() === '') throw new Error('expected a non-empty value');
  return raw;
}

function path(raw: string, cwd: string): string {
  return resolve(cwd, nonEmpty(raw));
}

function integer(min: number, max: number): (raw: string) => number {
  return (raw) => {
    const value = /^-?\d+$/.test(raw.replace(/_/g, '')) ? Number(raw.replace(/_/g, '')) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new Error(`expected an integer from ${min} to ${max}`);
    }
    return value;
  };
}

function oneOf<T extends string>(values: readonly T[]): (raw: string) => T {
  return (raw) => {
    if (!(values as readonly string[]).includes(raw)) throw new Error(`expected one of ${values.join(', ')}`);
    return raw as T;
  };
}

const SIZE_UNITS: Record<string, number> = { '': 1, kib: 1024, mib: MiB, gib: 1024 * MiB };

function byteSize(raw: string): number {
  const match = /^(\d+)\s*([kmg]ib)?$/i.exec(raw.trim());
  const value = match ? Number(match[1]) * SIZE_UNITS[(match[2] ?? '').toLowerCase()]! : NaN;
  if (!Number.isSafeInteger(value) || value < 1) throw new Error('expected a positive number of bytes, e.g. 16777216 or 16MiB');
  return value;
}
