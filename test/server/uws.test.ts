import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { usingNativeUws } from '../../src/server/uws.ts';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

describe('uWebSockets.js loading', () => {
  it('loads the native build here (benchmarks depend on it)', () => {
    expect(usingNativeUws()).toBe(true);
  });

  it('warns at startup when only the pure-JS fallback loaded', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--port', '0'], {
      env: { ...process.env, UWS_USE_FALLBACK: '1', STRATA_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const stderr = await new Promise<string>((resolve) => {
      let text = '';
      const timer = setTimeout(() => resolve(text), 15_000);
      child.stderr.on('data', (data: Buffer) => {
        text += data.toString();
        if (text.includes('WARN')) {
          clearTimeout(timer);
          resolve(text);
        }
      });
    });
    child.kill('SIGKILL');
    expect(stderr).toMatch(/WARN uWebSockets\.js native binary not loaded/);
  });
});
