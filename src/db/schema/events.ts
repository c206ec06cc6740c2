import { index, jsonb, pgTable, primaryKey, text, uuid, varchar } from 'drizzle-orm/pg-core';
import { captureTeamId, timestamptz } from './columns.js';

/**
 * Every event posthog-js (or any PostHog SDK) sent to the capture endpoints, as PostHog's events table holds them:
 * one row per event uuid and team, so a batch sent again is stored once. The columns the queries of the recordings
 * and heatmaps areas filter on are lifted out of the properties.
 */
export const events = pgTable(
  'events',
  {
    teamId: captureTeamId(),
    uuid: uuid('uuid').notNull(),
    event: varchar('event', { length: 400 }).notNull(),
    distinctId: varchar('distinct_id', { length: 200 }).notNull(),
    /** When it happened, corrected for the sender's clock (see modules/capture/timestamps.ts). */
    timestamp: timestamptz('timestamp').notNull(),
    properties: jsonb('properties').$type<Record<string, unknown>>().notNull(),
    sessionId: varchar('session_id', { length: 200 }),
    windowId: varchar('window_id', { length: 200 }),
    currentUrl: text('current_url'),
    /** When Burrow received it. */
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [
    // The key is the team's event uuid (a bigserial id as well would cost every insert one more index).
    primaryKey({ name: 'events_pkey', columns: [t.teamId, t.uuid] }),
    index('events_team_timestamp').on(t.teamId, t.timestamp),
    index('events_team_session').on(t.teamId, t.sessionId, t.timestamp),
    index('events_team_event').on(t.teamId, t.event, t.timestamp),
  ],
);

export type EventRow = typeof events.$inferSelect;
export type NewEventRow = typeof events.$inferInsert;
