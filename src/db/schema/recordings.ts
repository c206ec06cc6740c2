import { bigserial, boolean, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex, uuid, varchar } from 'drizzle-orm/pg-core';
import { captureTeamId, createdAt, timestamptz } from './columns.js';
import { teams } from './teams.js';
import { users } from './users.js';

/**
 * One row per recorded session: the aggregates PostHog keeps in ClickHouse's session_replay_events, summed over the
 * session's blocks as they arrive (modules/capture/recording-metadata.ts says how each is computed).
 */
export const sessionRecordings = pgTable(
  'session_recordings',
  {
    teamId: captureTeamId(),
    sessionId: varchar('session_id', { length: 200 }).notNull(),
    distinctId: varchar('distinct_id', { length: 400 }).notNull(),
    startTime: timestamptz('start_time').notNull(),
    endTime: timestamptz('end_time').notNull(),
    activeMilliseconds: integer('active_milliseconds').notNull().default(0),
    clickCount: integer('click_count').notNull().default(0),
    keypressCount: integer('keypress_count').notNull().default(0),
    mouseActivityCount: integer('mouse_activity_count').notNull().default(0),
    consoleLogCount: integer('console_log_count').notNull().default(0),
    consoleWarnCount: integer('console_warn_count').notNull().default(0),
    consoleErrorCount: integer('console_error_count').notNull().default(0),
    /** The URL of the earliest block's first Meta event. */
    firstUrl: text('first_url'),
    /** At most 25, in the order they were first seen. */
    urls: jsonb('urls').$type<string[]>().notNull(),
    /** Bytes of the JSONL of every block, uncompressed, as PostHog's `size`. */
    size: integer('size').notNull().default(0),
    eventCount: integer('event_count').notNull().default(0),
    /** `$snapshot` events (PostHog's message_count). */
    messageCount: integer('message_count').notNull().default(0),
    blockCount: integer('block_count').notNull().default(0),
    snapshotSource: varchar('snapshot_source', { length: 40 }).notNull(),
    snapshotLibrary: varchar('snapshot_library', { length: 200 }).notNull(),
    retentionPeriodDays: integer('retention_period_days'),
    /** When the last block arrived (a recording is "ongoing" for 5 minutes after). */
    lastIngestedAt: timestamptz('last_ingested_at').notNull().defaultNow(),
    /** Deleted through the API: gone from every read at once; its blocks are purged by the retention job later. */
    deletedAt: timestamptz('deleted_at'),
    /** The email of who deleted it. */
    deletedBy: varchar('deleted_by', { length: 254 }),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.sessionId] }), index('session_recordings_team_start').on(t.teamId, t.startTime)],
);

/** One `$snapshot` batch; its rrweb events, gzip JSONL of `[windowId, event]` lines untouched (cv fields too), are a blob. */
export const recordingBlocks = pgTable(
  'recording_blocks',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    teamId: captureTeamId(),
    sessionId: varchar('session_id', { length: 200 }).notNull(),
    windowId: varchar('window_id', { length: 200 }).notNull(),
    /** The `$snapshot` event's uuid. */
    uuid: uuid('uuid').notNull(),
    firstTimestamp: timestamptz('first_timestamp').notNull(),
    lastTimestamp: timestamptz('last_timestamp').notNull(),
    firstUrl: text('first_url'),
    eventCount: integer('event_count').notNull(),
    size: integer('size').notNull(),
    /** Where the block's bytes are in the blob store (BLOB_STORE). */
    blobKey: text('blob_key').notNull(),
  },
  (t) => [uniqueIndex('recording_blocks_team_uuid').on(t.teamId, t.uuid), index('recording_blocks_session').on(t.teamId, t.sessionId, t.firstTimestamp)],
);

/** Distinct console messages of a recording, kept only when the project captures console logs. */
export const recordingConsoleLogs = pgTable(
  'recording_console_logs',
  {
    teamId: captureTeamId(),
    sessionId: varchar('session_id', { length: 200 }).notNull(),
    level: varchar('level', { length: 10 }).notNull(),
    message: text('message').notNull(),
    /** md5 of the message: a message can be longer than an index entry may be. */
    messageHash: varchar('message_hash', { length: 32 }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.sessionId, t.level, t.messageHash] })],
);

export type SessionRecordingRow = typeof sessionRecordings.$inferSelect;

/** Who has watched which recording (PostHog's SessionRecordingViewed): `viewed` and `viewers` come from here. */
export const sessionRecordingViewed = pgTable(
  'session_recording_viewed',
  {
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    sessionId: varchar('session_id', { length: 200 }).notNull(),
    /** Marked through bulk_viewed rather than by watching. */
    bulkViewed: boolean('bulk_viewed').notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.userId, t.sessionId] }), index('session_recording_viewed_session').on(t.teamId, t.sessionId)],
);
