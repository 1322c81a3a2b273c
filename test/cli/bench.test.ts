/** bench/run.ts: every suite in its own process, a failing suite reported without stopping the run. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { listSuites, runBenches } from '../../bench/run.ts';

const dir = mkdtempSync(join(tmpdir(), 'strata-bench-suites-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench/run.ts', () => {
  it('runs each suite, tolerates failures and writes results and a combined table', async () => {
    writeFileSync(join(dir, 'alpha.bench.ts'), `export async function runAlphaBench() { return [{ name: 'adds', value: 12345678, unit: 'ops/s', target: '≥ 1 M' }]; }\n`);
    writeFileSync(join(dir, 'broken.bench.ts'), `export async function runBrokenBench() { throw new Error('the disk is on fire'); }\n`);
    writeFileSync(join(dir, 'crash.bench.ts'), `export async function runCrashBench() { process.exit(3); }\n`);
    writeFileSync(join(dir, 'omega.bench.ts'), `export function runOmegaBench() { return [{ policy: 'always', writers: 8, recordsPerSec: 1500.5 }]; }\n`);
    writeFileSync(join(dir, 'helper.ts'), 'export const notASuite = 1;\n');
    expect(listSuites(dir)).toEqual(['alpha', 'broken', 'crash', 'omega']);

    const resultsDir = join(dir, 'results');
    let report = '';
    const out = new Writable({ write: (chunk, _e, done) => { report += chunk.toString(); done(); } });
    const results = await runBenches({ dir, resultsDir, out, suiteOutput: 'ignore' });

    expect(results.map((r) => [r.suite, r.status])).toEqual([['alpha', 'ok'], ['broken', 'failed'], ['crash', 'failed'], ['omega', 'ok']]);
    expect(results[1]!.error).toContain('the disk is on fire');
    expect(results[2]!.error).toContain('exit code 3');
    expect(report).toContain('| alpha | ok | 1 |');
    expect(report).toContain('| broken | failed | 0 |');
    expect(report).toContain('| adds | 12.35 M ops/s | ≥ 1 M |');
    expect(report).toContain('| policy | writers | recordsPerSec |');
    expect(report).toMatch(/\| always \| 8 \| 150[01] \|/);
    expect(readFileSync(join(resultsDir, 'summary.md'), 'utf8')).toBe(report);
    const alpha = JSON.parse(readFileSync(join(resultsDir, 'alpha.json'), 'utf8')) as { suite: string; rows: unknown[]; machine: { node: string } };
    expect(alpha).toMatchObject({ suite: 'alpha', rows: [{ name: 'adds', value: 12345678 }] });
    expect(alpha.machine.node).toBe(process.version);
    expect(existsSync(join(resultsDir, 'broken.json'))).toBe(false);
  });

  it('lists the real suites in bench/', () => {
    expect(listSuites()).toEqual(expect.arrayContaining(['core', 'wal']));
  });
});
