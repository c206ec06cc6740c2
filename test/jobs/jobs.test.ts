import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { and, eq, sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createContainer } from '../../src/container.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { jobs, sessions, users } from '../../src/db/schema/index.js';
import { startAppWorker } from '../../src/jobs/app-worker.js';
import { MAINTENANCE_PURGE_DEDUPE_KEY, MAINTENANCE_PURGE_INTERVAL_MS } from '../../src/jobs/maintenance.js';
import { createJobQueue, exponentialBackoffMs, type Job, type JobQueue, type JobQueueDeps } from '../../src/jobs/queue.js';
import { assertEveryKindHasHandler, type JobHandlers } from '../../src/jobs/registry.js';
import { createWorker, NonRetryableJobError, type Worker, type WorkerOptions } from '../../src/jobs/worker.js';
import { epochMs } from '../../src/lib/time.js';
import { openTestDatabase } from '../helpers/database.js';
import { capturingLogger, postgresUrlOf, sleep, testJobDefinitions, waitFor } from '../helpers/jobs.js';

type TestDefs = typeof testJobDefinitions;
type TestQueue = JobQueue<TestDefs>;

const KINDS = ['test.record', 'test.block'] as const;
const silent = pino({ level: 'silent' });
const onPostgres = !!process.env.DATABASE_URL;

let database: Database;
/** Run after each test, last registered first: workers stop before the connections they use close. */
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});
beforeEach(async () => {
  await database.db.delete(jobs);
});
afterEach(async () => {
  for (let cleanup = cleanups.pop(); cleanup; cleanup = cleanups.pop()) await cleanup();
});

function newQueue(options: Partial<Pick<JobQueueDeps<TestDefs>, 'log' | 'retryDelayMs'>> & { on?: Database } = {}): TestQueue {
  const target = options.on ?? database;
  return createJobQueue({
    db: target.db,
    listen: target.listen,
    definitions: testJobDefinitions,
    log: options.log ?? silent,
    retryDelayMs: options.retryDelayMs,
  });
}

const doNothing = async (): Promise<void> => {};

async function startWorker(
  options: Partial<Omit<WorkerOptions<TestDefs>, 'handlers'>> & { handlers: Partial<JobHandlers<TestDefs>> },
): Promise<Worker> {
  const worker = createWorker<TestDefs>({
    queue: options.queue ?? newQueue(),
    log: options.log ?? silent,
    concurrency: options.concurrency ?? 2,
    pollIntervalMs: options.pollIntervalMs ?? 20,
    leaseMs: options.leaseMs ?? 2000,
    workerId: options.workerId,
    handlers: { 'test.record': doNothing, 'test.block': doNothing, ...options.handlers },
  });
  await worker.start();
  cleanups.push(() => worker.stop({ timeoutMs: 1000 }));
  return worker;
}

/** A second pool on the same database, as another process would have; PGlite is one process, so itself. */
async function secondConnection(): Promise<Database> {
  if (database.kind !== 'postgres') return database;
  const other = await openDatabase({ kind: 'postgres', url: await postgresUrlOf(database), poolSize: 5 });
  cleanups.push(() => other.close());
  return other;
}

async function jobWithStatus(queue: TestQueue, id: number, status: Job['status']): Promise<Job | undefined> {
  const job = await queue.get(id);
  return job?.status === status ? job : undefined;
}

async function countJobs(): Promise<number> {
  return (await database.db.select({ id: jobs.id }).from(jobs)).length;
}

