/**
 * The project tree's `search` language (PostHog's FileSystemViewSet._apply_search_to_queryset, spec §3.4):
 * whitespace-separated tokens, ANDed; `-`/`!` negates a token; `field:value` for path, name, user (author), type
 * and ref; anything else is a free-text term matched against the path and the type.
 *
 * Every piece of user text reaches SQL as a bound parameter, and is escaped for the operator it feeds: LIKE
 * patterns escape `\`, `%` and `_` (Postgres' default LIKE escape is the backslash); regular expressions escape
 * every ARE metacharacter, so user input is always matched literally.
 *
 * Tokens: `path:` (a parent segment contains), `name:` (the last segment contains), `user:`/`author:` (`me`, or the
 * creator's "first last" or email contains), `type:` (`x/` prefix, a hog function type, or exact), `ref:` (exact);
 * a free-text term is `path ILIKE %t% OR type ILIKE %t%`, or a `~*` regex on path or type where each `/` matches `/`
 * or `\/` when it holds a slash, or, with search_name_only, "the last segment contains". A token with an unknown
 * field is always the path/type contains of the whole token.
 *
 * Where this deliberately differs from PostHog (which matches `re.escape(value)` against the raw, escaped path with
 * a lookbehind for unescaped slashes): `path:`, `name:` and search_name_only terms match a segment's *unescaped*
 * text, with segments read exactly as splitPath reads them (`\/` and `\\` are one character, any other backslash
 * is literal, empty segments are dropped). So `name:a/b` finds a last segment stored as `a\/b` and never spans
 * the two segments of `a/b`, `a\\/b` is the segments `a\` and `b`, and `a/b/` has the last segment `b`.
 *
 * NULLs: each token's condition is two-valued (ref and created_by_id are guarded, a caller's userMatch is
 * coalesced to false), so a negated token is the exact complement, as Django's `~Q(...)` is: `-ref:x` keeps rows
 * without a ref, `-user:me` and `-user:paul` keep rows without a creator. A value containing NUL (which Postgres
 * text cannot hold) matches nothing rather than failing the query.
 */
import { type SQL, sql } from 'drizzle-orm';
import { escapeLike } from '../../db/like.js';
import { fileSystem } from '../../db/schema/file-system.js';
import { users } from '../../db/schema/users.js';

export type SearchField = 'path' | 'name' | 'user' | 'type' | 'ref';

export interface SearchToken {
  negated: boolean;
  /** The field of a `field:value` token; null for a free-text term (including a token with an unknown field). */
  field: SearchField | null;
  /**
   * For a field token: the text after the first `:`, trimmed, surrounding quotes removed. For a free-text term:
   * the token without its negation prefix and surrounding quotes (for an unknown field, the whole `foo:bar`).
   */
  value: string;
  /** The token as the tokenizer produced it (shell quoting already resolved), before the negation prefix is removed. */
  raw: string;
}

/** `type:<x>` for these means `type = 'hog_function/<x>'`. */
export const HOG_FUNCTION_TYPES: readonly string[] = [
  'broadcast',
  'campaign',
  'destination',
  'internal_destination',
  'site_app',
  'site_destination',
  'source',
  'source_webhook',
  'transformation',
];

const FIELDS: Record<string, SearchField> = { path: 'path', name: 'name', user: 'user', author: 'user', type: 'type', ref: 'ref' };

// ---------------------------------------------------------------------------------------------------------------
// Tokenizer: a port of Python's shlex.shlex(posix=True, whitespace_split=True, commenters='') and str.split().
// ---------------------------------------------------------------------------------------------------------------

/** shlex's whitespace. */
const SHLEX_WHITESPACE = new Set([' ', '\t', '\r', '\n']);

/** Python's str.isspace() characters: what str.split() and str.strip() use. */
const PYTHON_WHITESPACE =
  '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PYTHON_SPLIT = new RegExp(`[${PYTHON_WHITESPACE}]+`, 'u');
const PYTHON_STRIP = new RegExp(`^[${PYTHON_WHITESPACE}]+|[${PYTHON_WHITESPACE}]+$`, 'gu');

class UnbalancedInput extends Error {}

/**
 * shlex in POSIX mode with whitespace splitting: `quotes` open quoted runs (concatenated with their neighbours),
 * a backslash escapes the next character outside quotes, and inside double quotes only `"` and `\`.
 * Throws UnbalancedInput on an unclosed quote or a trailing backslash, as shlex raises ValueError.
 */
