/** `strata bench [SUITE...]`: runs the benchmark suites in bench/ (see bench/run.ts) and prints the table. */
import { boolFlag, flagHelp, parseArgs, type FlagSpecs } from './args.ts';

export const BENCH_FLAGS: FlagSpecs = {
  list: { kind: 'boolean', help: 'list the suites and exit' },
};

export const BENCH_HELP = `usage: strata bench [--list] [SUITE...]

Runs every benchmark suite in bench/ (or only the SUITEs named), each in its own process,
writes bench/results/<suite>.json and bench/results/summary.md, and prints a combined
markdown table. Suites print their progress to stderr; the report goes to stdout.

flags:
${flagHelp(BENCH_FLAGS)}

exit codes: 0 every suite ran, 1 a suite failed (the others still ran), 2 usage error`;

export async function runBenchCommand(argv: string[], _env: NodeJS.ProcessEnv, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const args = parseArgs(argv, BENCH_FLAGS);
  const { listSuites, runBenches } = await import('../../bench/run.ts');
  if (boolFlag(args, 'list')) {
    out.write(listSuites().join('\n') + '\n');
    return 0;
  }
  const known = listSuites();
  const unknown = args.positionals.filter((s) => !known.includes(s));
  if (unknown.length) {
    const { UsageError } = await import('./args.ts');
    throw new UsageError(`unknown suite(s) ${unknown.join(', ')}; have: ${known.join(', ')}`);
  }
  const results = await runBenches({ only: args.positionals, out });
  return results.some((r) => r.status === 'failed') ? 1 : 0;
}