describe('enqueue', () => {
  it('leaves no job when the caller transaction rolls back', async () => {
    const queue = newQueue();
    await expect(
      database.db.transaction(async (tx) => {
        await queue.enqueue('test.record', { n: 1 }, { tx });
        tx.rollback();
      }),
    ).rejects.toThrow();
    expect(await countJobs()).toBe(0);
  });

  it('runs a job enqueued inside a committed transaction', async () => {
    const ran: number[] = [];
    await startWorker({ handlers: { 'test.record': async ({ payload }) => void ran.push(payload.n) } });
    const queue = newQueue();
    const { id } = await database.db.transaction(async (tx) => {
      await queue.enqueue('test.record', { n: 7 }, { tx });
      return queue.enqueue('test.record', { n: 8 }, { tx });
    });
    await waitFor(() => jobWithStatus(queue, id, 'succeeded'));
    await waitFor(() => ran.length === 2);
    expect(ran.sort()).toEqual([7, 8]);
  });

  it.runIf(onPostgres)('keeps an uncommitted job invisible to workers', async () => {
    const queue = newQueue();
    await database.db.transaction(async (tx) => {
      await queue.enqueue('test.record', { n: 1 }, { tx });
      expect(await queue.claim('w', KINDS, 10, 1000)).toEqual([]);
    });
    expect(await queue.claim('w', KINDS, 10, 1000)).toHaveLength(1);
  });

  it('validates the payload with the kind schema and stores the parsed value', async () => {
    const queue = newQueue();
    await expect(queue.enqueue('test.record', { n: 1.5 })).rejects.toThrow();
    await expect(queue.enqueue('test.nope' as 'test.record', { n: 1 })).rejects.toThrow(/Unknown job kind "test.nope"/);
    expect(await countJobs()).toBe(0);

    const { id } = await queue.enqueue('test.record', { n: 3, extra: 'dropped' } as { n: number }, { requestId: 'req-1', maxAttempts: 2 });
    expect(await queue.get(id)).toMatchObject({ payload: { n: 3 }, requestId: 'req-1', maxAttempts: 2, status: 'queued', attempts: 0 });
  });
});

describe('claim', () => {
  it('takes due jobs by priority, then run_at, then id, and leaves scheduled ones until their time', async () => {
    const queue = newQueue();
    const now = Date.now();
    const late = await queue.enqueue('test.record', { n: 1 }, { runAt: new Date(now - 1000) });
    const earliest = await queue.enqueue('test.record', { n: 2 }, { runAt: new Date(now - 3000) });
    const tiedFirst = await queue.enqueue('test.record', { n: 3 }, { runAt: new Date(now - 2000) });
    const tiedSecond = await queue.enqueue('test.record', { n: 4 }, { runAt: new Date(now - 2000) });
    const urgent = await queue.enqueue('test.record', { n: 5 }, { runAt: new Date(now - 500), priority: 5 });
    // Long enough that the five claims below finish before it, even on a busy CI machine (400 ms once was not).
    const delayMs = 2_000;
    const scheduled = await queue.enqueue('test.record', { n: 6 }, { delayMs });

    const order: number[] = [];
    for (let i = 0; i < 5; i++) {
      const claimed = await queue.claim('w', KINDS, 1, 5000);
      expect(claimed).toHaveLength(1);
      order.push(claimed[0]!.id);
    }
    expect(order).toEqual([urgent.id, earliest.id, tiedFirst.id, tiedSecond.id, late.id]);

    expect(await queue.claim('w', KINDS, 10, 5000)).toEqual([]);
    const [due] = await waitFor(async () => {
      const claimed = await queue.claim('w', KINDS, 10, 5000);
      return claimed.length > 0 && claimed;
    });
    expect(due!.id).toBe(scheduled.id);
    expect(Date.now() - now).toBeGreaterThanOrEqual(delayMs - 50);
  });

  it('returns several jobs in claim order, leases them and counts the attempt', async () => {
    const queue = newQueue();
    const now = Date.now();
    const second = await queue.enqueue('test.record', { n: 1 }, { runAt: new Date(now - 1000) });
    const first = await queue.enqueue('test.record', { n: 2 }, { runAt: new Date(now - 2000) });
    const before = Date.now();
    const claimed = await queue.claim('worker-a', KINDS, 10, 1500);
    expect(claimed.map((job) => job.id)).toEqual([first.id, second.id]);
    for (const job of claimed) {
      expect(job).toMatchObject({ status: 'running', attempts: 1, lockedBy: 'worker-a' });
      expect(epochMs(job.lockedUntil!)).toBeGreaterThanOrEqual(before + 1400);
    }
    expect(await queue.claim('worker-b', KINDS, 10, 1500)).toEqual([]);
  });

  it('only claims the kinds it is asked for', async () => {
    const queue = newQueue();
    await queue.enqueue('test.block', {});
    expect(await queue.claim('w', ['test.record'], 10, 1000)).toEqual([]);
    expect(await queue.claim('w', ['test.block'], 10, 1000)).toHaveLength(1);
  });
});

