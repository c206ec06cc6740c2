import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type AnyJobHandler, assertEveryKindHasHandler, type JobHandler } from './registry.js';
import type { Job, JobDefinitions, JobKind, JobLogger, JobQueue } from './queue.js';

/** Throw this from a handler when retrying cannot help (the input is invalid, the object is gone). */
export class NonRetryableJobError extends Error {
  override name = 'NonRetryableJobError';
}

export type WorkerQueue<Defs extends JobDefinitions> = Pick<
  JobQueue<Defs>,
  'definitions' | 'claim' | 'complete' | 'fail' | 'extendLease' | 'onEnqueued'
>;

export interface WorkerOptions<Defs extends JobDefinitions> {
  queue: WorkerQueue<Defs>;
  /** A handler for every kind of the queue's definitions (checked at creation). */
  handlers: Readonly<Partial<Record<JobKind<Defs>, AnyJobHandler>>>;
  log: JobLogger;
  /** Jobs run at once by this worker. */
  concurrency: number;
  /** How often to look for due jobs without a wake-up (scheduled jobs, missed notifications). */
  pollIntervalMs: number;
  /** How long a claim lasts without a heartbeat; a job whose worker died runs again after this. */
  leaseMs: number;
  workerId?: string;
}

export interface StopOptions {
  /** How long to wait for running handlers before aborting them; default 10 s. */
  timeoutMs?: number;
}

export interface Worker {
  readonly id: string;
  /** Resolves once the worker listens for new jobs and has started claiming. */
  start(): Promise<void>;
  /**
   * Stops claiming and waits for running handlers. Past timeoutMs it aborts them and returns without recording
   * their outcome: their leases expire and another worker runs them again.
   */
  stop(opts?: StopOptions): Promise<void>;
}

type Outcome = { ok: true } | { ok: false; error: unknown; retry: boolean };

interface RunningJob {
  done: Promise<void>;
  abandon(): void;
}

const DEFAULT_STOP_TIMEOUT_MS = 10_000;

