import { z } from 'zod';

/**
 * Django REST framework's LimitOffsetPagination, byte for byte: lenient parsing, absolute next/previous
 * links built from the request URL with the query re-encoded sorted by key (Python's urlencode).
 */
export const DEFAULT_LIMIT = 100;

export const PaginationQuery = z.object({
  limit: z.string().optional().meta({ description: 'Number of results to return per page.' }),
  offset: z.string().optional().meta({ description: 'The initial index from which to return the results.' }),
});

export interface PageParams {
  limit: number;
  offset: number;
}

function positiveInt(raw: unknown, allowZero: boolean): number | undefined {
  const value = Array.isArray(raw) ? raw.at(-1) : raw;
  if (typeof value !== 'string' || !/^\s*\+?\d+\s*$/.test(value)) return undefined;
  const n = Number.parseInt(value, 10);
  return n > 0 || (allowZero && n === 0) ? n : undefined;
}

export function pageParams(query: { limit?: unknown; offset?: unknown }, defaultLimit = DEFAULT_LIMIT): PageParams {
  return {
    limit: positiveInt(query.limit, false) ?? defaultLimit,
    offset: positiveInt(query.offset, true) ?? 0,
  };
}

/** Python's urllib.parse.quote_plus with its default safe set. */
export function quotePlus(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

function withQueryParam(url: string, key: string, value: string | undefined): string {
  const [base, query = ''] = url.split('?', 2) as [string, string?];
  const pairs: [string, string][] = [];
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = decodeURIComponent((eq === -1 ? part : part.slice(0, eq)).replace(/\+/g, ' '));
    const v = eq === -1 ? '' : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '));
    if (k !== key) pairs.push([k, v]);
  }
  if (value !== undefined) pairs.push([key, value]);
  // parse_qs groups repeated keys under their first occurrence; a stable sort by key keeps their order.
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const encoded = pairs.map(([k, v]) => `${quotePlus(k)}=${quotePlus(v)}`).join('&');
  return encoded ? `${base}?${encoded}` : base;
}

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

/** requestUrl is the absolute URL of the current request (see plugins/request-url.ts). */
export function buildPage<T>(requestUrl: string, params: PageParams, count: number, results: T[]): Page<T> {
  const { limit, offset } = params;
  const next =
    offset + limit >= count ? null : withQueryParam(withQueryParam(requestUrl, 'limit', String(limit)), 'offset', String(offset + limit));
  let previous: string | null = null;
  if (offset > 0) {
    const withLimit = withQueryParam(requestUrl, 'limit', String(limit));
    previous = offset - limit <= 0 ? withQueryParam(withLimit, 'offset', undefined) : withQueryParam(withLimit, 'offset', String(offset - limit));
  }
  return { count, next, previous, results };
}

export const pageSchema = <T extends z.ZodType>(item: T) =>
  z.object({
    count: z.number().int(),
    next: z.string().nullable(),
    previous: z.string().nullable(),
    results: z.array(item),
  });
