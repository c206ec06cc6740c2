import { fieldsOf, isJsonObject } from '../rules.js';
import type { Row } from './tabular.js';

/** A fresh internal credential for each call, so a long export never outlives one. */
export type Credential = () => Promise<string>;

export interface PathSourceDeps {
  get(path: string, headers: Record<string, string>): Promise<{ statusCode: number; body: string }>;
}

/** Rows of one API response, as PostHog's _convert_response_to_csv_data for the shapes Burrow's API answers. */
export function rowsOfResponse(data: unknown): Row[] {
  if (Array.isArray(data)) return data.map((r) => (isJsonObject(r) ? r : { value: r }));
  const body = fieldsOf(data);
  const results = Array.isArray(body.results) ? body.results : Array.isArray(body.result) ? body.result : null;
  if (!results) return [];
  if (results.length > 0 && Array.isArray(results[0]) && body.types) {
    const columns = Array.isArray(body.columns) ? (body.columns as string[]) : null;
    return results.map((r) => Object.fromEntries((r as unknown[]).map((v, i) => [columns?.[i] ?? `column_${i}`, v])));
  }
  return results.filter(isJsonObject);
}

/** The path and query of a next link (an absolute URL of this server, or already a path). */
function pathOf(next: string): string {
  if (next.startsWith('/')) return next;
  const url = new URL(next);
  return `${url.pathname}${url.search}`;
}

const describe = (body: string): string => {
  try {
    const parsed = JSON.parse(body) as { detail?: unknown; error?: unknown };
    if (typeof parsed.detail === 'string') return parsed.detail;
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // not JSON
  }
  return body.slice(0, 200);
};

/**
 * export_context.path: calls Burrow's own API with the creator's internal credential, following every next link
 * (PostHog's get_from_insights_api). A 404 after the first page ends the rows there; any other error fails the export.
 */
export async function* pathRows(deps: PathSourceDeps, path: string, credential: Credential, signal: AbortSignal): AsyncGenerator<Row> {
  let next: string | null = path;
  let pages = 0;
  while (next) {
    signal.throwIfAborted();
    const response = await deps.get(next, { authorization: `Bearer ${await credential()}` });
    if (response.statusCode === 404 && pages > 0) return;
    if (response.statusCode < 200 || response.statusCode >= 300) {
      throw new Error(`Calling ${path} failed with status ${response.statusCode}: ${describe(response.body)}`);
    }
    pages += 1;
    const data = JSON.parse(response.body) as unknown;
    const rows = rowsOfResponse(data);
    yield* rows;
    const link = fieldsOf(data).next;
    next = typeof link === 'string' && link !== '' && rows.length > 0 ? pathOf(link) : null;
  }
}
