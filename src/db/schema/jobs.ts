import { sql } from 'drizzle-orm';
import { bigserial, check, index, integer, jsonb, pgTable, smallint, text, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { createdAt, timestamptz, updatedAt } from './columns.js';

/**
 * queued -> running -> succeeded | failed, or back to queued for a retry.
 * superseded: a retry that would have collided with a queued job of the same dedupe key (see src/jobs/queue.ts).
 */
export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'superseded'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const FINISHED_JOB_STATUSES = ['succeeded', 'failed', 'superseded'] as const satisfies readonly JobStatus[];

export const jobs = pgTable(
  'jobs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: varchar('kind', { length: 100 }).notNull(),
    payload: jsonb('payload').$type<unknown>().notNull(),
    status: varchar('status', { length: 16, enum: JOB_STATUSES }).notNull().default('queued'),
    /** Higher runs first among jobs that are due. */
    priority: smallint('priority').notNull().default(0),
    runAt: timestamptz('run_at').notNull().defaultNow(),
    /** Incremented by every claim, so it counts the current run too. */
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(5),
    /** The worker holding (or, once finished, last holding) the job. */
    lockedBy: varchar('locked_by', { length: 100 }),
    /** The lease: past this time a running job is considered abandoned and may be claimed again. */
    lockedUntil: timestamptz('locked_until'),
    lastError: text('last_error'),
    dedupeKey: varchar('dedupe_key', { length: 200 }),
    /** The id of the HTTP request that enqueued the job, carried into the job's logs. */
    requestId: varchar('request_id', { length: 100 }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    finishedAt: timestamptz('finished_at'),
  },
  (t) => [
    check('jobs_status_known', sql`status in ('queued', 'running', 'succeeded', 'failed', 'superseded')`),
    check('jobs_max_attempts_positive', sql`max_attempts >= 1`),
    // Matches the claim order: priority desc, run_at, id.
    index('jobs_queued').on(t.priority.desc(), t.runAt, t.id).where(sql`status = 'queued'`),
    index('jobs_leased').on(t.lockedUntil).where(sql`status = 'running'`),
    index('jobs_finished').on(t.finishedAt).where(sql`finished_at is not null`),
    // Only queued jobs are deduplicated: a running job must not block a fresh request for the same work.
    uniqueIndex('jobs_dedupe_queued')
      .on(t.kind, t.dedupeKey)
      .where(sql`dedupe_key is not null and status = 'queued'`),
  ],
);

export type JobRow = typeof jobs.$inferSelect;
