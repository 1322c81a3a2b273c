/** `strata serve` as a child process: started on a free port, its stderr collected, its exit awaited. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = ['--import', 'tsx', fileURLToPath(new URL('../../src/cli.ts', import.meta.url))];

export interface Serving {
  child: ChildProcess;
  url: string;
  port: number;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** Starts `strata serve`; rejects with its stderr if it exits before listening. */
export function serve(dataDir: string, args: string[] = [], env: Record<string, string> = {}): Promise<Serving> {
  const child = spawn(process.execPath, [...CLI, 'serve', '--port', '0', '--data-dir', dataDir, ...args], {
    env: { ...process.env, STRATA_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (data: Buffer) => { stderr += data.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: performance.now() })));
  return new Promise((resolve, reject) => {
    const onData = () => {
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (!match) return;
      child.stderr!.off('data', onData);
      const url = match[1]!;
      resolve({ child, url, port: Number(new URL(url).port), stderr: () => stderr, exited });
    };
    child.stderr!.on('data', onData);
    void exited.then((e) => reject(new Error(`serve exited (${e.code ?? e.signal}) before listening:\n${stderr}`)));
  });
}

/** Runs `strata serve` expecting it to exit by itself (e.g. it cannot start); resolves with its code and stderr. */
export function serveUntilExit(dataDir: string, args: string[] = [], timeoutMs = 20_000): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [...CLI, 'serve', '--port', '0', '--data-dir', dataDir, ...args], {
    env: { ...process.env, STRATA_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (data: Buffer) => { stderr += data.toString(); });
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}
