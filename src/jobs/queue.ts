import { and, asc, eq, getTableColumns, gte, inArray, lt, lte, type SQL, sql } from 'drizzle-orm';
import type { Bindings, BaseLogger } from 'pino';
import type { z } from 'zod';
import type { Database, Db } from '../db/client.js';
import { FINISHED_JOB_STATUSES, type JobRow, jobs } from '../db/schema/jobs.js';

/**
 * A map of job kind -> zod schema of its payload. Payloads are stored as the schema's output and parsed
 * again before the handler runs, so schemas must describe plain JSON data (no transforms).
 */
export type JobDefinitions = Record<string, z.ZodType>;
export type JobKind<Defs extends JobDefinitions> = keyof Defs & string;
export type JobPayload<Defs extends JobDefinitions, K extends JobKind<Defs>> = z.output<Defs[K]>;
export type JobPayloadInput<Defs extends JobDefinitions, K extends JobKind<Defs>> = z.input<Defs[K]>;
export type Job = JobRow;

/** A pino logger or Fastify's FastifyBaseLogger (which picks the same members from pino). */
export interface JobLogger extends Pick<BaseLogger, 'level' | 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'> {
  child(bindings: Bindings): JobLogger;
}

export interface EnqueueOptions {
  /** Enqueue inside this transaction: the job commits or rolls back with the caller's write. */
  tx?: Db;
  /** When the job becomes due; wins over delayMs. Default: now. */
  runAt?: Date;
  delayMs?: number;
  /** At most one queued job per (kind, dedupeKey); a duplicate returns the queued job's id. */
  dedupeKey?: string;
  maxAttempts?: number;
  /** Higher runs first among jobs that are due; default 0. */
  priority?: number;
  requestId?: string;
}

/** One job of an enqueueMany: its payload and, optionally, its dedupe key. */
export interface EnqueueManyItem<Payload> {
  payload: Payload;
  dedupeKey?: string;
}

export interface EnqueueResult {
  id: number;
  deduped: boolean;
}

export interface FailOptions {
  /** false records the failure as final whatever attempts remain (the error cannot go away by retrying). */
  retry?: boolean;
}

export interface JobQueue<Defs extends JobDefinitions> {
  readonly definitions: Defs;
  enqueue<K extends JobKind<Defs>>(kind: K, payload: JobPayloadInput<Defs, K>, opts?: EnqueueOptions): Promise<EnqueueResult>;
  /**
   * Many jobs of one kind in one statement (and one wake-up), the options applying to each; a job whose dedupe key
   * has a queued twin is left out, as enqueue would. Answers how many were queued.
   */
  enqueueMany<K extends JobKind<Defs>>(kind: K, items: readonly EnqueueManyItem<JobPayloadInput<Defs, K>>[], opts?: Omit<EnqueueOptions, 'dedupeKey'>): Promise<number>;
  /**
   * Leases up to `limit` jobs to workerId: due queued jobs, and running jobs whose lease expired (their worker
   * died). Each claim counts as an attempt. Abandoned jobs that already used their last attempt are failed.
   */
  claim(workerId: string, kinds: readonly JobKind<Defs>[], limit: number, leaseMs: number): Promise<Job[]>;
  /** False when the worker no longer holds the job (its lease passed to another worker). */
  complete(job: Job): Promise<boolean>;
  /** Schedules a retry with backoff, or fails the job for good; undefined when the worker no longer holds it. */
  fail(job: Job, error: unknown, opts?: FailOptions): Promise<Job | undefined>;
  /** False when the worker no longer holds the job. */
  extendLease(job: Job, leaseMs: number): Promise<boolean>;
  get(id: number): Promise<Job | undefined>;
  /** Deletes finished jobs that finished before olderThan; returns how many. */
  pruneFinished(olderThan: Date): Promise<number>;
  /** Calls listener with the kind of every job enqueued from now on, in any process sharing the database. */
  onEnqueued(listener: (kind: string) => void): Promise<() => Promise<void>>;
}

