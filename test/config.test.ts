import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

const cwd = '/srv/strata';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    expect(loadConfig([], {}, cwd)).toEqual({
      host: '127.0.0.1',
      port: 8321,
      dataDir: '/srv/strata/data/store',
      authTokensPath: null,
      segmentRows: 1_000_000,
      segmentMaxAgeMs: 60_000,
      defaultTtlSeconds: 604_800,
      fsync: 'always',
      bodyLimitBytes: 16 * 1024 * 1024,
      bodyTimeoutMs: 30_000,
      ingestThreads: Math.min(4, availableParallelism()),
      retentionSweepMs: 30_000,
      shutdownTimeoutMs: 10_000,
      logLevel: 'info',
      maxSeries: 1_000_000,
      maxLabels: 64,
      maxLabelNameBytes: 256,
      maxLabelValueBytes: 1024,
      maxAttributes: 256,
      maxAttributeBytes: 1024 * 1024,
      maxSpansPerTrace: 100_000,
      maxQueryPoints: 10_000_000,
      maxPointsPerSeries: 11_000,
      maxConcurrentQueries: 64,
    });
  });

  it('reads STRATA_* environment variables and resolves paths against the working directory', () => {
    const config = loadConfig([], {
      STRATA_HOST: '0.0.0.0',
      STRATA_PORT: '9000',
      STRATA_DATA_DIR: 'var/data',
      STRATA_AUTH_TOKENS: '/etc/strata/tokens.json',
      STRATA_SEGMENT_ROWS: '50_000',
      STRATA_SEGMENT_MAX_AGE_MS: '1000',
      STRATA_DEFAULT_TTL_SECONDS: '60',
      STRATA_FSYNC: 'batch',
      STRATA_BODY_LIMIT_BYTES: '2MiB',
      STRATA_RETENTION_SWEEP_MS: '500',
      STRATA_LOG_LEVEL: 'debug',
    }, cwd);
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      dataDir: '/srv/strata/var/data',
      authTokensPath: '/etc/strata/tokens.json',
      segmentRows: 50_000,
      segmentMaxAgeMs: 1000,
      defaultTtlSeconds: 60,
      fsync: 'batch',
      bodyLimitBytes: 2 * 1024 * 1024,
      retentionSweepMs: 500,
      logLevel: 'debug',
    });
  });

  it('lets flags override the environment, in both --flag value and --flag=value forms', () => {
    const env = { STRATA_PORT: '9000', STRATA_FSYNC: 'batch', STRATA_DATA_DIR: '/env/dir' };
    const config = loadConfig(['--port', '9100', '--fsync=off', '--data-dir', 'flag/dir', '--auth-tokens=tokens.json'], env, cwd);
    expect(config).toMatchObject({ port: 9100, fsync: 'off', dataDir: '/srv/strata/flag/dir', authTokensPath: '/srv/strata/tokens.json' });
  });

  it('treats an empty environment variable as unset', () => {
    expect(loadConfig([], { STRATA_AUTH_TOKENS: '', STRATA_PORT: '' }, cwd)).toMatchObject({ authTokensPath: null, port: 8321 });
  });

  it.each([
    [[], { STRATA_PORT: 'eighty' }, 'invalid STRATA_PORT "eighty": expected an integer from 0 to 65535'],
    [['--port', '70000'], {}, 'invalid --port "70000": expected an integer from 0 to 65535'],
    [[], { STRATA_FSYNC: 'sometimes' }, 'invalid STRATA_FSYNC "sometimes": expected one of always, batch, off'],
    [['--segment-rows', '0'], {}, 'invalid --segment-rows "0"'],
    [['--segment-rows', '1.5'], {}, 'invalid --segment-rows "1.5"'],
    [[], { STRATA_BODY_LIMIT_BYTES: '16 megs' }, 'invalid STRATA_BODY_LIMIT_BYTES "16 megs": expected a positive number of bytes'],
    [[], { STRATA_DEFAULT_TTL_SECONDS: '-5' }, 'invalid STRATA_DEFAULT_TTL_SECONDS "-5"'],
    [['--log-level', 'loud'], {}, 'invalid --log-level "loud": expected one of debug, info, warn, error, silent'],
    [['--host', ' '], {}, 'invalid --host " ": expected a non-empty value'],
    [['--prot', '1'], {}, 'unknown flag --prot'],
    [['--port'], {}, '--port needs a value'],
    [['serve'], {}, 'unexpected argument "serve"'],
  ])('rejects %j %j with a message naming the source', (argv, env, message) => {
    expect(() => loadConfig(argv, env, cwd)).toThrow(ConfigError);
    expect(() => loadConfig(argv, env, cwd)).toThrow(message);
  });
});
