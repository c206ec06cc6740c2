import { z } from 'zod';
import { ValidationError } from '../../lib/errors.js';
import { type PropertyFilter, propertyFilterSchema, propertyOperatorSchema, propertyValueSchema } from '../../db/property-filters.js';
import { hasUnstorableText } from '../../lib/postgres-text.js';
import { relativeDateWallClock } from '../../lib/relative-date.js';
import { DEFAULT_DATE_FROM, DEFAULT_LIMIT, RECORDING_ORDERS, type RecordingOrder } from './contract.js';

const filterValue = propertyValueSchema;
const operator = propertyOperatorSchema.default('exact');

export const RecordingFilterSchema = z.object({
  type: z.literal('recording'),
  key: z.enum(['duration', 'active_seconds', 'inactive_seconds', 'snapshot_source', 'visited_page']),
  operator,
  value: filterValue,
});
export const LogEntryFilterSchema = z.object({ type: z.literal('log_entry'), key: z.enum(['level', 'message']), operator, value: filterValue });
export const EventFilterSchema = z.looseObject({
  id: z.string().nullable().optional(),
  name: z.string().nullable().optional(),
  type: z.literal('events').optional(),
  properties: z.array(propertyFilterSchema).optional(),
});

/**
 * PostHog's RecordingsQuery after filter_from_params_to_query: every value JSON-decoded where it can be, unknown
 * parameters refused (its pydantic models forbid extras).
 */
const RecordingsQuerySchema = z.strictObject({
  kind: z.literal('RecordingsQuery').optional(),
  date_from: z.string().nullable().optional(),
  date_to: z.string().nullable().optional(),
  events: z.array(EventFilterSchema).nullable().optional(),
  actions: z.array(z.unknown()).nullable().optional(),
  properties: z.array(propertyFilterSchema).nullable().optional(),
  console_log_filters: z.array(LogEntryFilterSchema).nullable().optional(),
  having_predicates: z.array(RecordingFilterSchema).nullable().optional(),
  comment_text: z.object({ key: z.literal('comment_text').optional(), operator: z.enum(['exact', 'icontains', 'is_set']), value: filterValue }).nullable().optional(),
  filter_test_accounts: z.boolean().nullable().optional(),
  operand: z.enum(['AND', 'OR']).nullable().optional(),
  session_ids: z.array(z.string()).nullable().optional(),
  hide_viewed_recordings: z.enum(['current-user', 'any-user']).nullable().optional(),
  session_recording_id: z.string().nullable().optional(),
  person_uuid: z.string().nullable().optional(),
  distinct_ids: z.array(z.string()).nullable().optional(),
  order: z.enum(RECORDING_ORDERS).nullable().optional(),
  order_direction: z.enum(['ASC', 'DESC']).nullable().optional(),
  limit: z.number().int().min(1).nullable().optional(),
  offset: z.number().int().min(0).nullable().optional(),
  after: z.string().nullable().optional(),
  user_modified_filters: z.record(z.string(), z.unknown()).nullable().optional(),
  modifiers: z.unknown().optional(),
  tags: z.unknown().optional(),
  response: z.unknown().optional(),
});

/** Parameters the view drops before validating. */
const IGNORED = new Set(['as_query', 'version', 'hogql_filtering', 'add_events_to_property_queries']);

export type RecordingFilter = z.infer<typeof RecordingFilterSchema>;
export type LogEntryFilter = z.infer<typeof LogEntryFilterSchema>;
export type EventFilter = z.infer<typeof EventFilterSchema>;

/** Where a list page starts after: the last row's ordering value and session id. */
export interface Cursor {
  value: number | string;
  sessionId: string;
}

/** A bound of the date range: an instant, or a wall-clock time in the project's time zone (a relative date). */
export type DateBound = { instant: string } | { wallClock: string; timeZone: string };

export interface RecordingsQuery {
  dateFrom: DateBound | null;
  dateTo: DateBound | null;
  sessionIds: string[] | null;
  distinctIds: string[] | null;
  personUuid: string | null;
  pinned: string | null;
  hideViewed: 'current-user' | 'any-user' | null;
  filterTestAccounts: boolean;
  /** The project's test_account_filters when filterTestAccounts is on (the service fills them in); always ANDed. */
  testAccounts: PropertyFilter[];
  /** Burrow has no recording comments or actions: a comment_text filter or an action filter matches nothing. */
  matchesNothing: { comments: boolean; actions: number };
  events: EventFilter[];
  properties: PropertyFilter[];
  consoleLogFilters: LogEntryFilter[];
  having: RecordingFilter[];
  operand: 'AND' | 'OR';
  order: Exclude<RecordingOrder, 'duration' | 'surfacing_score'>;
  direction: 'ASC' | 'DESC';
  limit: number;
  offset: number;
  after: Cursor | null;
}

