/**
 * `strata export --dataset ID`: saves the spans matching the filters to a Parquet dataset on
 * the server (save_spans_to_dataset), then prints how many rows were written.
 *
 * save_spans_to_dataset answers `null`; its rows are exactly query_spans' for the same
 * filters, so the count comes from query_spans asked just before the export.
 */
import { createProgress } from '../progress.ts';
import { CLIENT_FLAGS, boolFlag, commaList, flagHelp, intFlag, listFlag, parseArgs, parseFilter, stringFlag, UsageError, type FlagSpecs } from './args.ts';
import { Client, clientOptions } from './client.ts';

export const EXPORT_FLAGS: FlagSpecs = {
  ...CLIENT_FLAGS,
  dataset: { kind: 'string', value: '<id>', help: 'dataset id ([A-Za-z0-9._-]{1,128}); each export appends a Parquet part file' },
  filter: { kind: 'list', value: '<key=value>', help: 'attribute filter: key=value, key!=value, key>value, key<value' },
  attributes: { kind: 'string', value: '<a,b>', help: 'attributes to save as columns (spans lacking one are left out)' },
  'max-depth': { kind: 'string', value: '<n>', help: 'levels of each matching trace\'s tree to include' },
  json: { kind: 'boolean', help: 'print {"dataset_id", "rows"} as JSON' },
};

export const EXPORT_HELP = `usage: strata export --dataset ID [--filter key=value]... [--attributes a,b] [flags]

Saves the spans of the traces matching every filter to the Parquet dataset ID under the
server's data directory (<data dir>/datasets/ID/), readable through
GET /v1/datasetio/iterrows/ID, DuckDB, pyarrow or hyparquet.

  strata export --dataset agent-inference --filter agent_id=travel-assistant --attributes model_id,prompt_tokens

flags:
${flagHelp(EXPORT_FLAGS)}

exit codes: 0 exported, 1 the server rejected it or is unreachable, 2 usage error`;

const DATASET_ID = /^[A-Za-z0-9._-]{1,128}$/;

export async function runExport(argv: string[], env: NodeJS.ProcessEnv, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const args = parseArgs(argv, EXPORT_FLAGS);
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
  const dataset = stringFlag(args, 'dataset');
  if (dataset === undefined) throw new UsageError('missing --dataset ID');
  if (!DATASET_ID.test(dataset) || dataset === '.' || dataset === '..') throw new UsageError(`invalid --dataset ${JSON.stringify(dataset)}: expected [A-Za-z0-9._-]{1,128}`);
  const filters = listFlag(args, 'filter').map(parseFilter);
  const attributes = commaList([stringFlag(args, 'attributes') ?? '']);
  const maxDepth = intFlag(args, 'max-depth', 1);
  const client = new Client(clientOptions(args, env));

  const progress = createProgress({ total: 2, label: `export ${dataset}` });
  const query: Record<string, unknown> = { attribute_filters: filters, attributes_to_return: attributes };
  if (maxDepth !== undefined) query.max_depth = maxDepth;
  const spans = await client.json<{ data: unknown[] }>('POST', '/v1/telemetry/spans', query);
  progress.update(1);
  const body: Record<string, unknown> = { attribute_filters: filters, attributes_to_save: attributes, dataset_id: dataset };
  if (maxDepth !== undefined) body.max_depth = maxDepth;
  await client.json('POST', '/v1/telemetry/spans/export', body);
  progress.update(2);
  progress.finish();
  const rows = spans.data.length;
  if (boolFlag(args, 'json')) out.write(JSON.stringify({ dataset_id: dataset, rows }) + '\n');
  else out.write(`exported ${rows} rows to dataset ${dataset}\n`);
  return 0;
}