describe('dedupe', () => {
  it('keeps at most one queued job per kind and key', async () => {
    const queue = newQueue();
    const first = await queue.enqueue('test.record', { n: 1 }, { dedupeKey: 'heatmap:1' });
    const duplicate = await queue.enqueue('test.record', { n: 2 }, { dedupeKey: 'heatmap:1' });
    const otherKey = await queue.enqueue('test.record', { n: 3 }, { dedupeKey: 'heatmap:2' });
    const otherKind = await queue.enqueue('test.block', {}, { dedupeKey: 'heatmap:1' });
    const noKey = [await queue.enqueue('test.record', { n: 4 }), await queue.enqueue('test.record', { n: 4 })];

    expect(first.deduped).toBe(false);
    expect(duplicate).toEqual({ id: first.id, deduped: true });
    expect(otherKey.deduped || otherKind.deduped || noKey.some((r) => r.deduped)).toBe(false);
    expect(new Set([first.id, otherKey.id, otherKind.id, ...noKey.map((r) => r.id)]).size).toBe(5);
    expect((await queue.get(first.id))!.payload).toEqual({ n: 1 });
  });

  it('lets a new job queue while its twin runs, then dedupes against the new one', async () => {
    const queue = newQueue();
    const first = await queue.enqueue('test.record', { n: 1 }, { dedupeKey: 'k' });
    await queue.claim('w', KINDS, 1, 5000);
    const whileRunning = await queue.enqueue('test.record', { n: 2 }, { dedupeKey: 'k' });
    const again = await queue.enqueue('test.record', { n: 3 }, { dedupeKey: 'k' });
    expect(whileRunning.deduped).toBe(false);
    expect(whileRunning.id).not.toBe(first.id);
    expect(again).toEqual({ id: whileRunning.id, deduped: true });
  });

  it('dedupes inside the caller transaction too', async () => {
    const queue = newQueue();
    const [a, b] = await database.db.transaction(async (tx) => [
      await queue.enqueue('test.record', { n: 1 }, { tx, dedupeKey: 'k' }),
      await queue.enqueue('test.record', { n: 1 }, { tx, dedupeKey: 'k' }),
    ]);
    expect(b).toEqual({ id: a!.id, deduped: true });
  });

  it('enqueueMany queues many jobs at once, leaving out a key whose twin is queued (not one whose twin runs), and wakes a worker', async () => {
    const queue = newQueue();
    const running = await queue.enqueue('test.record', { n: 1 }, { dedupeKey: 'runs' });
    await queue.claim('w', KINDS, 1, 5000);
    const queued = await queue.enqueue('test.record', { n: 2 }, { dedupeKey: 'queued' });
    expect(await queue.enqueueMany('test.record', [])).toBe(0);
    await expect(queue.enqueueMany('test.record', [{ payload: { n: 3 } }, { payload: { n: 1.5 } }])).rejects.toThrow();
    expect(await countJobs()).toBe(2);

    const items = [
      { payload: { n: 10 }, dedupeKey: 'queued' },
      { payload: { n: 11 }, dedupeKey: 'runs' },
      { payload: { n: 12 }, dedupeKey: 'new' },
      { payload: { n: 13 } },
    ];
    expect(await queue.enqueueMany('test.record', items, { maxAttempts: 2, priority: 3 })).toBe(3);
    const rows = await database.db.select().from(jobs).where(eq(jobs.status, 'queued'));
    expect(rows.map((r) => [r.dedupeKey, r.payload]).sort()).toEqual([
      ['new', { n: 12 }],
      ['queued', { n: 2 }],
      ['runs', { n: 11 }],
      [null, { n: 13 }],
    ].sort());
    expect(rows.filter((r) => r.id !== queued.id).every((r) => r.maxAttempts === 2 && r.priority === 3 && r.id !== running.id)).toBe(true);
    expect(await queue.enqueueMany('test.record', items.slice(0, 3))).toBe(0);

    // One NOTIFY for the lot wakes a sleeping worker.
    await database.db.delete(jobs);
    const ran: number[] = [];
    await startWorker({ pollIntervalMs: 60_000, handlers: { 'test.record': async ({ payload }) => void ran.push(payload.n) } });
    await sleep(100);
    const producer = newQueue({ on: await secondConnection() });
    const enqueuedAt = Date.now();
    await producer.enqueueMany('test.record', [{ payload: { n: 1 } }, { payload: { n: 2 } }]);
    await waitFor(() => ran.length === 2, 5000);
    expect(Date.now() - enqueuedAt).toBeLessThan(1000);
  });

  it('closes a retry as superseded when a twin with its dedupe key is already queued', async () => {
    const queue = newQueue();
    await queue.enqueue('test.record', { n: 1 }, { dedupeKey: 'k' });
    const [running] = await queue.claim('w', KINDS, 1, 5000);
    const twin = await queue.enqueue('test.record', { n: 2 }, { dedupeKey: 'k' });

    const recorded = await queue.fail(running!, new Error('renderer crashed'));
    expect(recorded).toMatchObject({ status: 'superseded', attempts: 1 });
    expect(recorded!.lastError).toMatch(/^Error: renderer crashed \(not retried: a job with the same dedupe key is already queued\)$/);
    expect(recorded!.finishedAt).not.toBeNull();
    expect(await queue.get(twin.id)).toMatchObject({ status: 'queued', attempts: 0 });
  });
});

