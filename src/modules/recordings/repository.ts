import { type SQL, sql } from 'drizzle-orm';
import { type Db, queryRows } from '../../db/client.js';
import {
  assertRegexesCompile,
  columnCondition,
  mappedPropertyCondition,
  type PropertyColumn,
  type PropertyFilter,
  propertyCondition,
} from '../../db/property-filters.js';
import { SESSION_PROPERTY_COLUMNS } from '../sessions/index.js';
import type { Cursor, DateBound, EventFilter, LogEntryFilter, RecordingFilter, RecordingsQuery } from './list-query.js';

/** A recording's row as the list and retrieve read it: the stored aggregates plus what PostHog derives from them. */
export interface RecordingRow {
  session_id: string;
  distinct_id: string;
  start_time: string;
  end_time: string;
  duration: number;
  active_milliseconds: number;
  click_count: number;
  keypress_count: number;
  mouse_activity_count: number;
  console_log_count: number;
  console_warn_count: number;
  console_error_count: number;
  first_url: string | null;
  urls: string[];
  retention_period_days: number | null;
  expiry_time: string;
  recording_ttl: number;
  snapshot_source: string;
  snapshot_library: string;
  ongoing: boolean;
  activity_score: number;
  /** The ordering value of the list's order, for its cursor. */
  order_value: number | string;
}

export interface PersonRow {
  distinct_id: string;
  id: number;
  uuid: string;
  properties: Record<string, unknown>;
  created_at: string;
  distinct_ids: string[];
}

export interface BlockRow {
  blob_key: string;
  first_timestamp: string;
  last_timestamp: string;
}

// dateDiff('SECOND', start, end) counts second boundaries, as does this.
const DURATION = sql`(floor(extract(epoch from r.end_time)) - floor(extract(epoch from r.start_time)))::int`;
const ACTIVE_SECONDS = sql`(r.active_milliseconds / 1000.0)`;
const EXPIRY = sql`(date_trunc('day', r.start_time at time zone 'UTC') + make_interval(days => coalesce(r.retention_period_days, 30))) at time zone 'UTC'`;
const ACTIVITY_SCORE = sql`coalesce(round((100 * (${ACTIVE_SECONDS} + r.click_count + r.keypress_count + r.console_error_count)
  / nullif(r.mouse_activity_count + ${DURATION} + r.console_error_count + r.console_log_count + r.console_warn_count, 0))::numeric, 2), 0)::float8`;
const TTL = sql`((${EXPIRY})::date - (now() at time zone 'UTC')::date)`;

/** What each `order` sorts on (the list's inactive_seconds is not clamped at 0, as PostHog's is not). */
const ORDER_EXPRESSIONS: Record<RecordingsQuery['order'], SQL> = {
  start_time: sql`r.start_time`,
  recording_duration: DURATION,
  active_seconds: sql`trunc(${ACTIVE_SECONDS})::int`,
  inactive_seconds: sql`trunc(${DURATION} - ${ACTIVE_SECONDS})::int`,
  console_error_count: sql`r.console_error_count`,
  click_count: sql`r.click_count`,
  keypress_count: sql`r.keypress_count`,
  mouse_activity_count: sql`r.mouse_activity_count`,
  activity_score: ACTIVITY_SCORE,
  recording_ttl: TTL,
};

const columns = (orderValue: SQL) => sql`r.session_id, r.distinct_id, r.start_time::text as start_time, r.end_time::text as end_time,
  ${DURATION} as duration, r.active_milliseconds, r.click_count, r.keypress_count, r.mouse_activity_count,
  r.console_log_count, r.console_warn_count, r.console_error_count, r.first_url, r.urls, r.retention_period_days,
  (${EXPIRY})::text as expiry_time, ${TTL} as recording_ttl, r.snapshot_source, r.snapshot_library,
  r.last_ingested_at >= now() - interval '5 minutes' as ongoing, ${ACTIVITY_SCORE} as activity_score, ${orderValue} as order_value`;

/** A recording that can be read: not deleted, started, not past its retention. */
const readable = (teamId: number) => sql`r.team_id = ${teamId} and r.deleted_at is null and r.start_time <= now() and ${EXPIRY} >= now()`;

/** A list as one array parameter (drizzle spreads a plain array into a parameter list). */
const textArray = (list: string[]) => sql`${sql.param(list)}::text[]`;

