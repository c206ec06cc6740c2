import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Page, PageParams } from '../lib/wire.js';
import { query } from './query.js';

/**
 * Django REST framework's LimitOffsetPagination, byte for byte: lenient parsing, absolute next/previous
 * links built from the request URL with the query re-encoded sorted by key (Python's urlencode).
 */
export const DEFAULT_LIMIT = 100;

export const PaginationQuery = z.object({
  limit: query.pageLimit({ description: 'Number of results to return per page.' }),
  offset: query.pageOffset({ description: 'The initial index from which to return the results.' }),
});

/** The page a request asks for: its parsed limit and offset (see http/query.ts), or the defaults. */
export function pageParams(requested: { limit?: number | undefined; offset?: number | undefined }, defaultLimit = DEFAULT_LIMIT): PageParams {
  return { limit: requested.limit ?? defaultLimit, offset: requested.offset ?? 0 };
}

/** Python's urllib.parse.quote_plus with its default safe set. */
export function quotePlus(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/**
 * Python's urllib.parse.unquote_plus: "+" is a space, each run of %XX escapes is UTF-8 (undecodable bytes become
 * U+FFFD) and a "%" that starts no valid escape stays as it is, so any query string a client sends can be re-encoded.
 */
function unquotePlus(value: string): string {
  return value.replace(/\+/g, ' ').replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'));
}

export function withQueryParam(url: string, key: string, value: string | undefined): string {
  const [base, query = ''] = url.split('?', 2) as [string, string?];
  const pairs: [string, string][] = [];
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = unquotePlus(eq === -1 ? part : part.slice(0, eq));
    const v = eq === -1 ? '' : unquotePlus(part.slice(eq + 1));
    if (k !== key) pairs.push([k, v]);
  }
  if (value !== undefined) pairs.push([key, value]);
  // parse_qs groups repeated keys under their first occurrence; a stable sort by key keeps their order.
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const encoded = pairs.map(([k, v]) => `${quotePlus(k)}=${quotePlus(v)}`).join('&');
  return encoded ? `${base}?${encoded}` : base;
}

/** requestUrl is the absolute URL of the current request (see request-context.ts). */
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

/** A DRF page of results for this request, with its absolute next and previous links. */
export function paginated<T>(request: FastifyRequest, page: PageParams, count: number, results: T[]): Page<T> {
  return buildPage(request.absoluteUrl(), page, count, results);
}