describe('retries', () => {
  it('backs off exponentially with jitter, capped at an hour', () => {
    expect(exponentialBackoffMs(1, () => 0)).toBe(1000);
    expect(exponentialBackoffMs(1, () => 1)).toBe(2000);
    expect(exponentialBackoffMs(3, () => 0.5)).toBe(6000);
    expect(exponentialBackoffMs(30, () => 1)).toBe(3_600_000);
    expect(exponentialBackoffMs(30, () => 0)).toBe(1_800_000);
  });

  it('requeues a failed job later, keeping the error, until max_attempts, then fails it', async () => {
    const queue = newQueue();
    const { id } = await queue.enqueue('test.record', { n: 1 }, { maxAttempts: 3 });
    for (let attempt = 1; attempt <= 2; attempt++) {
      const [job] = await queue.claim('w', KINDS, 1, 5000);
      expect(job).toMatchObject({ id, attempts: attempt });
      const failedAt = Date.now();
      const recorded = await queue.fail(job!, new Error(`boom ${attempt}`));
      expect(recorded).toMatchObject({ status: 'queued', attempts: attempt, lastError: `Error: boom ${attempt}`, lockedBy: null });
      const delayMs = epochMs(recorded!.runAt) - failedAt;
      expect(delayMs).toBeGreaterThanOrEqual(2 ** attempt * 500 - 100);
      expect(delayMs).toBeLessThanOrEqual(2 ** attempt * 1000 + 500);
      expect(await queue.claim('w', KINDS, 1, 5000)).toEqual([]);
      // Let the backoff pass without waiting for it.
      await database.db.update(jobs).set({ runAt: sql`now()` }).where(eq(jobs.id, id));
    }
    const [last] = await queue.claim('w', KINDS, 1, 5000);
    expect(last!.attempts).toBe(3);
    const recorded = await queue.fail(last!, new Error('boom 3'));
    expect(recorded).toMatchObject({ status: 'failed', attempts: 3, lastError: 'Error: boom 3' });
    expect(recorded!.finishedAt).not.toBeNull();
    await database.db.update(jobs).set({ runAt: sql`now()` }).where(eq(jobs.id, id));
    expect(await queue.claim('w', KINDS, 1, 5000)).toEqual([]);
  });

  it('retries through the worker until the handler succeeds, logging every failure with the request id', async () => {
    const { log, lines } = capturingLogger();
    const queue = newQueue({ retryDelayMs: () => 0 });
    await startWorker({
      queue,
      log,
      handlers: {
        'test.record': async ({ job, log: jobLog }) => {
          jobLog.info('handler ran');
          if (job.attempts < 3) throw new Error(`flaky ${job.attempts}`);
        },
      },
    });
    const { id } = await queue.enqueue('test.record', { n: 1 }, { requestId: 'req-abc', maxAttempts: 5 });
    const done = await waitFor(() => jobWithStatus(queue, id, 'succeeded'));
    expect(done).toMatchObject({ attempts: 3, lastError: 'Error: flaky 2' });
    await waitFor(() => lines.some((line) => line.jobId === id && line.msg === 'job succeeded'));

    const jobLines = lines.filter((line) => line.jobId === id);
    expect(jobLines.filter((line) => line.msg === 'handler ran').map((line) => line.attempt)).toEqual([1, 2, 3]);
    const failures = jobLines.filter((line) => line.msg === 'job failed; it will be retried');
    expect(failures.map((line) => [line.attempt, (line.err as { message: string }).message])).toEqual([
      [1, 'flaky 1'],
      [2, 'flaky 2'],
    ]);
    for (const line of jobLines) {
      expect(line).toMatchObject({ requestId: 'req-abc', kind: 'test.record', workerId: expect.any(String) as unknown });
    }
  });

  it('fails for good after max_attempts through the worker', async () => {
    const { log, lines } = capturingLogger();
    const queue = newQueue({ retryDelayMs: () => 0 });
    await startWorker({ queue, log, handlers: { 'test.record': () => Promise.reject(new Error('always')) } });
    const { id } = await queue.enqueue('test.record', { n: 1 }, { maxAttempts: 2 });
    const failed = await waitFor(() => jobWithStatus(queue, id, 'failed'));
    expect(failed).toMatchObject({ attempts: 2, lastError: 'Error: always' });
    await waitFor(() => lines.some((line) => line.jobId === id && line.msg === 'job failed' && line.attempt === 2));
  });

  it('does not retry a NonRetryableJobError or a payload that no longer parses', async () => {
    const queue = newQueue({ retryDelayMs: () => 0 });
    await startWorker({
      queue,
      handlers: { 'test.block': () => Promise.reject(new NonRetryableJobError('the heatmap was deleted')) },
    });
    const gone = await queue.enqueue('test.block', {});
    const [corrupt] = await database.db.insert(jobs).values({ kind: 'test.record', payload: { n: 'seven' } }).returning();

    expect(await waitFor(() => jobWithStatus(queue, gone.id, 'failed'))).toMatchObject({
      attempts: 1,
      lastError: 'NonRetryableJobError: the heatmap was deleted',
    });
    const failed = await waitFor(() => jobWithStatus(queue, corrupt!.id, 'failed'));
    expect(failed.attempts).toBe(1);
    expect(failed.lastError).toMatch(/^ZodError: /);
  });
});

