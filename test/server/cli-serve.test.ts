import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = ['--import', 'tsx', fileURLToPath(new URL('../../src/cli.ts', import.meta.url))];

function runCli(args: string[]) {
  return spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', env: { ...process.env, STRATA_LOG_LEVEL: 'info' } });
}

describe('strata CLI', () => {
  it('serves until SIGTERM, then drains and exits 0', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'strata-cli-'));
    const child = spawn(process.execPath, [...CLI, 'serve', '--port', '0', '--data-dir', dataDir], {
      env: { ...process.env, STRATA_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (data: Buffer) => {
        stderr += data.toString();
        const match = /listening on (http:\/\/\S+)/.exec(stderr);
        if (match) resolve(match[1]!);
      });
      exited.then(() => reject(new Error(`serve exited early:\n${stderr}`)));
    });

    const health = await fetch(`${url}/health`);
    expect(await health.json()).toEqual({ status: 'OK' });

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain('SIGTERM received: shutting down');
  });

  it('prints help per command and exits 0', () => {
    const result = runCli(['serve', '--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('--data-dir <dir>');
    expect(result.stdout).toContain('STRATA_DATA_DIR');
    expect(runCli(['--help']).stdout).toMatch(/serve[\s\S]*load[\s\S]*query[\s\S]*export[\s\S]*bench/);
  });

  it('exits 2 on usage errors, naming the problem', () => {
    const badPort = runCli(['serve', '--port', 'abc']);
    expect(badPort.status).toBe(2);
    expect(badPort.stderr).toContain('invalid --port "abc"');
    const unknown = runCli(['frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    expect(runCli([]).status).toBe(2);
  });

  it('exits 2 for a client command without its arguments', () => {
    const result = runCli(['load']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('strata load: missing FILE');
  });
});
