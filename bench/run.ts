/**
 * `npm run bench` / `strata bench`: runs every suite in bench/ (each `*.bench.ts` exporting a
 * `run…Bench()` function), one child process per suite (`--expose-gc`, so a crash or an
 * out-of-memory in one suite cannot take the others down), writes `bench/results/<suite>.json`
 * for suites that do not write their own, and prints a combined markdown report, also saved
 * as `bench/results/summary.md`. A failing suite is reported and the run goes on; the exit
 * code is 1 when any suite failed.
 *
 *   npm run bench                 every suite
 *   npm run bench -- core wal     only these
 *   npm run bench -- --list       list the suites
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatNumber, isMain, machine, markdownTable, RESULTS_DIR, type BenchRow } from './report.ts';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
/** How a child reports why its suite failed, on its last stderr line. */
const CHILD_ERROR = 'bench suite failed: ';

export interface SuiteResult {
  suite: string;
  status: 'ok' | 'failed';
  seconds: number;
  rows: Record<string, unknown>[];
  error?: string;
  resultsFile?: string;
}

export interface RunOptions {
  /** Where the suites are (default bench/). */
  dir?: string;
  /** Where results go (default bench/results/). */
  resultsDir?: string;
  /** Suite names (file names without `.bench.ts`); all when empty. */
  only?: string[];
  /** Where the report goes (default stdout). */
  out?: NodeJS.WritableStream;
  /** Suite output (tables they print themselves); default stderr, so stdout carries the report. */
  suiteOutput?: 'inherit' | 'ignore';
}

export function listSuites(dir = BENCH_DIR): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).map((f) => f.slice(0, -'.bench.ts'.length)).sort();
}

export async function runBenches(options: RunOptions = {}): Promise<SuiteResult[]> {
  const out = options.out ?? process.stdout;
  const dir = options.dir ?? BENCH_DIR;
  const resultsDir = options.resultsDir ?? RESULTS_DIR;
  const all = listSuites(dir);
  const only = options.only?.length ? options.only : all;
  const unknown = only.filter((s) => !all.includes(s));
  if (unknown.length) throw new Error(`unknown bench suite(s): ${unknown.join(', ')} (have: ${all.join(', ')})`);
  const results: SuiteResult[] = [];
  for (const suite of only) {
    process.stderr.write(`bench: running ${suite} ...\n`);
    const result = await runSuiteInChild(dir, resultsDir, suite, options.suiteOutput ?? 'inherit');
    process.stderr.write(`bench: ${suite} ${result.status} in ${result.seconds.toFixed(1)} s${result.error ? `: ${result.error}` : ''}\n`);
    results.push(result);
  }
  const report = renderReport(results);
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'summary.md'), report);
  out.write(report);
  return results;
}

async function runSuiteInChild(dir: string, resultsDir: string, suite: string, output: 'inherit' | 'ignore'): Promise<SuiteResult> {
  const tmp = mkdtempSync(join(tmpdir(), 'strata-bench-'));
  const rowsFile = join(tmp, 'rows.json');
  const resultsFile = join(resultsDir, `${suite}.json`);
  const before = mtime(resultsFile);
  const started = performance.now();
  const tsx = import.meta.resolve('tsx');
  let stderrTail = '';
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, ['--expose-gc', '--import', tsx, fileURLToPath(import.meta.url), '--child', join(dir, `${suite}.bench.ts`), rowsFile], {
        stdio: ['ignore', output === 'inherit' ? process.stderr : 'ignore', 'pipe'],
      });
      child.stderr!.on('data', (chunk: Buffer) => {
        if (output === 'inherit') process.stderr.write(chunk);
        stderrTail = (stderrTail + chunk.toString()).slice(-2000);
      });
      child.on('error', reject);
      child.on('exit', (exitCode, signal) => resolve(signal ? 128 : exitCode));
    });
    const seconds = (performance.now() - started) / 1000;
    if (code !== 0) {
      const lines = stderrTail.trim().split('\n').filter((l) => l.trim() !== '' && !/^Node\.js v/.test(l));
      const marked = lines.find((l) => l.startsWith(CHILD_ERROR));
      const lastLine = marked ? marked.slice(CHILD_ERROR.length) : (lines[lines.length - 1] ?? '');
      return { suite, status: 'failed', seconds, rows: [], error: `exit code ${code}${lastLine ? `: ${lastLine.trim()}` : ''}` };
    }
    const rows = JSON.parse(readFileSync(rowsFile, 'utf8')) as Record<string, unknown>[];
    // Suites that write their own results file (with their own metadata) keep it.
    if (mtime(resultsFile) === before) {
      mkdirSync(resultsDir, { recursive: true });
      writeFileSync(resultsFile, JSON.stringify({ suite, machine: machine(), rows }, null, 2) + '\n');
    }
    return { suite, status: 'ok', seconds, rows, resultsFile };
  } catch (error) {
    return { suite, status: 'failed', seconds: (performance.now() - started) / 1000, rows: [], error: (error as Error).message };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

/** In the child: imports the suite, calls its run…Bench exports, writes their rows. */
async function childMain(file: string, rowsFile: string): Promise<void> {
  const suite = basename(file, '.bench.ts');
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const runners = Object.entries(module).filter(([name, value]) => /^run\w*Bench$/.test(name) && typeof value === 'function');
  if (runners.length === 0) throw new Error(`${suite}.bench.ts exports no run…Bench function`);
  const rows: unknown[] = [];
  for (const [, run] of runners) {
    const result = await (run as () => Promise<unknown>)();
    if (Array.isArray(result)) rows.push(...result);
    else if (result !== undefined) rows.push(result);
  }
  writeFileSync(rowsFile, JSON.stringify(rows));
}

export function renderReport(results: SuiteResult[]): string {
  const lines = ['# strata benchmarks', '', '| suite | status | rows | seconds | results |', '| --- | --- | ---: | ---: | --- |'];
  for (const r of results) {
    const results = r.resultsFile ? `bench/results/${basename(r.resultsFile)}` : (r.error ?? '').replace(/\|/g, '\\|').slice(0, 200);
    lines.push(`| ${r.suite} | ${r.status} | ${r.rows.length} | ${r.seconds.toFixed(1)} | ${results} |`);
  }
  for (const r of results) {
    if (r.rows.length === 0) continue;
    lines.push('', `## ${r.suite}`, '', suiteTable(r.rows));
  }
  return lines.join('\n') + '\n';
}

/** `{name, value, unit}` rows as the shared bench table; any other shape as one column per field. */
function suiteTable(rows: Record<string, unknown>[]): string {
  if (rows.every((r) => typeof r.name === 'string' && typeof r.value === 'number' && typeof r.unit === 'string')) {
    return markdownTable(rows as unknown as BenchRow[]);
  }
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => (typeof v === 'number' ? formatNumber(v) : v === undefined || v === null ? '' : String(v).replace(/\|/g, '\\|'));
  return [
    `| ${columns.join(' | ')} |`,
    `| ${columns.map((c) => (rows.some((r) => typeof r[c] === 'number') ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${columns.map((c) => cell(r[c])).join(' | ')} |`),
  ].join('\n');
}

if (isMain(import.meta.url)) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    try {
      await childMain(argv[1]!, argv[2]!);
    } catch (error) {
      process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n${CHILD_ERROR}${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    }
  } else if (argv.includes('--list')) {
    console.log(listSuites().join('\n'));
  } else {
    const results = await runBenches({ only: argv.filter((a) => !a.startsWith('-')) });
    process.exitCode = results.some((r) => r.status === 'failed') ? 1 : 0;
  }
}
