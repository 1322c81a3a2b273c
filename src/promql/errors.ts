/**
 * Error types as the Prometheus HTTP API reports them: `bad_data` for anything wrong with
 * the request (parse errors, unsupported constructs, bad parameters), `execution` for
 * failures while evaluating a valid query (e.g. many-to-many matching).
 */
export type PromQLErrorType = 'bad_data' | 'execution';

export class PromQLError extends Error {
  constructor(
    readonly type: PromQLErrorType,
    message: string,
  ) {
    super(message);
    this.name = 'PromQLError';
  }
}

export function badData(message: string): PromQLError {
  return new PromQLError('bad_data', message);
}

export function executionError(message: string): PromQLError {
  return new PromQLError('execution', message);
}

/** A parse error worded like Prometheus' ParseErr: `<line>:<col>: parse error: <msg>`. */
export function parseError(query: string, pos: number, message: string): PromQLError {
  let line = 1;
  let lastLineBreak = -1;
  for (let i = 0; i < pos && i < query.length; i++) {
    if (query[i] === '\n') {
      line++;
      lastLineBreak = i;
    }
  }
  return badData(`${line}:${pos - lastLineBreak}: parse error: ${message}`);
}
