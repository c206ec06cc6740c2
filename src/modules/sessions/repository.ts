import { and, type AnyColumn, desc, eq, ilike, isNotNull, ne, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { PropertyColumn } from '../../db/property-filters.js';
import { rawSessions } from '../../db/schema/index.js';
import { SESSION_PROPERTIES, type SessionProperty, type StoredText } from './properties.js';

/** PostHog lists values from the team's 100,000 most recent sessions that have one (that match, with a search). */
const RECENT_SESSIONS = 100_000;
const TOP_VALUES = 20;

const COLUMNS = { entry_url: rawSessions.entryUrl, end_url: rawSessions.endUrl, entry_referring_domain: rawSessions.entryReferringDomain };

/** ClickHouse's path(): what follows the host up to the query or fragment; nothing when there is no `//` host. */
const pathOf = (url: AnyColumn): SQL<string | null> => sql`substring(${url} from '^[^/]*//[^/]*(/[^?#]*)')`;

function expression(stored: StoredText): SQL<string | null> {
  if ('column' in stored) return sql`${COLUMNS[stored.column]}`;
  if ('pathOf' in stored) return pathOf(COLUMNS[stored.pathOf]);
  return sql`${rawSessions.entryAttribution} ->> ${stored.attribution}`;
}

/** ClickHouse's domain(): the host of a URL, without port or credentials. */
const hostOf = (url: AnyColumn): SQL<string | null> => sql`substring(${url} from '^[^/]*//(?:[^/@]*@)?([^/:?#]*)')`;
const DURATION_SECONDS = sql`extract(epoch from (${rawSessions.endTimestamp} - ${rawSessions.startTimestamp}))`;

/** What each session property is over raw_sessions, for property filters; null for what capture does not keep. */
function propertyExpression(property: SessionProperty): SQL {
  if (property.stored) return expression(property.stored);
  switch (property.name) {
    case '$start_timestamp':
      return sql`${rawSessions.startTimestamp}`;
    case '$end_timestamp':
      return sql`${rawSessions.endTimestamp}`;
    case '$entry_hostname':
      return hostOf(rawSessions.entryUrl);
    case '$end_hostname':
      return hostOf(rawSessions.endUrl);
    case '$pageview_count':
      return sql`${rawSessions.pageviewCount}`;
    case '$autocapture_count':
      return sql`${rawSessions.autocaptureCount}`;
    case '$screen_count':
      return sql`${rawSessions.screenCount}`;
    case '$session_duration':
      return sql`floor(${DURATION_SECONDS})`;
    case '$is_bounce':
      // PostHog's v2 bounce: fewer than two pageviews, screens and autocaptures, and shorter than 10 seconds.
      return sql`(${rawSessions.pageviewCount} + ${rawSessions.screenCount} + ${rawSessions.autocaptureCount} < 2 and ${DURATION_SECONDS} < 10)`;
    default:
      return sql`null`;
  }
}

const COLUMN_TYPES = { datetime: 'datetime', string: 'string', integer: 'number', float: 'number', boolean: 'boolean' } as const;

/**
 * Every session property as a column of raw_sessions (as `"raw_sessions"."…"`), for property filters that look at a
 * session: `exists (select 1 from raw_sessions where … and <condition>)`.
 */
export const SESSION_PROPERTY_COLUMNS: Readonly<Record<string, PropertyColumn>> = Object.fromEntries(
  SESSION_PROPERTIES.map((property) => [property.name, { sql: propertyExpression(property), type: COLUMN_TYPES[property.kind] }]),
);

export function createSessionsRepository(db: Db) {
  return {
    /**
     * The team's most frequent values of a stored text property, most frequent first (ties by value, byte order), never null or
     * empty; with `contains`, only values matching ILIKE '%contains%' (its own % and _ stay wildcards, as in PostHog).
     */
    async topValues(teamId: number, stored: StoredText, contains: string | null): Promise<string[]> {
      const value = expression(stored);
      const recent = db
        .select({ value: value.as('value') })
        .from(rawSessions)
        .where(and(eq(rawSessions.teamId, teamId), isNotNull(value), ne(value, ''), contains === null ? undefined : ilike(value, `%${contains}%`)))
        .orderBy(desc(rawSessions.startTimestamp))
        .limit(RECENT_SESSIONS)
        .as('recent');
      const rows = await db
        .select({ value: recent.value })
        .from(recent)
        .groupBy(recent.value)
        .orderBy(sql`count(*) desc`, sql`${recent.value} collate "C"`)
        .limit(TOP_VALUES);
      return rows.map((row) => row.value).filter((v): v is string => v !== null);
    },
  };
}

export type SessionsRepository = ReturnType<typeof createSessionsRepository>;
