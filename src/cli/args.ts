/**
 * A small flag parser for the client commands: `--name value`, `--name=value`, boolean
 * `--name`, repeatable flags, positionals, `--` to end flags and `-` as a positional (stdin).
 * Anything it cannot make sense of is a UsageError, which `strata` turns into exit code 2.
 */

export class UsageError extends Error {
  override name = 'UsageError';
}

export type FlagKind = 'string' | 'boolean' | 'list';

export interface FlagSpec {
  kind: FlagKind;
  /** Shown in --help, e.g. `<url>`. */
  value?: string;
  help: string;
  short?: string;
}

export type FlagSpecs = Record<string, FlagSpec>;

export interface ParsedArgs {
  flags: Map<string, string | boolean | string[]>;
  positionals: string[];
}

export function parseArgs(argv: readonly string[], specs: FlagSpecs): ParsedArgs {
  const flags = new Map<string, string | boolean | string[]>();
  const positionals: string[] = [];
  const shortNames = new Map(Object.entries(specs).filter(([, s]) => s.short).map(([name, s]) => [s.short!, name]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-' || !arg.startsWith('-')) {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
    } else {
      const long = shortNames.get(arg.slice(1));
      // A negative number is a value, e.g. `--start -1h` is handled below; a lone `-5` is a positional.
      if (long === undefined) {
        if (/^-\d/.test(arg)) {
          positionals.push(arg);
          continue;
        }
        throw new UsageError(`unknown flag ${arg}`);
      }
      name = long;
    }
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (!spec) throw new UsageError(`unknown flag --${name}`);
    if (spec.kind === 'boolean') {
      if (inline !== undefined) {
        if (inline !== 'true' && inline !== 'false') throw new UsageError(`--${name} takes no value (or =true/=false), got ${JSON.stringify(inline)}`);
        flags.set(name, inline === 'true');
      } else {
        flags.set(name, true);
      }
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value ${spec.value ?? ''}`.trimEnd());
      value = argv[++i]!;
    }
    if (spec.kind === 'list') {
      const list = (flags.get(name) as string[] | undefined) ?? [];
      list.push(value);
      flags.set(name, list);
    } else {
      flags.set(name, value);
    }
  }
  return { flags, positionals };
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function boolFlag(args: ParsedArgs, name: string): boolean {
  return args.flags.get(name) === true;
}

export function listFlag(args: ParsedArgs, name: string): string[] {
  const v = args.flags.get(name);
  return Array.isArray(v) ? v : [];
}

export function intFlag(args: ParsedArgs, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = stringFlag(args, name);
  if (raw === undefined) return undefined;
  if (!/^-?\d+$/.test(raw)) throw new UsageError(`invalid --${name} ${JSON.stringify(raw)}: expected an integer`);
  const n = Number(raw);
  if (n < min || n > max) throw new UsageError(`invalid --${name} ${raw}: expected ${min}..${max}`);
  return n;
}

/** `a,b , c` → ['a','b','c']; repeated flags are concatenated. */
export function commaList(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/** The `--help` lines for a flag table. */
export function flagHelp(specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([name, s]) => {
    const left = `${s.short ? `-${s.short}, ` : '    '}--${name}${s.value ? ` ${s.value}` : ''}`;
    return [left, s.help + (s.kind === 'list' ? ' (repeatable)' : '')] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length));
  return rows.map(([l, r]) => `  ${l.padEnd(width)}  ${r}`).join('\n');
}

/** The flags every client command shares. */
export const CLIENT_FLAGS: FlagSpecs = {
  url: { kind: 'string', value: '<url>', help: 'server to talk to (env STRATA_URL; default http://$STRATA_HOST:$STRATA_PORT, i.e. http://127.0.0.1:8321)' },
  token: { kind: 'string', value: '<token>', help: 'bearer token when the server has auth on (env STRATA_TOKEN)' },
};

/**
 * A Llama Stack attribute condition from `key=value`, `key!=value`, `key>value` or `key<value`.
 * The value is a number or boolean when it reads as one (`5`, `2.5`, `true`), a string otherwise;
 * a JSON-quoted value (`key="5"`) is always a string. Filters compare same-typed values only.
 */
export function parseFilter(text: string): { key: string; op: 'eq' | 'ne' | 'gt' | 'lt'; value: string | number | boolean } {
  const m = /^(.*?)(!=|=|>|<)(.*)$/s.exec(text);
  if (!m || m[1] === '') throw new UsageError(`invalid filter ${JSON.stringify(text)}: expected key=value, key!=value, key>value or key<value`);
  const op = ({ '=': 'eq', '!=': 'ne', '>': 'gt', '<': 'lt' } as const)[m[2] as '=' | '!=' | '>' | '<'];
  return { key: m[1]!.trim(), op, value: typedValue(m[3]!) };
}

export function typedValue(raw: string): string | number | boolean {
  const text = raw.trim();
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) {
    try {
      const s = JSON.parse(text) as unknown;
      if (typeof s === 'string') return s;
    } catch {
      // not JSON: keep the raw text
    }
  }
  return raw;
}

/** A Prometheus label matcher from `name=value`, `name!=value`, `name=~regex` or `name!~regex`. */
export function parseMatcher(text: string): { name: string; operator: '=' | '!=' | '=~' | '!~'; value: string } {
  const m = /^([^=!~]+?)\s*(=~|!~|!=|=)(.*)$/s.exec(text);
  if (!m) throw new UsageError(`invalid matcher ${JSON.stringify(text)}: expected name=value, name!=value, name=~regex or name!~regex`);
  let value = m[3]!;
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    try {
      value = JSON.parse(value) as string;
    } catch {
      // keep as given
    }
  }
  return { name: m[1]!.trim(), operator: m[2] as '=' | '!=' | '=~' | '!~', value };
}

/**
 * A time for a query: `now`, `now-15m`, `-15m` (relative to now), Unix seconds, or an
 * ISO 8601 date/time. Returns Unix seconds (fractional).
 */
export function parseTime(text: string, nowMs = Date.now()): number {
  const t = text.trim();
  if (t === 'now') return nowMs / 1000;
  const rel = /^(?:now)?-(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(t);
  if (rel) return (nowMs - Number(rel[1]) * UNIT_MS[rel[2]!]!) / 1000;
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const ms = Date.parse(t);
  if (!Number.isNaN(ms) && /^\d{4}-\d{2}-\d{2}/.test(t)) return ms / 1000;
  throw new UsageError(`invalid time ${JSON.stringify(text)}: expected now, -15m, now-1h, Unix seconds or ISO 8601`);
}

/** A duration like `30s`, `5m`, `1h`; returns seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(text.trim());
  if (!m || Number(m[1]) <= 0) throw new UsageError(`invalid duration ${JSON.stringify(text)}: expected e.g. 30s, 5m, 1h`);
  return (Number(m[1]) * UNIT_MS[m[2] ?? 's']!) / 1000;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
