/**
 * A tiny leveled logger: one line per message on stderr, `<ISO time> <LEVEL> message key=value…`.
 * stdout stays free for command output (`strata query` prints results there).
 */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFields = Record<string, unknown>;

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/** Under vitest the default is silent so test output shows only test results; STRATA_LOG_LEVEL wins. */
function defaultLevel(env: NodeJS.ProcessEnv): LogLevel {
  const fromEnv = env.STRATA_LOG_LEVEL;
  if (fromEnv !== undefined && isLogLevel(fromEnv)) return fromEnv;
  return env.VITEST ? 'silent' : 'info';
}

let threshold = LOG_LEVELS.indexOf(defaultLevel(process.env));
let sink: (line: string) => void = (line) => process.stderr.write(line);

export function setLogLevel(level: LogLevel): void {
  threshold = LOG_LEVELS.indexOf(level);
}

/** Redirects output; returns the previous sink so tests can restore it. */
export function setLogSink(next: (line: string) => void): (line: string) => void {
  const previous = sink;
  sink = next;
  return previous;
}

function formatValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.stack ?? value.message);
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

function write(level: Exclude<LogLevel, 'silent'>, message: string, fields?: LogFields): void {
  if (LOG_LEVELS.indexOf(level) < threshold) return;
  let line = `${new Date().toISOString()} ${level.toUpperCase()} ${message}`;
  if (fields) {
    for (const [key, value] of Object.entries(fields)) line += ` ${key}=${formatValue(value)}`;
  }
  sink(line + '\n');
}

export const log = {
  debug: (message: string, fields?: LogFields) => write('debug', message, fields),
  info: (message: string, fields?: LogFields) => write('info', message, fields),
  warn: (message: string, fields?: LogFields) => write('warn', message, fields),
  error: (message: string, fields?: LogFields) => write('error', message, fields),
};
