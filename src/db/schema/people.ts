import { boolean, index, integer, jsonb, pgTable, primaryKey, serial, uuid, varchar } from 'drizzle-orm/pg-core';
import { captureTeamId, createdAt, timestamptz } from './columns.js';
import { teams } from './teams.js';

/** A person, as much of PostHog's as recordings show: the properties `$set` and `$set_once` gave them. */
export const persons = pgTable(
  'persons',
  {
    id: serial('id').primaryKey(),
    uuid: uuid('uuid').notNull().unique(),
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    properties: jsonb('properties').$type<Record<string, unknown>>().notNull(),
    /** Set once an `$identify` names them. */
    isIdentified: boolean('is_identified').notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [index('persons_team').on(t.teamId)],
);

/** Which person a distinct id is; `$identify` moves an anonymous id's person into the identified one. */
export const personDistinctIds = pgTable(
  'person_distinct_ids',
  {
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    distinctId: varchar('distinct_id', { length: 200 }).notNull(),
    personId: integer('person_id')
      .notNull()
      .references(() => persons.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.distinctId] }), index('person_distinct_ids_person').on(t.personId)],
);

/**
 * A visit's aggregates, kept up to date as its events arrive (PostHog's raw_sessions, named as there so as not to be
 * taken for the login sessions): when it started and ended,
 * where it entered and ended, how it was reached, and what it counted.
 */
export const rawSessions = pgTable(
  'raw_sessions',
  {
    teamId: captureTeamId(),
    sessionId: varchar('session_id', { length: 200 }).notNull(),
    distinctId: varchar('distinct_id', { length: 200 }).notNull(),
    startTimestamp: timestamptz('start_timestamp').notNull(),
    endTimestamp: timestamptz('end_timestamp').notNull(),
    entryUrl: varchar('entry_url', { length: 4096 }),
    endUrl: varchar('end_url', { length: 4096 }),
    entryReferringDomain: varchar('entry_referring_domain', { length: 400 }),
    /** The entry's UTM fields and ad click ids (utm_source, gclid, ...), by property name without `$`. */
    entryAttribution: jsonb('entry_attribution').$type<Record<string, string>>().notNull(),
    pageviewCount: integer('pageview_count').notNull().default(0),
    autocaptureCount: integer('autocapture_count').notNull().default(0),
    screenCount: integer('screen_count').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.sessionId] }), index('raw_sessions_team_start').on(t.teamId, t.startTimestamp)],
);
