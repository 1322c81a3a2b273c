/** Starts the real server in-process on a free port with a fresh data directory. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config.ts';
import { startServer, type RunningServer } from '../../src/server/start.ts';

export interface TestServer extends RunningServer {
  dataDir: string;
  config: Config;
  cleanup(): Promise<void>;
}

export async function startTestServer(args: string[] = [], env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'strata-e2e-'));
  const config = loadConfig(['--port', '0', '--data-dir', dataDir, ...args], { STRATA_LOG_LEVEL: 'error', ...env });
  const running = await startServer(config);
  return {
    ...running, dataDir, config,
    async cleanup() {
      await running.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
