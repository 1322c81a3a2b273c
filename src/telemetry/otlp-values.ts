/**
 * Reading the OTLP/JSON encoding (the protobuf JSON mapping the OpenTelemetry exporters
 * send): attributes as `[{key, value: AnyValue}]`, 64-bit integers as decimal strings,
 * times as nanoseconds since the epoch, trace and span ids as hex.
 *
 * Llama Stack attributes are primitives, so AnyValues are flattened: a kvlist becomes
 * dotted keys (`http.request.header.x: …`), an array a JSON string of its values, bytes
 * their base64 text, an int64 a number (a decimal string when beyond 2^53).
 */
import type { Attributes } from './schema.ts';

/** A value of the request that is not what OTLP says; `at` names it (`resourceSpans[0].scopeSpans[1].spans[2].traceId`). */
export class OtlpShapeError extends Error {
  constructor(readonly at: string, readonly problem: string) {
    super(`${at}: ${problem}`);
  }
}

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value[key]` as an array; absent or null is empty (proto3 omits empty repeated fields). */
export function arrayField(value: Json, key: string, at: string): unknown[] {
  const field = value[key];
  if (field === undefined || field === null) return [];
  if (!Array.isArray(field)) throw new OtlpShapeError(`${at}.${key}`, `expected an array, got ${typeof field}`);
  return field;
}

export function objectAt(value: unknown, at: string): Json {
  if (!isObject(value)) throw new OtlpShapeError(at, `expected an object, got ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}`);
  return value;
}

export function stringField(value: Json, key: string, at: string, required = true): string {
  const field = value[key];
  if (typeof field === 'string') return field;
  if ((field === undefined || field === null) && !required) return '';
  throw new OtlpShapeError(`${at}.${key}`, `expected a string, got ${field === undefined ? 'nothing' : typeof field}`);
}

const HEX = /^[0-9a-fA-F]+$/;

/** A trace (32 hex digits) or span (16) id, lower-cased; '' when absent and not required. */
export function hexIdField(value: Json, key: string, digits: number, at: string, required: boolean): string {
  const field = value[key];
  if ((field === undefined || field === null || field === '') && !required) return '';
  if (typeof field !== 'string' || field.length !== digits || !HEX.test(field)) {
    throw new OtlpShapeError(`${at}.${key}`, `expected ${digits} hex digits, got ${describe(field)}`);
  }
  return field.toLowerCase();
}

/**
 * A uint64 nanosecond time to µs since the epoch (truncated). Accepts a decimal string
 * (what the JSON exporters send), a number, or protobufjs' `{low, high}` long.
 */
export function nanosToMicros(value: unknown, at: string): number {
  let micros: number;
  if (typeof value === 'string' && /^\d{1,20}$/.test(value)) {
    micros = value.length > 3 ? Number(value.slice(0, -3)) : 0;
  } else if (typeof value === 'number' && Number.isFinite(value) && value >= 0) {
    micros = Math.floor(value / 1000);
  } else if (isObject(value) && typeof value.low === 'number' && typeof value.high === 'number') {
    micros = Number(((BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0)) / 1000n);
  } else {
    throw new OtlpShapeError(at, `expected nanoseconds since the epoch (decimal string or number), got ${describe(value)}`);
  }
  if (!Number.isSafeInteger(micros)) throw new OtlpShapeError(at, `time out of range: ${describe(value)}`);
  return micros;
}

/** An int64 (decimal string or number) or double field as a number; undefined when absent. */
export function numberField(value: Json, key: string, at: string): number | undefined {
  const field = value[key];
  if (field === undefined || field === null) return undefined;
  if (typeof field === 'number') return field;
  if (typeof field === 'string' && field.trim() !== '') {
    const n = Number(field);
    if (!Number.isNaN(n) || field === 'NaN') return n;
    // The JSON mapping spells the non-finite doubles out.
    if (field === 'Infinity') return Infinity;
    if (field === '-Infinity') return -Infinity;
  }
  throw new OtlpShapeError(`${at}.${key}`, `expected a number, got ${describe(field)}`);
}

/** Spans or data points left out of a conversion, and why the first was (OTLP partial success). */
export interface OtlpConversion<T> {
  items: T;
  rejected: number;
  firstProblem?: string;
}

/**
 * Walks an export request's envelope — `resource<Kind>[] → scope<Kind>[] → items[]` — and calls
 * `visit` for every item with its resource's attributes. An item whose `visit` throws an
 * OtlpShapeError is rejected alone and counted in `result`; a malformed envelope throws.
 */
export function forEachItem(
  body: unknown, kind: 'Spans' | 'Metrics', itemsKey: 'spans' | 'metrics', result: OtlpConversion<unknown>,
  visit: (item: unknown, resourceAttributes: Attributes, at: string) => void,
): void {
  const resources = arrayField(objectAt(body, 'body'), `resource${kind}`, 'body');
  for (let r = 0; r < resources.length; r++) {
    const at = `resource${kind}[${r}]`;
    const resource = objectAt(resources[r], at);
    const resourceAttributes = readResourceAttributes(resource, at);
    const scopes = arrayField(resource, `scope${kind}`, at);
    for (let s = 0; s < scopes.length; s++) {
      const scopeAt = `${at}.scope${kind}[${s}]`;
      const items = arrayField(objectAt(scopes[s], scopeAt), itemsKey, scopeAt);
      for (let i = 0; i < items.length; i++) {
        try {
          visit(items[i], resourceAttributes, `${scopeAt}.${itemsKey}[${i}]`);
        } catch (error) {
          noteRejected(result, error);
        }
      }
    }
  }
}

/** Counts an OtlpShapeError as one rejected item (keeping the first message); rethrows anything else. */
export function noteRejected(result: OtlpConversion<unknown>, error: unknown): void {
  if (!(error instanceof OtlpShapeError)) throw error;
  result.rejected++;
  result.firstProblem ??= error.message;
}

/** The resource's attributes (`service.name`, …), which every span and point of it carries. */
function readResourceAttributes(resourceHolder: Json, at: string): Attributes {
  const resource = resourceHolder.resource;
  if (resource === undefined || resource === null) return {};
  return flattenAttributes(arrayField(objectAt(resource, `${at}.resource`), 'attributes', `${at}.resource`), `${at}.resource.attributes`);
}

/** OTLP KeyValues to flat attributes; `into` is filled and returned (later keys win). */
export function flattenAttributes(list: unknown[], at: string, into: Attributes = {}): Attributes {
  for (let i = 0; i < list.length; i++) {
    const kv = objectAt(list[i], `${at}[${i}]`);
    const key = stringField(kv, 'key', `${at}[${i}]`);
    flattenValue(key, kv.value, `${at}[${i}].value`, into);
  }
  return into;
}

function flattenValue(key: string, value: unknown, at: string, into: Attributes): void {
  if (value === undefined || value === null) return;
  const v = objectAt(value, at);
  if ('stringValue' in v) into[key] = String(v.stringValue ?? '');
  else if ('boolValue' in v) into[key] = v.boolValue === true;
  else if ('intValue' in v) into[key] = intValue(v.intValue, `${at}.intValue`);
  else if ('doubleValue' in v) into[key] = numberField(v, 'doubleValue', at) ?? 0;
  else if ('bytesValue' in v) into[key] = String(v.bytesValue ?? '');
  else if ('arrayValue' in v) into[key] = JSON.stringify(arrayValues(v.arrayValue, `${at}.arrayValue`));
  else if ('kvlistValue' in v) {
    const kvlist = v.kvlistValue === null || v.kvlistValue === undefined ? {} : objectAt(v.kvlistValue, `${at}.kvlistValue`);
    const nested = flattenAttributes(arrayField(kvlist, 'values', `${at}.kvlistValue`), `${at}.kvlistValue.values`);
    for (const nestedKey in nested) into[`${key}.${nestedKey}`] = nested[nestedKey]!;
  }
  // An empty AnyValue `{}` is OTLP's "no value": nothing to keep.
}

function arrayValues(arrayValue: unknown, at: string): unknown[] {
  if (arrayValue === undefined || arrayValue === null) return [];
  const list = arrayField(objectAt(arrayValue, at), 'values', at);
  return list.map((item, i) => {
    const holder: Attributes = {};
    flattenValue('v', item, `${at}.values[${i}]`, holder);
    return holder.v ?? null;
  });
}

function intValue(value: unknown, at: string): number | string {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value;
  }
  throw new OtlpShapeError(at, `expected an integer, got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? value.slice(0, 60) + '…' : value);
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'array' : 'object';
}