function shlexSplit(input: string, quotes: string): string[] {
  const tokens: string[] = [];
  let token = '';
  let inToken = false; // state 'a' (or a quoted run has been seen: an empty "" still yields a token)
  let quoted = false;
  let quote: string | null = null; // inside a quoted run
  let escapedFrom: string | null = null; // after a backslash: the state to return to
  for (const char of input) {
    if (escapedFrom !== null) {
      // Within double quotes only the quote itself and the backslash can be escaped; otherwise both are kept.
      if (escapedFrom !== 'word' && char !== '\\' && char !== escapedFrom) token += '\\';
      token += char;
      if (escapedFrom === 'word') inToken = true;
      else quote = escapedFrom;
      escapedFrom = null;
    } else if (quote !== null) {
      quoted = true;
      if (char === quote) {
        quote = null;
        inToken = true;
      } else if (char === '\\' && quote === '"') {
        escapedFrom = quote;
        quote = null;
      } else {
        token += char;
      }
    } else if (SHLEX_WHITESPACE.has(char)) {
      if (inToken || token || quoted) tokens.push(token);
      token = '';
      inToken = false;
      quoted = false;
    } else if (char === '\\') {
      escapedFrom = 'word';
    } else if (quotes.includes(char)) {
      quote = char;
      quoted = true;
    } else {
      token += char;
      inToken = true;
    }
  }
  if (quote !== null) throw new UnbalancedInput('No closing quotation');
  if (escapedFrom !== null) throw new UnbalancedInput('No escaped character');
  if (inToken || token || quoted) tokens.push(token);
  return tokens;
}

/** PostHog's tokenize_search: shlex; on unbalanced input, shlex with only `"` as a quote; then str.split(). */
export function tokenizeSearch(query: string): string[] {
  for (const quotes of ['\'"', '"']) {
    try {
      return shlexSplit(query, quotes);
    } catch (error) {
      if (!(error instanceof UnbalancedInput)) throw error;
    }
  }
  return query.split(PYTHON_SPLIT).filter((part) => part !== '');
}

function stripQuotes(text: string): string {
  if (text.length >= 1 && ((text.startsWith('"') && text.endsWith('"')) || (text.startsWith("'") && text.endsWith("'")))) {
    return text.slice(1, -1);
  }
  return text;
}

/**
 * PostHog's tokenizer: shlex (POSIX, whitespace split), retry with only " as quote on unbalanced quotes, then plain
 * split; leading - or ! negates; surrounding quotes stripped; empty tokens skipped; `field:value` split on the first
 * ':' (field case-insensitive; `author` is an alias of `user`); unknown fields keep the whole token as a plain term.
 */
