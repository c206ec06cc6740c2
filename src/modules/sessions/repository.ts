import { and, type AnyColumn, desc, eq, ilike, isNotNull, ne, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { rawSessions } from '../../db/schema/index.js';
import type { StoredText } from './properties.js';

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
