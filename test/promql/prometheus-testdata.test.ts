/**
 * Prometheus 2.42's own PromQL test scripts (test/promql/testdata, copied unchanged from
 * promql/testdata of the v2.42.0 source, Apache-2.0, © The Prometheus Authors), run
 * against our engine with Prometheus' rules from promql/test.go: every instant `eval`
 * must give exactly the expected samples (relative error < 1e-6), `eval_fail` must fail,
 * `eval_ordered` must keep the order, and the same query as a range query over
 * [t-1m, t+1m] must give the same samples at t. Evals using constructs strata does not
 * implement are listed as skipped with the reason.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { instantQuery, rangeQuery, type QueryResult } from '../../src/promql/engine.ts';
import { PromQLError } from '../../src/promql/errors.ts';
import { parseExpr } from '../../src/promql/parse.ts';
import { ArraySource } from '../../src/promql/source.ts';
import { almostEqual, parseScript, type EvalCommand } from './script.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'testdata');

function unsupportedReason(query: string): string | undefined {
  try {
    parseExpr(query);
  } catch (e) {
    if (e instanceof PromQLError && e.message.startsWith('unsupported')) return e.message;
  }
  return undefined;
}

type Sample = { key: string; labels: Record<string, string>; value: number };

function samplesOf(result: QueryResult): Sample[] | number {
  if (result.resultType === 'scalar') return Number(parseGoFloat(result.result[1]));
  if (result.resultType !== 'vector') throw new Error(`unexpected ${result.resultType} result`);
  return result.result.map((s) => ({ key: keyOf(s.metric), labels: s.metric, value: parseGoFloat(s.value[1]) }));
}

/** Samples of a range result at one time, as promql/test.go picks them. */
function samplesAt(result: QueryResult, timeMs: number, wasScalar: boolean): Sample[] | number {
  if (result.resultType !== 'matrix') throw new Error(`range query gave ${result.resultType}`);
  const out: Sample[] = [];
  for (const s of result.result) {
    const point = s.values.find(([t]) => t * 1000 === timeMs);
    if (point) out.push({ key: keyOf(s.metric), labels: s.metric, value: parseGoFloat(point[1]) });
  }
  return wasScalar ? out[0].value : out;
}

function parseGoFloat(s: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  return Number(s);
}

function keyOf(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function assertMatches(cmd: EvalCommand, got: Sample[] | number, checkOrder: boolean): void {
  if ('scalar' in cmd.expected) {
    expect(typeof got, 'expected a scalar').toBe('number');
    expect(almostEqual(got as number, cmd.expected.scalar), `scalar ${got} != ${cmd.expected.scalar}`).toBe(true);
    return;
  }
  expect(Array.isArray(got), 'expected a vector').toBe(true);
  const samples = got as Sample[];
  const expected = new Map(cmd.expected.vector.map((e, pos) => [keyOf(e.labels), { ...e, pos }]));
  samples.forEach((s, pos) => {
    const want = expected.get(s.key);
    expect(want, `unexpected series ${s.key} = ${s.value}`).toBeDefined();
    expect(almostEqual(s.value, want!.value), `${s.key}: got ${s.value}, want ${want!.value}`).toBe(true);
    if (checkOrder) expect(pos, `${s.key} position`).toBe(want!.pos);
  });
  const seen = new Set(samples.map((s) => s.key));
  for (const [key, e] of expected) expect(seen.has(key), `missing series ${key} = ${e.value}`).toBe(true);
}

function run(cmd: EvalCommand): void {
  const source = new ArraySource(cmd.data);
  if (cmd.fail) {
    expect(() => instantQuery(source, cmd.query, cmd.timeMs)).toThrow(PromQLError);
    return;
  }
  const instant = instantQuery(source, cmd.query, cmd.timeMs);
  assertMatches(cmd, samplesOf(instant), cmd.ordered);
  if (instant.resultType !== 'vector' && instant.resultType !== 'scalar') return;
  const range = rangeQuery(source, cmd.query, cmd.timeMs - 60_000, cmd.timeMs + 60_000, 60_000);
  if (cmd.ordered) return; // Prometheus defines no order for range results.
  assertMatches(cmd, samplesAt(range, cmd.timeMs, instant.resultType === 'scalar'), false);
}

for (const file of readdirSync(dir).filter((f) => f.endsWith('.test')).sort()) {
  describe(`prometheus testdata ${file}`, () => {
    const evals = parseScript(readFileSync(join(dir, file), 'utf8'));
    for (const cmd of evals) {
      const reason = unsupportedReason(cmd.query);
      const name = `line ${cmd.line}: ${cmd.fail ? 'fails: ' : ''}${cmd.query}`;
      if (reason) it.skip(`${name} (skipped: ${reason})`, () => {});
      else it(name, () => run(cmd));
    }
  });
}