/** What a service needs to ask for work: enqueue, for its own area's kinds. */
export type JobEnqueuer<Defs extends JobDefinitions> = Pick<JobQueue<Defs>, 'enqueue'>;

export interface JobQueueDeps<Defs extends JobDefinitions> {
  db: Db;
  listen: Database['listen'];
  definitions: Defs;
  log: JobLogger;
  /** Delay before retry number `attempts + 1`; defaults to exponentialBackoffMs. */
  retryDelayMs?: (attempts: number) => number;
}

const JOBS_CHANNEL = 'burrow_jobs';
const DEDUPE_INDEX = 'jobs_dedupe_queued';
const MAX_BACKOFF_MS = 60 * 60 * 1000;
const MAX_ERROR_LENGTH = 4000;

const msFromNow = (ms: number): SQL => sql`now() + ${ms}::double precision * interval '1 millisecond'`;

/** min(2^attempts s, 1 h), jittered down by up to half so retries of a burst of failures spread out. */
export function exponentialBackoffMs(attempts: number, random: () => number = Math.random): number {
  const ceiling = Math.min(2 ** attempts * 1000, MAX_BACKOFF_MS);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function createJobQueue<Defs extends JobDefinitions>(deps: JobQueueDeps<Defs>): JobQueue<Defs> {
  const { db, definitions, log } = deps;
  const retryDelayMs = deps.retryDelayMs ?? exponentialBackoffMs;

  /** The fencing guard on every state change: the same worker, and the same claim (attempt), still running it. */
  const heldBy = (job: Job): SQL =>
    and(
      eq(jobs.id, job.id),
      eq(jobs.status, 'running'),
      eq(jobs.lockedBy, job.lockedBy ?? ''),
      eq(jobs.attempts, job.attempts),
    )!;

  const abandonedMessage = sql`'Worker ' || ${jobs.lockedBy} || ' stopped responding; its lease expired at '
    || ${jobs.lockedUntil}::text`;

  async function failAbandonedAtMaxAttempts(kinds: readonly string[]): Promise<void> {
    const failed = await db
      .update(jobs)
      .set({ status: 'failed', lastError: abandonedMessage, lockedUntil: null, finishedAt: sql`now()`, updatedAt: sql`now()` })
      .where(
        inArray(
          jobs.id,
          db
            .select({ id: jobs.id })
            .from(jobs)
            .where(
              and(
                inArray(jobs.kind, [...kinds]),
                eq(jobs.status, 'running'),
                lt(jobs.lockedUntil, sql`now()`),
                gte(jobs.attempts, jobs.maxAttempts),
              ),
            )
            .for('update', { skipLocked: true }),
        ),
      )
      .returning({ id: jobs.id, kind: jobs.kind, lastError: jobs.lastError });
    for (const job of failed) {
      log.warn({ jobId: job.id, kind: job.kind, reason: job.lastError }, 'job failed: lease expired on its last attempt');
    }
  }

  async function requeueForRetry(job: Job, message: string): Promise<Job | undefined> {
    const [updated] = await db
      .update(jobs)
      .set({
        status: 'queued',
        runAt: msFromNow(retryDelayMs(job.attempts)),
        lastError: message,
        lockedBy: null,
        lockedUntil: null,
        updatedAt: sql`now()`,
      })
      .where(heldBy(job))
      .returning();
    return updated;
  }

  /**
   * A retry goes back to 'queued', where the dedupe index allows one job per key. If a twin was enqueued while
   * this one ran (say a heatmap re-render requested during a render), the twin will do the same work from
   * fresher input, so the retry is closed as superseded instead of running twice.
   */
  async function supersede(job: Job, message: string): Promise<Job | undefined> {
    const [updated] = await db
      .update(jobs)
      .set({
        status: 'superseded',
        lastError: `${message} (not retried: a job with the same dedupe key is already queued)`,
        lockedUntil: null,
        finishedAt: sql`now()`,
        updatedAt: sql`now()`,
      })
      .where(heldBy(job))
      .returning();
    return updated;
  }

  async function failForGood(job: Job, message: string): Promise<Job | undefined> {
    const [updated] = await db
      .update(jobs)
      .set({ status: 'failed', lastError: message, lockedUntil: null, finishedAt: sql`now()`, updatedAt: sql`now()` })
      .where(heldBy(job))
      .returning();
    return updated;
  }

  const schemaOf = (kind: string): z.ZodType => {
    const schema = definitions[kind];
    if (!schema) throw new Error(`Unknown job kind "${kind}"`);
    return schema;
  };
  /** A row's columns from the options (undefined: the column's default). */
  const rowOptions = (opts: EnqueueOptions) => ({
    runAt: opts.runAt ? opts.runAt.toISOString() : opts.delayMs ? msFromNow(opts.delayMs) : undefined,
    maxAttempts: opts.maxAttempts,
    priority: opts.priority,
    requestId: opts.requestId,
  });
  const notifier = (executor: Db, kind: string) => () => executor.execute(sql`select pg_notify(${JOBS_CHANNEL}, ${kind})`);
  /** ON CONFLICT's target: the dedupe index (one queued job per kind and key). */
  const queuedTwin = { target: [jobs.kind, jobs.dedupeKey], where: sql`dedupe_key is not null and status = 'queued'` };

  return {
    definitions,

    async enqueue(kind, payload, opts = {}) {
      const schema = schemaOf(kind);
      const executor = opts.tx ?? db;
      const values = { kind, payload: schema.parse(payload), dedupeKey: opts.dedupeKey, ...rowOptions(opts) };
      const notify = notifier(executor, kind);

      if (opts.dedupeKey === undefined) {
        const [inserted] = await executor.insert(jobs).values(values).returning({ id: jobs.id });
        await notify();
        return { id: inserted!.id, deduped: false };
      }
      // The queued twin can be claimed between the insert that conflicted and the select; then insert again.
      for (let tries = 0; tries < 3; tries++) {
        const [inserted] = await executor.insert(jobs).values(values).onConflictDoNothing(queuedTwin).returning({ id: jobs.id });
        if (inserted) {
          await notify();
          return { id: inserted.id, deduped: false };
        }
        const [queued] = await executor
          .select({ id: jobs.id })
          .from(jobs)
          .where(and(eq(jobs.kind, kind), eq(jobs.dedupeKey, opts.dedupeKey), eq(jobs.status, 'queued')));
        if (queued) return { id: queued.id, deduped: true };
      }
      throw new Error(`Could not enqueue ${kind} with dedupe key "${opts.dedupeKey}": its queued twin kept changing`);
    },

    async enqueueMany(kind, items, opts = {}) {
      if (items.length === 0) return 0;
      const schema = schemaOf(kind);
      const executor = opts.tx ?? db;
      const common = rowOptions(opts);
      const values = items.map((item) => ({ kind, payload: schema.parse(item.payload), dedupeKey: item.dedupeKey, ...common }));
      const inserted = await executor.insert(jobs).values(values).onConflictDoNothing(queuedTwin).returning({ id: jobs.id });
      if (inserted.length > 0) await notifier(executor, kind)();
      return inserted.length;
    },

    async claim(workerId, kinds, limit, leaseMs) {
      if (kinds.length === 0 || limit <= 0) return [];
      await failAbandonedAtMaxAttempts(kinds);
      // Two kinds of candidates, each taken in the order of its own index and locked, `limit` of each at most: due
      // queued jobs (jobs_queued, whose key is priority DESC NULLS LAST: only an ORDER BY that says NULLS LAST too can
      // walk it; priority is never null) and running jobs whose lease expired (jobs_leased). The best `limit` of both
      // are claimed; the other rows' locks end with the statement. One SELECT with an OR of the two could use neither
      // index and sorted every due job at each claim, which made a backlog of 10,000 deliveries the queue's
      // bottleneck (bench/subscriptions). A CTE runs exactly once.
      const candidates = <Alias extends string>(alias: Alias, where: SQL) =>
        db.$with(alias).as(
          db
            .select({ id: jobs.id, priority: jobs.priority, runAt: jobs.runAt })
            .from(jobs)
            .where(and(inArray(jobs.kind, [...kinds]), where))
            .orderBy(sql`${jobs.priority} desc nulls last`, asc(jobs.runAt), asc(jobs.id))
            .limit(limit)
            .for('update', { skipLocked: true }),
        );
      // The statuses are literals, not parameters, so that a generic plan can use the partial indexes too.
      const due = candidates('due', and(sql`${jobs.status} = 'queued'`, lte(jobs.runAt, sql`now()`))!);
      const abandoned = candidates('abandoned', and(sql`${jobs.status} = 'running'`, lt(jobs.lockedUntil, sql`now()`), lt(jobs.attempts, jobs.maxAttempts))!);
      const next = db.$with('next').as(
        db
          .select({ claimId: sql<number>`candidate.id`.as('claim_id') })
          .from(sql`(select * from ${due} union all select * from ${abandoned}) as candidate`)
          .orderBy(sql`candidate.priority desc, candidate.run_at, candidate.id`)
          .limit(limit),
      );
      const claimed = await db
        .with(due, abandoned, next)
        .update(jobs)
        .set({
          status: 'running',
          attempts: sql`${jobs.attempts} + 1`,
          lockedBy: workerId,
          lockedUntil: msFromNow(leaseMs),
          lastError: sql`case when ${jobs.status} = 'running' then ${abandonedMessage} else ${jobs.lastError} end`,
          updatedAt: sql`now()`,
        })
        .from(next)
        .where(eq(jobs.id, next.claimId))
        .returning(getTableColumns(jobs));
      return claimed.sort(byClaimOrder);
    },

    async complete(job) {
      const updated = await db
        .update(jobs)
        .set({ status: 'succeeded', lockedUntil: null, finishedAt: sql`now()`, updatedAt: sql`now()` })
        .where(heldBy(job))
        .returning({ id: jobs.id });
      return updated.length > 0;
    },

    async fail(job, error, opts = {}) {
      const message = describeError(error);
      if (opts.retry === false || job.attempts >= job.maxAttempts) return failForGood(job, message);
      try {
        return await requeueForRetry(job, message);
      } catch (requeueError) {
        if (!violatesConstraint(requeueError, DEDUPE_INDEX)) throw requeueError;
        const superseded = await supersede(job, message);
        if (superseded) {
          log.info({ jobId: job.id, kind: job.kind, dedupeKey: job.dedupeKey }, 'failed job superseded by a queued twin');
        }
        return superseded;
      }
    },

    async extendLease(job, leaseMs) {
      const updated = await db
        .update(jobs)
        .set({ lockedUntil: msFromNow(leaseMs), updatedAt: sql`now()` })
        .where(heldBy(job))
        .returning({ id: jobs.id });
      return updated.length > 0;
    },

    async get(id) {
      const [job] = await db.select().from(jobs).where(eq(jobs.id, id));
      return job;
    },

    async pruneFinished(olderThan) {
      const deleted = await db
        .delete(jobs)
        .where(and(inArray(jobs.status, [...FINISHED_JOB_STATUSES]), lt(jobs.finishedAt, olderThan.toISOString())))
        .returning({ id: jobs.id });
      return deleted.length;
    },

    onEnqueued: (listener) => deps.listen(JOBS_CHANNEL, listener),
  };
}

/** Timestamps are Postgres text in UTC ("2024-05-01 12:34:56.789+00"), which sorts as text. */
function byClaimOrder(a: Job, b: Job): number {
  return b.priority - a.priority || (a.runAt < b.runAt ? -1 : a.runAt > b.runAt ? 1 : 0) || a.id - b.id;
}

function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH)}…` : text;
}

/** Both drivers report Postgres errors with code and constraint; drizzle wraps them in a `cause`. */
function violatesConstraint(error: unknown, constraint: string): boolean {
  for (let current: unknown = error; current instanceof Object; current = (current as { cause?: unknown }).cause) {
    const fields = current as { code?: unknown; constraint?: unknown };
    if (fields.code === '23505' && fields.constraint === constraint) return true;
  }
  return false;
}