/** having_predicates: conditions on the recording's own aggregates, with the operators of property filters. */
const RECORDING_COLUMNS: Record<Exclude<RecordingFilter['key'], 'visited_page'>, PropertyColumn> = {
  duration: { sql: DURATION, type: 'number' },
  active_seconds: { sql: ACTIVE_SECONDS, type: 'number' },
  inactive_seconds: { sql: sql`(${DURATION} - ${ACTIVE_SECONDS})`, type: 'number' },
  snapshot_source: { sql: sql`r.snapshot_source`, type: 'string' },
};

function recordingCondition(filter: RecordingFilter): SQL {
  if (filter.key !== 'visited_page') return columnCondition(filter, RECORDING_COLUMNS[filter.key]);
  // visited_page: any of the recording's URLs.
  return sql`exists (select 1 from jsonb_array_elements_text(r.urls) as u(url) where ${columnCondition(filter, { sql: sql`u.url`, type: 'string' })})`;
}

function consoleCondition(filter: LogEntryFilter): SQL {
  const column = { sql: filter.key === 'level' ? sql`c.level` : sql`c.message`, type: 'string' } as const;
  return sql`exists (select 1 from recording_console_logs c where c.team_id = r.team_id and c.session_id = r.session_id and ${columnCondition(filter, column)})`;
}

/** An event of the filter's name (any event without one) and with its properties, as an `e.` condition. */
function eventMatch(filter: EventFilter, timeZone: string): SQL {
  const name = filter.id ?? filter.name ?? null;
  const properties = (filter.properties ?? []).map((property) => propertyCondition(property, sql`e.properties`, { timeZone }));
  return sql.join([name === null ? sql`true` : sql`e.event = ${name}`, ...properties], sql` and `);
}

const sessionEvent = (condition: SQL) => sql`exists (select 1 from events e where e.team_id = r.team_id and e.session_id = r.session_id and ${condition})`;

/** Event filters look in the session's events, person filters at the recording's person (by its distinct id), session filters at its session. */
function propertyFilterCondition(filter: PropertyFilter, timeZone: string): SQL {
  if (filter.type === 'event') return sessionEvent(propertyCondition(filter, sql`e.properties`, { timeZone }));
  if (filter.type === 'person') {
    return sql`exists (select 1 from person_distinct_ids pd join persons p on p.id = pd.person_id
      where pd.team_id = r.team_id and pd.distinct_id = r.distinct_id and ${propertyCondition(filter, sql`p.properties`, { timeZone })})`;
  }
  return sql`exists (select 1 from raw_sessions where raw_sessions.team_id = r.team_id and raw_sessions.session_id = r.session_id
    and ${mappedPropertyCondition(filter, SESSION_PROPERTY_COLUMNS, { timeZone })})`;
}

const boundOf = (bound: DateBound) => ('instant' in bound ? sql`${bound.instant}::timestamptz` : sql`(${bound.wallClock}::timestamp at time zone ${bound.timeZone})`);

/** Every filter of the query that compares, for their regexes to be checked before it runs. */
const allComparisons = (q: Pick<RecordingsQuery, 'properties' | 'events'> & Partial<Pick<RecordingsQuery, 'consoleLogFilters' | 'having' | 'testAccounts'>>) => [
  ...q.properties,
  ...(q.testAccounts ?? []),
  ...q.events.flatMap((event) => event.properties ?? []),
  ...(q.consoleLogFilters ?? []),
  ...(q.having ?? []),
];

function combine(conditions: SQL[], operand: 'AND' | 'OR'): SQL {
  if (conditions.length === 0) return sql`true`;
  return sql`(${sql.join(conditions, sql.raw(operand === 'AND' ? ' and ' : ' or '))})`;
}

function afterCondition(order: SQL, direction: 'ASC' | 'DESC', cursor: Cursor): SQL {
  const comparison = sql.raw(direction === 'DESC' ? '<' : '>');
  return sql`(${order}, r.session_id) ${comparison} (${cursor.value}, ${cursor.sessionId})`;
}