export function parseSearch(query: string): SearchToken[] {
  const result: SearchToken[] = [];
  for (const raw of tokenizeSearch(query)) {
    const negated = raw.startsWith('-') || raw.startsWith('!');
    const token = stripQuotes(negated ? raw.slice(1) : raw);
    if (!token) continue;
    const colon = token.indexOf(':');
    if (colon === -1) {
      result.push({ negated, field: null, value: token, raw });
      continue;
    }
    const field = FIELDS[token.slice(0, colon).toLowerCase()];
    if (!field) {
      // Unknown field: the whole token is a free-text term (always path/type contains; see searchCondition).
      result.push({ negated, field: null, value: token, raw });
      continue;
    }
    const value = stripQuotes(token.slice(colon + 1).replace(PYTHON_STRIP, ''));
    result.push({ negated, field, value, raw });
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// SQL
// ---------------------------------------------------------------------------------------------------------------

/**
 * `text` as a literal in a Postgres ARE. Every metacharacter is preceded by a backslash, which in an ARE makes
 * any non-alphanumeric character ordinary; nothing else is touched (a backslash before a letter would be an escape).
 */
export function escapeRegex(text: string): string {
  return text.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

/**
 * One unit of a stored (escaped) path, read from a unit boundary exactly as splitPath reads it: a backslash with the
 * `/` or `\` it escapes, a lone backslash (kept literally), or any other character except the separator.
 */
const UNIT = '(?:[^/\\\\]|\\\\[/\\\\]|\\\\(?![/\\\\]))';

/**
 * A regex matching the stored form of `text` from a unit boundary: each `/` is `\/`, each backslash `\\` or a lone
 * backslash, every other character itself (literally).
 */
function storedTextRegex(text: string): string {
  let out = '';
  for (const char of text) {
    if (char === '/') out += '\\\\/';
    else if (char === '\\') out += '(?:\\\\\\\\|\\\\(?![/\\\\]))';
    else out += escapeRegex(char);
  }
  return out;
}

/**
 * The regex part "a segment that contains `text`" (unescaped text), starting at a segment start. A match may start
 * at the `/` of an escaped `\/`, but then it covers a suffix of one segment, so containment still holds: after any
 * `/` the next character starts a unit, so the units never go out of step with the stored escaping.
 */
function segmentContaining(text: string): string {
  if (text === '') return `(?:^|/)${UNIT}+`;
  return `(?:^|/)${UNIT}*${storedTextRegex(text)}${UNIT}*`;
}

/** The last segment (splitPath drops empty segments, so trailing slashes don't count) contains `text`. */
export function basenameRegex(text: string): string {
  return `${segmentContaining(text)}/*$`;
}

/** Some segment followed by another non-empty segment (a parent folder) contains `text`. */
export function parentSegmentRegex(text: string): string {
  return `${segmentContaining(text)}/+[^/]`;
}

/** A free-text term with `/`: every `/` matches a separator or an escaped slash (PostHog's `(?:/|\\/)`). */
export function slashTermRegex(term: string): string {
  return term.split('/').map(escapeRegex).join('(?:/|\\\\/)');
}

/**
 * The default user match: the row's creator (an EXISTS on users by created_by_id) has `text` in
 * "first_name last_name" or in the email, case-insensitively. False for rows without a creator.
 */
export function defaultUserMatch(text: string): SQL {
  const pattern = `%${escapeLike(text)}%`;
  return sql`exists (select 1 from ${users} where ${users.id} = ${fileSystem.createdById} and (concat(${users.firstName}, ' ', ${users.lastName}) ilike ${pattern} or ${users.email} ilike ${pattern}))`;
}

export interface SearchConditionOptions {
  currentUserId: number;
  /** `search_name_only`: free-text terms match only the last path segment. */
  searchNameOnly: boolean;
  /** A condition that the row's creator matches a user search; defaults to defaultUserMatch. */
  userMatch?: (value: string) => SQL;
}

const containsPathOrType = (text: string): SQL => {
  const pattern = `%${escapeLike(text)}%`;
  return sql`(${fileSystem.path} ilike ${pattern} or ${fileSystem.type} ilike ${pattern})`;
};

/**
 * One token's condition, never NULL: columns that can be NULL (ref, created_by_id, a caller's userMatch) are
 * guarded, so NOT of it is the exact complement (a row without a ref is kept by `-ref:x`; a row without a
 * creator by `-user:me` and `-user:paul`), as Django's negated lookups do.
 */
function tokenCondition(token: SearchToken, options: SearchConditionOptions): SQL {
  const { value } = token;
  // Postgres text can't hold NUL (binding it is an error), so no stored value can contain or equal such a value.
  if (value.includes('\u0000')) return sql`false`;
  switch (token.field) {
    case 'path':
      return sql`${fileSystem.path} ~* ${parentSegmentRegex(value)}`;
    case 'name':
      return sql`${fileSystem.path} ~* ${basenameRegex(value)}`;
    case 'user':
      if (value.toLowerCase() === 'me') {
        return sql`(${fileSystem.createdById} is not null and ${fileSystem.createdById} = ${options.currentUserId})`;
      }
      return sql`coalesce(${(options.userMatch ?? defaultUserMatch)(value)}, false)`;
    case 'type':
      if (value.endsWith('/')) return sql`${fileSystem.type} like ${`${escapeLike(value)}%`}`;
      if (HOG_FUNCTION_TYPES.includes(value)) return sql`${fileSystem.type} = ${`hog_function/${value}`}`;
      return sql`${fileSystem.type} = ${value}`;
    case 'ref':
      return sql`(${fileSystem.ref} is not null and ${fileSystem.ref} = ${value})`;
    case null:
      // A token with an unknown field (it still has its ':') is always a plain contains on path or type.
      if (value.includes(':')) return containsPathOrType(value);
      if (options.searchNameOnly) return sql`${fileSystem.path} ~* ${basenameRegex(value)}`;
      if (value.includes('/')) {
        const regex = slashTermRegex(value);
        return sql`(${fileSystem.path} ~* ${regex} or ${fileSystem.type} ~* ${regex})`;
      }
      return containsPathOrType(value);
  }
}

/**
 * The SQL condition (ANDed tokens) on the file_system table for a search, or undefined when there are no tokens.
 * `userMatch(value)` is a condition that the row's creator matches a user search (the caller joins/subqueries users);
 * the default is an EXISTS subquery on users by created_by_id. The condition is never NULL.
 */
export function searchCondition(query: string, options: SearchConditionOptions): SQL | undefined {
  const tokens = parseSearch(query);
  if (tokens.length === 0) return undefined;
  const conditions = tokens.map((token) => {
    const condition = tokenCondition(token, options);
    return token.negated ? sql`not (${condition})` : sql`(${condition})`;
  });
  return sql.join(conditions, sql` and `);
}