describe('two workers on one database', () => {
  it('run every job exactly once, never the same job at the same time, within their concurrency', async () => {
    const queue = newQueue();
    const ids = new Set<number>();
    for (let n = 0; n < 40; n++) ids.add((await queue.enqueue('test.record', { n })).id);

    const runs: { jobId: number; worker: string; start: number; end: number }[] = [];
    const recordingHandler =
      (worker: string): JobHandlers<TestDefs>['test.record'] =>
      async ({ job }) => {
        const start = performance.now();
        await sleep(5 + (job.id % 7) * 3);
        runs.push({ jobId: job.id, worker, start, end: performance.now() });
      };
    const other = await secondConnection();
    await Promise.all([
      startWorker({ workerId: 'worker-a', concurrency: 4, handlers: { 'test.record': recordingHandler('worker-a') } }),
      startWorker({
        workerId: 'worker-b',
        concurrency: 4,
        queue: newQueue({ on: other }),
        handlers: { 'test.record': recordingHandler('worker-b') },
      }),
    ]);
    await waitFor(() => runs.length >= 40);
    await sleep(200); // room for a duplicate run to show up

    expect(runs.map((run) => run.jobId).sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
    for (const id of ids) {
      const intervals = runs.filter((run) => run.jobId === id).sort((a, b) => a.start - b.start);
      for (let i = 1; i < intervals.length; i++) expect(intervals[i]!.start).toBeGreaterThanOrEqual(intervals[i - 1]!.end);
    }
    for (const worker of ['worker-a', 'worker-b']) {
      const own = runs.filter((run) => run.worker === worker);
      expect(own.length).toBeGreaterThan(0);
      const mostAtOnce = Math.max(...own.map((run) => own.filter((o) => o.start <= run.start && run.start < o.end).length));
      expect(mostAtOnce).toBeLessThanOrEqual(4);
    }
    const finished = await database.db.select().from(jobs);
    expect(finished.every((job) => job.status === 'succeeded' && job.attempts === 1)).toBe(true);
  });
});

describe('leases', () => {
  it('hands a job whose worker died to a live worker once the lease expires', async () => {
    const queue = newQueue();
    const { id } = await queue.enqueue('test.record', { n: 1 });
    const [dead] = await queue.claim('dead-worker', KINDS, 1, 300);
    const deadLeaseEnds = epochMs(dead!.lockedUntil!);

    let startedAt = 0;
    await startWorker({ workerId: 'live-worker', handlers: { 'test.record': async () => void (startedAt = Date.now()) } });
    const done = await waitFor(() => jobWithStatus(queue, id, 'succeeded'));
    expect(done).toMatchObject({ attempts: 2, lockedBy: 'live-worker', lockedUntil: null });
    expect(done.lastError).toMatch(/^Worker dead-worker stopped responding; its lease expired at /);
    expect(startedAt).toBeGreaterThanOrEqual(deadLeaseEnds - 5);
  });

  it('refuses every state change from a worker that lost its lease', async () => {
    const queue = newQueue();
    const { id } = await queue.enqueue('test.record', { n: 1 });
    const [stale] = await queue.claim('slow-worker', KINDS, 1, 100);
    await sleep(150);
    const [current] = await queue.claim('new-owner', KINDS, 1, 5000);
    expect(current).toMatchObject({ id, attempts: 2, lockedBy: 'new-owner' });

    expect(await queue.extendLease(stale!, 5000)).toBe(false);
    expect(await queue.complete(stale!)).toBe(false);
    expect(await queue.fail(stale!, new Error('late failure'))).toBeUndefined();
    expect(await queue.get(id)).toMatchObject({ status: 'running', lockedBy: 'new-owner', attempts: 2 });

    expect(await queue.extendLease(current!, 5000)).toBe(true);
    expect(await queue.complete(current!)).toBe(true);
    expect(await queue.complete(current!)).toBe(false);
    expect(await queue.get(id)).toMatchObject({ status: 'succeeded' });
  });

  it('fails, and does not run again, a job whose lease expired on its last attempt', async () => {
    const queue = newQueue();
    const { id } = await queue.enqueue('test.record', { n: 1 }, { maxAttempts: 1 });
    await queue.claim('dead-worker', KINDS, 1, 100);
    let runs = 0;
    await startWorker({ handlers: { 'test.record': async () => void runs++ } });
    const failed = await waitFor(() => jobWithStatus(queue, id, 'failed'));
    expect(failed.lastError).toMatch(/^Worker dead-worker stopped responding; its lease expired at /);
    expect(failed).toMatchObject({ attempts: 1, lockedUntil: null });
    expect(failed.finishedAt).not.toBeNull();
    await sleep(100);
    expect(runs).toBe(0);
  });

  it('keeps a long job claimed with heartbeats and logs that it runs past its lease', async () => {
    const { log, lines } = capturingLogger();
    const queue = newQueue();
    await startWorker({ queue, log, leaseMs: 150, handlers: { 'test.record': () => sleep(500) } });
    const { id } = await queue.enqueue('test.record', { n: 1 });
    const done = await waitFor(() => jobWithStatus(queue, id, 'succeeded'));
    expect(done.attempts).toBe(1);
    expect(lines.some((line) => line.jobId === id && line.msg.startsWith('job is running longer than its lease'))).toBe(true);
  });

  it('aborts a handler whose lease was taken over and records nothing for it', async () => {
    const queue = newQueue();
    let abortReason: unknown;
    await startWorker({
      leaseMs: 150,
      handlers: {
        'test.block': ({ signal }) =>
          new Promise<void>((resolve) =>
            signal.addEventListener('abort', () => {
              abortReason = signal.reason;
              resolve();
            }),
          ),
      },
    });
    const { id } = await queue.enqueue('test.block', {});
    await waitFor(() => jobWithStatus(queue, id, 'running'));
    // Another worker took the job over (as after a lease expiry while this one was stalled).
    await database.db
      .update(jobs)
      .set({ lockedBy: 'other-worker', lockedUntil: sql`now() + interval '1 minute'` })
      .where(eq(jobs.id, id));
    await waitFor(() => abortReason !== undefined);
    expect(String(abortReason)).toMatch(/lost its lease/);
    await sleep(100);
    expect(await queue.get(id)).toMatchObject({ status: 'running', lockedBy: 'other-worker' });
  });
});

describe('worker lifecycle', () => {
  it('refuses to start without a handler for every kind', () => {
    expect(() => assertEveryKindHasHandler(testJobDefinitions, { 'test.record': doNothing })).toThrow(
      'No job handler registered for: test.block',
    );
    expect(() =>
      createWorker({
        queue: newQueue(),
        handlers: { 'test.record': doNothing } as unknown as JobHandlers<TestDefs>,
        log: silent,
        concurrency: 1,
        pollIntervalMs: 20,
        leaseMs: 1000,
      }),
    ).toThrow(/test\.block/);
  });

  it('registers a handler for every app job kind', () => {
    const services = createContainer(database, loadConfig({ WORKERS: 'off' }), silent);
    expect(() => assertEveryKindHasHandler(services.queue.definitions, services.jobs.handlers)).not.toThrow();
    expect(Object.keys(services.jobs.definitions).sort()).toEqual(Object.keys(services.queue.definitions).sort());
  });

  it('wakes on NOTIFY instead of waiting for the next poll', async () => {
    const ranAt: number[] = [];
    await startWorker({ pollIntervalMs: 60_000, handlers: { 'test.record': async () => void ranAt.push(Date.now()) } });
    await sleep(100); // the first claim pass is over; the worker now sleeps for a minute
    const producer = newQueue({ on: await secondConnection() });
    const enqueuedAt = Date.now();
    await producer.enqueue('test.record', { n: 1 });
    await waitFor(() => ranAt.length > 0, 5000);
    expect(ranAt[0]! - enqueuedAt).toBeLessThan(1000);
  });

  it('waits for running handlers on stop', async () => {
    const queue = newQueue();
    const worker = await startWorker({ queue, handlers: { 'test.record': () => sleep(200) } });
    const { id } = await queue.enqueue('test.record', { n: 1 });
    await waitFor(() => jobWithStatus(queue, id, 'running'));
    await worker.stop({ timeoutMs: 5000 });
    expect(await queue.get(id)).toMatchObject({ status: 'succeeded' });
  });

  it('aborts handlers still running after the stop timeout; another worker reruns them after the lease', async () => {
    const queue = newQueue();
    let aborted = false;
    const worker = await startWorker({
      queue,
      leaseMs: 300,
      handlers: {
        'test.block': ({ signal }) =>
          new Promise<void>((_, reject) =>
            signal.addEventListener('abort', () => {
              aborted = true;
              reject(signal.reason as Error);
            }),
          ),
      },
    });
    const { id } = await queue.enqueue('test.block', {});
    await waitFor(() => jobWithStatus(queue, id, 'running'));
    const stopStarted = Date.now();
    await worker.stop({ timeoutMs: 100 });
    expect(Date.now() - stopStarted).toBeLessThan(1000);
    expect(aborted).toBe(true);
    expect(await queue.get(id)).toMatchObject({ status: 'running', attempts: 1, lastError: null });

    await startWorker({ queue, workerId: 'successor', handlers: { 'test.block': doNothing } });
    expect(await waitFor(() => jobWithStatus(queue, id, 'succeeded'))).toMatchObject({ attempts: 2, lockedBy: 'successor' });
  });
});

describe('housekeeping', () => {
  it('prunes finished jobs older than the cut-off and nothing else', async () => {
    const queue = newQueue();
    const ids: number[] = [];
    for (let n = 0; n < 5; n++) ids.push((await queue.enqueue('test.record', { n })).id);
    const [oldSucceeded, oldFailed, recent, queued, running] = ids as [number, number, number, number, number];
    const eightDaysAgo = sql`now() - interval '8 days'`;
    await database.db.update(jobs).set({ status: 'succeeded', finishedAt: eightDaysAgo }).where(eq(jobs.id, oldSucceeded));
    await database.db.update(jobs).set({ status: 'failed', finishedAt: eightDaysAgo }).where(eq(jobs.id, oldFailed));
    await database.db.update(jobs).set({ status: 'succeeded', finishedAt: sql`now()` }).where(eq(jobs.id, recent));
    await database.db.update(jobs).set({ status: 'running', createdAt: eightDaysAgo }).where(eq(jobs.id, running));

    expect(await queue.pruneFinished(new Date(Date.now() - 7 * 24 * 3600 * 1000))).toBe(2);
    const left = (await database.db.select({ id: jobs.id }).from(jobs)).map((job) => job.id).sort((a, b) => a - b);
    expect(left).toEqual([recent, queued, running].sort((a, b) => a - b));
  });

  it('runs maintenance.purge at worker start and keeps exactly one queued for the next hour', async () => {
    const [user] = await database.db
      .insert(users)
      .values({ uuid: randomUUID(), distinctId: randomUUID(), email: `${randomUUID()}@example.com` })
      .returning({ id: users.id });
    const expired = 'e'.repeat(64);
    const live = 'l'.repeat(64);
    await database.db.insert(sessions).values([
      { id: expired, userId: user!.id, expiresAt: sql`now() - interval '1 minute'` },
      { id: live, userId: user!.id, expiresAt: sql`now() + interval '1 day'` },
    ]);
    const [oldJob] = await database.db
      .insert(jobs)
      .values({ kind: 'maintenance.purge', payload: {}, status: 'succeeded', finishedAt: sql`now() - interval '8 days'` })
      .returning({ id: jobs.id });

    const services = createContainer(database, loadConfig({ WORKERS: 'off' }), silent);
    const worker = await startAppWorker({
      queue: services.queue,
      jobs: services.jobs,
      log: silent,
      settings: { concurrency: 1, pollIntervalMs: 20, leaseMs: 2000 },
    });
    cleanups.push(() => worker.stop({ timeoutMs: 1000 }));

    const purgeJobs = () => database.db.select().from(jobs).where(eq(jobs.kind, 'maintenance.purge'));
    await waitFor(async () => (await purgeJobs()).some((job) => job.status === 'succeeded' && job.id !== oldJob!.id));
    const remainingSessions = await database.db.select({ id: sessions.id }).from(sessions).where(eq(sessions.userId, user!.id));
    expect(remainingSessions.map((session) => session.id)).toEqual([live]);
    expect((await purgeJobs()).some((job) => job.id === oldJob!.id)).toBe(false);

    await services.jobs.schedule();
    const queued = await database.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.kind, 'maintenance.purge'), eq(jobs.status, 'queued')));
    expect(queued).toHaveLength(1);
    expect(queued[0]!.dedupeKey).toBe(MAINTENANCE_PURGE_DEDUPE_KEY);
    const inMs = epochMs(queued[0]!.runAt) - Date.now();
    expect(inMs).toBeGreaterThan(MAINTENANCE_PURGE_INTERVAL_MS - 60_000);
    expect(inMs).toBeLessThanOrEqual(MAINTENANCE_PURGE_INTERVAL_MS);
  });
});