export function createRecordingsRepository(db: Db) {
  /** The filters of a list query that decide whether a recording matches, the date range and ids included. */
  function matching(teamId: number, userId: number | null, q: RecordingsQuery, timeZone: string): SQL {
    const required: SQL[] = [readable(teamId)];
    if (q.dateFrom) required.push(sql`r.start_time >= ${boundOf(q.dateFrom)}`);
    if (q.dateTo) required.push(sql`r.start_time <= ${boundOf(q.dateTo)}`);
    if (q.sessionIds) required.push(sql`r.session_id = any(${textArray(q.sessionIds)})`);
    if (q.distinctIds) required.push(sql`r.distinct_id = any(${textArray(q.distinctIds)})`);
    else if (q.personUuid) {
      required.push(sql`r.distinct_id in (select pd.distinct_id from person_distinct_ids pd join persons p on p.id = pd.person_id
        where p.team_id = ${teamId} and p.uuid::text = ${q.personUuid})`);
    }
    if (q.hideViewed && !q.sessionIds) {
      const whose = q.hideViewed === 'current-user' ? sql`and v.user_id = ${userId ?? -1}` : sql``;
      required.push(sql`not exists (select 1 from session_recording_viewed v where v.team_id = r.team_id and v.session_id = r.session_id ${whose})`);
    }
    if (q.matchesNothing.comments) required.push(sql`false`);
    required.push(...q.testAccounts.map((filter) => propertyFilterCondition(filter, timeZone)));
    const optional = [
      ...q.events.map((event) => sessionEvent(eventMatch(event, timeZone))),
      ...q.properties.map((filter) => propertyFilterCondition(filter, timeZone)),
      ...Array.from({ length: q.matchesNothing.actions }, () => sql`false`),
      ...q.consoleLogFilters.map(consoleCondition),
      ...q.having.map(recordingCondition),
    ];
    return sql`${sql.join(required, sql` and `)} and ${combine(optional, q.operand)}`;
  }

  function orderOf(q: RecordingsQuery): SQL {
    return q.sessionIds ? sql`array_position(${textArray(q.sessionIds)}, r.session_id::text)` : ORDER_EXPRESSIONS[q.order];
  }

  return {
    /** One page of the list, `limit + 1` rows so the caller knows whether there is another. */
    async list(teamId: number, userId: number | null, q: RecordingsQuery, timeZone: string): Promise<RecordingRow[]> {
      await assertRegexesCompile(db, allComparisons(q));
      const order = orderOf(q);
      // With session_ids the list keeps their order, whatever `order` says.
      const direction = q.sessionIds ? 'ASC' : q.direction;
      const after = q.after ? sql`and ${afterCondition(order, direction, q.after)}` : sql``;
      return queryRows<RecordingRow>(
        db,
        sql`select ${columns(q.sessionIds || q.order !== 'start_time' ? order : sql`r.start_time::text`)} from session_recordings r where ${matching(teamId, userId, q, timeZone)} ${after}
          order by ${order} ${sql.raw(direction)}, r.session_id ${sql.raw(direction)} limit ${q.limit + 1} offset ${q.offset}`,
      );
    },

    /** The recording when the list query's filters match it. */
    async matches(teamId: number, userId: number | null, q: RecordingsQuery, sessionId: string, timeZone: string): Promise<boolean> {
      const rows = await queryRows(db, sql`select 1 from session_recordings r where r.session_id = ${sessionId} and ${matching(teamId, userId, q, timeZone)}`);
      return rows.length > 0;
    },

    /**
     * The events of a session that match one of the event filters (an action matches none) and every event property
     * filter, oldest first.
     */
    async matchingEvents(
      teamId: number,
      sessionId: string,
      filters: { events: EventFilter[]; properties: PropertyFilter[]; actions: number },
      timeZone: string,
    ): Promise<{ uuid: string; timestamp: string }[]> {
      await assertRegexesCompile(db, allComparisons(filters));
      const kinds = [...filters.events.map((event) => eventMatch(event, timeZone)), ...Array.from({ length: filters.actions }, () => sql`false`)];
      const properties = filters.properties.map((filter) => propertyCondition(filter, sql`e.properties`, { timeZone }));
      return queryRows(
        db,
        sql`select e.uuid::text as uuid, e.timestamp::text as timestamp from events e where e.team_id = ${teamId} and e.session_id = ${sessionId}
          and ${kinds.length > 0 ? sql`(${sql.join(kinds, sql` or `)})` : sql`true`} ${sql.join(properties.map((p) => sql`and ${p}`), sql` `)}
          order by e.timestamp, e.uuid`,
      );
    },

    /** The properties of the session's latest event, or null when it has none. */
    async latestEventProperties(teamId: number, sessionId: string): Promise<Record<string, unknown> | null> {
      const [row] = await queryRows<{ properties: Record<string, unknown> }>(
        db,
        sql`select properties from events where team_id = ${teamId} and session_id = ${sessionId} order by timestamp desc limit 1`,
      );
      return row?.properties ?? null;
    },

    /** A readable recording, or null. */
    async find(teamId: number, sessionId: string): Promise<RecordingRow | null> {
      const [row] = await queryRows<RecordingRow>(
        db,
        sql`select ${columns(sql`r.start_time`)} from session_recordings r where ${readable(teamId)} and r.session_id = ${sessionId}`,
      );
      return row ?? null;
    },

    /** Which of the ids are readable recordings of the team. */
    async existing(teamId: number, sessionIds: string[]): Promise<Set<string>> {
      const rows = await queryRows<{ session_id: string }>(
        db,
        sql`select r.session_id from session_recordings r where ${readable(teamId)} and r.session_id = any(${textArray(sessionIds)})`,
      );
      return new Set(rows.map((row) => row.session_id));
    },

    /** The persons of these distinct ids, with up to 10 of each one's distinct ids (identified-looking ones first). */
    async persons(teamId: number, distinctIds: string[]): Promise<PersonRow[]> {
      if (distinctIds.length === 0) return [];
      return queryRows<PersonRow>(
        db,
        sql`select pd.distinct_id, p.id, p.uuid::text as uuid, p.properties, p.created_at::text as created_at,
            (select array_agg(o.distinct_id order by o.distinct_id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-' , o.distinct_id)
              from (select distinct_id from person_distinct_ids where person_id = p.id order by distinct_id limit 10) o) as distinct_ids
          from person_distinct_ids pd join persons p on p.id = pd.person_id
          where pd.team_id = ${teamId} and pd.distinct_id = any(${textArray(distinctIds)})`,
      );
    },

    /** Who has viewed these recordings: user ids and emails per session. */
    async viewers(teamId: number, sessionIds: string[]): Promise<{ session_id: string; user_id: number; email: string }[]> {
      if (sessionIds.length === 0) return [];
      return queryRows(
        db,
        sql`select v.session_id, v.user_id, u.email from session_recording_viewed v join users u on u.id = v.user_id
          where v.team_id = ${teamId} and v.session_id = any(${textArray(sessionIds)}) order by v.created_at, u.email`,
      );
    },

    /** Marks recordings viewed by the user; answers how many were not before. */
    async markViewed(teamId: number, userId: number, sessionIds: string[], bulk: boolean): Promise<number> {
      const rows = await queryRows(
        db,
        sql`insert into session_recording_viewed (team_id, user_id, session_id, bulk_viewed)
          select ${teamId}, ${userId}, id, ${bulk} from unnest(${textArray(sessionIds)}) as ids(id)
          on conflict do nothing returning session_id`,
      );
      return rows.length;
    },

    async markNotViewed(teamId: number, userId: number, sessionIds: string[]): Promise<number> {
      const rows = await queryRows(
        db,
        sql`delete from session_recording_viewed where team_id = ${teamId} and user_id = ${userId} and session_id = any(${textArray(sessionIds)})
          returning session_id`,
      );
      return rows.length;
    },

    /** Soft-deletes readable recordings; answers the ids deleted. */
    async softDelete(teamId: number, sessionIds: string[], deletedBy: string): Promise<string[]> {
      const rows = await queryRows<{ session_id: string }>(
        db,
        sql`update session_recordings r set deleted_at = now(), deleted_by = ${deletedBy}
          where ${readable(teamId)} and r.session_id = any(${textArray(sessionIds)}) returning r.session_id`,
      );
      return rows.map((row) => row.session_id);
    },

    /** The blocks of a readable recording, in time order: their index is the snapshot API's blob_key. */
    async blocks(teamId: number, sessionId: string): Promise<BlockRow[]> {
      return queryRows<BlockRow>(
        db,
        sql`select b.blob_key, b.first_timestamp::text as first_timestamp, b.last_timestamp::text as last_timestamp
          from recording_blocks b join session_recordings r on r.team_id = b.team_id and r.session_id = b.session_id
          where ${readable(teamId)} and b.team_id = ${teamId} and b.session_id = ${sessionId}
          order by b.first_timestamp, b.id`,
      );
    },
  };
}

export type RecordingsRepository = ReturnType<typeof createRecordingsRepository>;
