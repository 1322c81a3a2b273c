/**
 * `strata <command>`: serve | load | query | export | bench.
 * Exit codes: 0 success, 1 failure at run time (the server rejected a request or is
 * unreachable, a record is malformed), 2 usage error (unknown command or flag, invalid value).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configHelp, ConfigError, loadConfig } from './config.ts';
import { log, setLogLevel } from './log.ts';
import { STRATA_VERSION } from './server/version.ts';
import { UsageError } from './cli/args.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

interface Command {
  summary: string;
  /** Full `--help` text after the summary line. Commands load their modules lazily: a client command starts fast. */
  help(): Promise<string>;
  run(argv: string[], env: NodeJS.ProcessEnv): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  serve: {
    summary: 'serve the Llama Stack Telemetry and Prometheus HTTP APIs',
    help: async () => `usage: strata serve [flags]\n\nEvery flag can also be set by its environment variable; flags win.\n\n${configHelp()}`,
    run: serve,
  },
  load: {
    summary: 'bulk-load events (JSON lines or msgpack) into a running server',
    help: async () => (await import('./cli/load.ts')).LOAD_HELP,
    run: async (argv, env) => (await import('./cli/load.ts')).runLoad(argv, env),
  },
  query: {
    summary: 'run a PromQL, metric, trace or span query; table or JSON',
    help: async () => (await import('./cli/query.ts')).QUERY_HELP,
    run: async (argv, env) => (await import('./cli/query.ts')).runQuery(argv, env),
  },
  export: {
    summary: 'save matching spans to a Parquet dataset',
    help: async () => (await import('./cli/export.ts')).EXPORT_HELP,
    run: async (argv, env) => (await import('./cli/export.ts')).runExport(argv, env),
  },
  bench: {
    summary: 'run the benchmark suites and print the table',
    help: async () => (await import('./cli/bench.ts')).BENCH_HELP,
    run: async (argv, env) => (await import('./cli/bench.ts')).runBenchCommand(argv, env),
  },
};

async function serve(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const config = loadConfig(argv, env);
  setLogLevel(config.logLevel);
  const [{ startServer }, { untilTerminated }] = await Promise.all([import('./server/start.ts'), import('./server/shutdown.ts')]);
  const running = await startServer(config);
  log.info(`strata ${STRATA_VERSION} listening on ${running.url}`, { dataDir: config.dataDir, auth: config.authTokensPath !== null });
  const exitCode = await untilTerminated(running.stop);
  log.info('stopped', { exitCode });
  return exitCode;
}

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(8)} ${command.summary}`);
  return `strata ${STRATA_VERSION}: metrics and traces for LLM applications\n\nusage: strata <command> [flags]\n\ncommands:\n${lines.join('\n')}\n\n` +
    `strata <command> --help shows a command's flags.\nexit codes: 0 ok, 1 failure (rejected, unreachable), 2 usage error\n`;
}

function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    (name === undefined ? process.stderr : process.stdout).write(usage());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version') {
    process.stdout.write(`${STRATA_VERSION}\n`);
    return EXIT_OK;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(`strata: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return EXIT_USAGE;
  }
  if (wantsHelp(rest)) {
    process.stdout.write(`strata ${name}: ${command.summary}\n\n${await command.help()}\n`);
    return EXIT_OK;
  }
  try {
    return await command.run(rest, env);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError) {
      process.stderr.write(`strata ${name}: ${error.message}\n(see strata ${name} --help)\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`strata ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    log.debug('failure detail', { error });
    return EXIT_FAILURE;
  }
}

function invokedDirectly(): boolean {
  const entry = process.argv[1];
  return entry !== undefined && realpathSync(entry) === fileURLToPath(import.meta.url);
}

if (invokedDirectly()) {
  // exit() rather than letting the loop drain: timers or sockets left by a feature must not keep a stopped server alive.
  main(process.argv.slice(2), process.env).then((code) => process.exit(code));
}