describe.runIf(onPostgres)('a worker process killed mid-job', () => {
  const childScript = fileURLToPath(new URL('../helpers/blocking-job-worker.ts', import.meta.url));

  it('has its job picked up by a worker in another process once its lease expires', async () => {
    const queue = newQueue();
    const { id } = await queue.enqueue('test.block', {});
    const leaseMs = 600;
    const args = ['--import', 'tsx', childScript, await postgresUrlOf(database), 'doomed-worker', String(leaseMs)];
    const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let childLog = '';
    child.stderr!.on('data', (chunk: Buffer) => (childLog += chunk.toString()));
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });

    const claimed = await waitFor(async () => {
      const job = await queue.get(id);
      return job?.status === 'running' && job.lockedBy === 'doomed-worker' && job;
    }, 20_000).catch((error: unknown) => {
      throw new Error(`${String(error)}; child log:\n${childLog}`);
    });
    // While the child lives, its heartbeat keeps the lease beyond the first one.
    await sleep(leaseMs + 300);
    const held = await queue.get(id);
    expect(held).toMatchObject({ status: 'running', lockedBy: 'doomed-worker', attempts: 1 });
    expect(epochMs(held!.lockedUntil!)).toBeGreaterThan(epochMs(claimed.lockedUntil!));

    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    const lastLeaseEnds = epochMs((await queue.get(id))!.lockedUntil!);

    let pickedUpAt = 0;
    await startWorker({ queue, workerId: 'survivor', handlers: { 'test.block': async () => void (pickedUpAt = Date.now()) } });
    const done = await waitFor(() => jobWithStatus(queue, id, 'succeeded'));
    expect(done).toMatchObject({ attempts: 2, lockedBy: 'survivor' });
    expect(done.lastError).toMatch(/^Worker doomed-worker stopped responding/);
    expect(pickedUpAt).toBeGreaterThanOrEqual(lastLeaseEnds - 5);
  });
});