function decode(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** JSON-decoding can make text Postgres cannot store (`"\u0000"`), which the query string itself could not carry. */
function refuseUnstorable(value: unknown, key: string): void {
  if (typeof value === 'string' && hasUnstorableText(value)) throw new ValidationError('Null characters and lone surrogates are not allowed.', key);
  if (value !== null && typeof value === 'object') for (const inner of Object.values(value)) refuseUnstorable(inner, key);
}

/** pydantic's error list, which PostHog sends JSON-encoded as the 400's detail. */
function invalid(issues: z.core.$ZodIssue[], input: Record<string, unknown>): ValidationError {
  const errors = issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ type: 'extra_forbidden', loc: [key], msg: 'Extra inputs are not permitted', input: input[key] }));
    }
    return [{ type: issue.code as string, loc: issue.path.map(String), msg: issue.message, input: issue.path.length > 0 ? input[String(issue.path[0])] : input }];
  });
  return new ValidationError(JSON.stringify(errors));
}

export const encodeCursor = (cursor: Cursor): string => Buffer.from(JSON.stringify([cursor.value, cursor.sessionId])).toString('base64url');

function decodeCursor(text: string): Cursor {
  try {
    const [value, sessionId] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if ((typeof value === 'number' || typeof value === 'string') && typeof sessionId === 'string') return { value, sessionId };
  } catch {
    // refused below
  }
  throw new ValidationError('Invalid cursor', 'after');
}

/** A relative date (PostHog's relative_date_parse, in the project's time zone) or an ISO date (a date alone is midnight UTC). */
function dateParam(text: string | null | undefined, name: string, clock: { now: Date; timeZone: string }): DateBound | null {
  if (text === null || text === undefined || text === 'all') return null;
  const wallClock = relativeDateWallClock(text, clock.now, clock.timeZone);
  if (wallClock) return { wallClock, timeZone: clock.timeZone };
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text) : Number.NaN;
  if (Number.isNaN(ms)) throw new ValidationError(`Invalid ${name}: ${text}`, name);
  return { instant: new Date(ms).toISOString() };
}

/** The list's query string (repeated keys: the last wins, as Django's QueryDict.dict()) as a RecordingsQuery. */
export function parseRecordingsQuery(raw: Record<string, string | string[] | undefined>, clock: { now: Date; timeZone: string }): RecordingsQuery {
  const input: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined || IGNORED.has(key)) continue;
    input[key] = decode(Array.isArray(value) ? value[value.length - 1]! : value);
    refuseUnstorable(input[key], key);
  }
  // JSON-decoding turns date_from=2024 or after=123 into numbers; those fields are strings in the schema.
  for (const key of ['date_from', 'date_to', 'after', 'person_uuid', 'session_recording_id']) {
    if (typeof input[key] === 'number') input[key] = String(input[key]);
  }
  const parsed = RecordingsQuerySchema.safeParse(input);
  if (!parsed.success) throw invalid(parsed.error.issues, input);
  const q = parsed.data;
  const order = q.order === 'duration' ? 'recording_duration' : q.order === 'surfacing_score' || !q.order ? 'start_time' : q.order;
  return {
    dateFrom: dateParam(q.date_from === undefined ? DEFAULT_DATE_FROM : q.date_from, 'date_from', clock),
    dateTo: dateParam(q.date_to, 'date_to', clock),
    sessionIds: q.session_ids ?? null,
    distinctIds: q.distinct_ids ?? null,
    personUuid: q.person_uuid ?? null,
    pinned: q.session_recording_id ?? null,
    hideViewed: q.hide_viewed_recordings ?? null,
    filterTestAccounts: q.filter_test_accounts ?? false,
    testAccounts: [],
    matchesNothing: { comments: Boolean(q.comment_text), actions: q.actions?.length ?? 0 },
    events: q.events ?? [],
    properties: q.properties ?? [],
    consoleLogFilters: q.console_log_filters ?? [],
    having: q.having_predicates ?? [],
    operand: q.operand ?? 'AND',
    order,
    direction: q.order_direction ?? 'DESC',
    limit: q.limit ?? DEFAULT_LIMIT,
    offset: q.offset ?? 0,
    after: q.after ? decodeCursor(q.after) : null,
  };
}
