/**
 * `strata <command>`: serve | load | query | export | bench.
 * Exit codes: 0 success, 1 failure at run time, 2 usage error (unknown command or flag,
 * invalid value) or a command that is not implemented yet.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configHelp, ConfigError, loadConfig } from './config.ts';
import { log, setLogLevel } from './log.ts';
import { untilTerminated } from './server/shutdown.ts';
import { startServer } from './server/start.ts';
import { STRATA_VERSION } from './server/version.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

interface Command {
  summary: string;
  /** Full `--help` text after the summary line. */
  help: string;
  run(argv: string[], env: NodeJS.ProcessEnv): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  serve: {
    summary: 'serve the Llama Stack Telemetry and Prometheus HTTP APIs',
    help: `usage: strata serve [flags]\n\nEvery flag can also be set by its environment variable; flags win.\n\n${configHelp()}`,
    run: serve,
  },
  load: notImplemented('load', 'bulk-load events from a JSON or msgpack file'),
  query: notImplemented('query', 'run a metric or trace query and print the result'),
  export: notImplemented('export', 'export spans or metrics to Parquet'),
  bench: notImplemented('bench', 'run the benchmark suites'),
};

async function serve(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const config = loadConfig(argv, env);
  setLogLevel(config.logLevel);
  const running = await startServer(config);
  log.info(`strata ${STRATA_VERSION} listening on ${running.url}`, { dataDir: config.dataDir, auth: config.authTokensPath !== null });
  const exitCode = await untilTerminated(running.stop);
  log.info('stopped', { exitCode });
  return exitCode;
}

function notImplemented(name: string, summary: string): Command {
  return {
    summary,
    help: 'not implemented yet',
    run: async () => {
      process.stderr.write(`strata ${name}: not implemented yet\n`);
      return EXIT_USAGE;
    },
  };
}

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(8)} ${command.summary}`);
  return `strata ${STRATA_VERSION}: metrics and traces for LLM applications\n\nusage: strata <command> [flags]\n\ncommands:\n${lines.join('\n')}\n\n` +
    `strata <command> --help shows a command's flags.\nexit codes: 0 ok, 1 failure, 2 usage error or not implemented\n`;
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
    process.stdout.write(`strata ${name}: ${command.summary}\n\n${command.help}\n`);
    return EXIT_OK;
  }
  try {
    return await command.run(rest, env);
  } catch (error) {
    if (error instanceof ConfigError) {
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
