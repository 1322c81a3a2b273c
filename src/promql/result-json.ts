/**
 * A query result as the body of a Prometheus /api/v1/query or /api/v1/query_range answer:
 * `{"status":"success","data":{"resultType":…,"result":…}}`.
 */
import type { QueryResult } from './result.ts';

export function encodeQueryResponse(data: QueryResult): string {
  return '{"status":"success","data":' + JSON.stringify(data) + '}';
}
