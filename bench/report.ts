/** Shared helpers for bench scripts: result files and markdown tables. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  target?: string;
  note?: string;
}

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');

export function machine() {
  return { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, date: new Date().toISOString() };
}

export function writeResults(name: string, rows: BenchRow[], extra: Record<string, unknown> = {}): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}.json`);
  writeFileSync(file, JSON.stringify({ suite: name, machine: machine(), rows, ...extra }, null, 2) + '\n');
  return file;
}

export function markdownTable(rows: BenchRow[]): string {
  const lines = ['| benchmark | result | target |', '| --- | ---: | --- |'];
  for (const r of rows) lines.push(`| ${r.name} | ${formatNumber(r.value)} ${r.unit} | ${r.target ?? ''} |`);
  return lines.join('\n');
}

export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 1e6) return (x / 1e6).toFixed(2) + ' M';
  if (Math.abs(x) >= 1e4) return Math.round(x).toLocaleString('en-US');
  return x.toPrecision(4).replace(/\.?0+$/, '');
}

/** True when the module at `url` is the script node was started with. */
export function isMain(url: string): boolean {
  return !!process.argv[1] && url === pathToFileURL(process.argv[1]).href;
}