export function createWorker<Defs extends JobDefinitions>(options: WorkerOptions<Defs>): Worker {
  const { queue, log, concurrency, pollIntervalMs, leaseMs } = options;
  assertEveryKindHasHandler(queue.definitions, options.handlers);
  const id = (options.workerId ?? defaultWorkerId()).slice(0, 100);
  const kinds = Object.keys(queue.definitions) as JobKind<Defs>[];
  const workerLog = log.child({ workerId: id });
  const running = new Set<RunningJob>();

  let state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  let loopDone: Promise<void> = Promise.resolve();
  let unlisten: (() => Promise<void>) | undefined;
  let stopped: Promise<void> | undefined;

  // A wake-up that arrives while the loop is busy claiming is remembered, so none is lost.
  let wakePending = false;
  let interruptSleep: (() => void) | undefined;
  const wakeUp = (): void => {
    wakePending = true;
    interruptSleep?.();
  };
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        interruptSleep = undefined;
        wakePending = false;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      interruptSleep = finish;
      if (wakePending) finish();
    });

  async function claimLoop(): Promise<void> {
    while (state === 'running') {
      const free = concurrency - running.size;
      let mayHaveMore = false;
      if (free > 0) {
        try {
          const claimed = await queue.claim(id, kinds, free, leaseMs);
          for (const job of claimed) track(job);
          mayHaveMore = claimed.length === free;
        } catch (error) {
          workerLog.error({ err: error }, 'claiming jobs failed');
        }
      }
      // With free slots left there is nothing more to claim now; with none, a finishing job wakes the loop.
      if (!mayHaveMore) await sleep(pollIntervalMs);
    }
  }

  function track(job: Job): void {
    const entry = runJob(job);
    running.add(entry);
    void entry.done.finally(() => {
      running.delete(entry);
      wakeUp();
    });
  }

  function runJob(job: Job): RunningJob {
    const jobLog = workerLog.child({ jobId: job.id, kind: job.kind, attempt: job.attempts, requestId: job.requestId ?? undefined });
    const controller = new AbortController();
    const startedAt = Date.now();
    let settled = false;
    let leaseLost = false;
    let abandoned = false;
    let heartbeatTimer: NodeJS.Timeout | undefined;

    const heartbeat = (): void => {
      heartbeatTimer = setTimeout(async () => {
        try {
          const held = await queue.extendLease(job, leaseMs);
          if (settled || abandoned) return;
          if (!held) {
            leaseLost = true;
            jobLog.warn('lost the lease on a running job (another worker may run it); aborting it');
            controller.abort(new Error('The worker lost its lease on this job'));
            return;
          }
        } catch (error) {
          jobLog.warn({ err: error }, 'could not extend the lease; will try again');
        }
        if (!settled && !abandoned) heartbeat();
      }, Math.max(1, Math.floor(leaseMs / 3)));
    };
    const slowTimer = setTimeout(
      () =>
        jobLog.warn(
          { runningMs: Date.now() - startedAt, leaseMs },
          'job is running longer than its lease; the heartbeat keeps it claimed',
        ),
      leaseMs,
    );

    const runHandler = async (): Promise<Outcome> => {
      let payload: unknown;
      try {
        payload = queue.definitions[job.kind]!.parse(job.payload);
      } catch (error) {
        return { ok: false, error, retry: false };
      }
      try {
        // The payload was just parsed with this kind's schema, which is what this kind's handler accepts.
        const handler = options.handlers[job.kind as JobKind<Defs>] as JobHandler<unknown>;
        await handler({ job, payload, signal: controller.signal, log: jobLog });
        return { ok: true };
      } catch (error) {
        return { ok: false, error, retry: !(error instanceof NonRetryableJobError) };
      }
    };

    const execute = async (): Promise<void> => {
      const outcome = await runHandler();
      settled = true;
      clearTimeout(heartbeatTimer);
      clearTimeout(slowTimer);
      if (abandoned || leaseLost) return;

      const durationMs = Date.now() - startedAt;
      try {
        if (outcome.ok) {
          if (await queue.complete(job)) jobLog.info({ durationMs }, 'job succeeded');
          else jobLog.warn({ durationMs }, 'job finished after its lease passed to another worker; its success was not recorded');
          return;
        }
        const recorded = await queue.fail(job, outcome.error, { retry: outcome.retry });
        const retryAt = recorded?.status === 'queued' ? recorded.runAt : undefined;
        jobLog.error(
          { err: outcome.error, durationMs, status: recorded?.status, retryAt },
          !recorded
            ? 'job failed after its lease passed to another worker; the failure was not recorded'
            : recorded.status === 'queued'
              ? 'job failed; it will be retried'
              : 'job failed',
        );
      } catch (error) {
        jobLog.error(
          { err: error, handlerError: outcome.ok ? undefined : outcome.error },
          'could not record the job outcome; it will run again after its lease',
        );
      }
    };

    heartbeat();
    return {
      done: execute(),
      abandon: () => {
        abandoned = true;
        clearTimeout(heartbeatTimer);
        controller.abort(new Error('The worker is shutting down'));
      },
    };
  }

  async function shutDown(timeoutMs: number): Promise<void> {
    state = 'stopping';
    wakeUp();
    await loopDone;
    await unlisten?.().catch((error: unknown) => workerLog.warn({ err: error }, 'could not stop listening for new jobs'));

    let timer: NodeJS.Timeout | undefined;
    const allDone = Promise.all([...running].map((entry) => entry.done)).then(() => true);
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const finished = await Promise.race([allDone, timedOut]);
    clearTimeout(timer);
    if (!finished) {
      const stillRunning = [...running];
      for (const entry of stillRunning) entry.abandon();
      workerLog.warn(
        { jobs: stillRunning.length, timeoutMs },
        'aborted jobs still running at shutdown; they will run again after their lease',
      );
    }
    state = 'stopped';
    workerLog.info('job worker stopped');
  }

  return {
    id,

    async start() {
      if (state !== 'new') throw new Error('A worker can only be started once');
      state = 'running';
      try {
        unlisten = await queue.onEnqueued((kind) => {
          if ((kinds as string[]).includes(kind)) wakeUp();
        });
      } catch (error) {
        workerLog.warn({ err: error }, 'could not listen for new jobs; relying on polling');
      }
      loopDone = claimLoop();
      workerLog.info({ kinds, concurrency, pollIntervalMs, leaseMs }, 'job worker started');
    },

    stop({ timeoutMs = DEFAULT_STOP_TIMEOUT_MS } = {}) {
      if (state === 'new') return Promise.resolve();
      stopped ??= shutDown(timeoutMs);
      return stopped;
    },
  };
}

function defaultWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}
